/*
 * recurrent's native GEMM provider: a thin Node-API binding over the system BLAS. The only C in the
 * project; everything it does is decided in src/kernels/native/. sgemm runs on the WebAssembly
 * kernels' memory in place: the caller passes a Float32Array over the whole memory and byte
 * addresses in it, and the base pointer is read from that array on every call, because growing the
 * memory may move it. Nothing is copied and nothing is kept between calls.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __APPLE__
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
/* OpenBLAS's own controls; weak, so that another CBLAS links too (then they read as absent). */
extern void openblas_set_num_threads(int) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));
extern char *openblas_get_config(void) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));
#endif

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, NULL, "recurrent native BLAS: " #call " failed"); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

static int get_i64(napi_env env, napi_value v, int64_t *out) { return napi_get_value_int64(env, v, out) == napi_ok; }
static int get_f64(napi_env env, napi_value v, double *out) { return napi_get_value_double(env, v, out) == napi_ok; }
static int get_bool(napi_env env, napi_value v, bool *out) { return napi_get_value_bool(env, v, out) == napi_ok; }

/* Elements spanned by a row-major [rows, cols] matrix with row stride ld. */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0; }

/* Whether the operand op(X) = [rows, cols] (stored transposed when trans) with stride ld, starting at
 * element `at`, lies inside `length` elements, and ld is valid for BLAS. */
static int operand_fits(bool trans, int64_t rows, int64_t cols, int64_t ld, int64_t at, int64_t length) {
  int64_t stored_cols = trans ? rows : cols;
  int64_t stored_rows = trans ? cols : rows;
  if (ld < (stored_cols > 1 ? stored_cols : 1)) return 0;
  return at >= 0 && at + span(stored_rows, stored_cols, ld) <= length;
}

/* The typed array's first element and length, read now (never cached: memory growth moves it). */
static int typed_array(napi_env env, napi_value v, napi_typedarray_type want, void **data, int64_t *length) {
  napi_typedarray_type type;
  size_t count;
  if (napi_get_typedarray_info(env, v, &type, &count, data, NULL, NULL) != napi_ok || type != want) return 0;
  *length = (int64_t)count;
  return 1;
}

/* sgemm's arguments after the memory: (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),
 * where a, b and c are element offsets into the memory. */
typedef struct {
  bool transA, transB;
  int64_t m, n, k, lda, ldb, ldc, a, b, c;
  double alpha, beta;
} gemm_args;

static int read_gemm_args(napi_env env, napi_value *argv, gemm_args *g) {
  return get_bool(env, argv[0], &g->transA) && get_bool(env, argv[1], &g->transB) && get_i64(env, argv[2], &g->m)
      && get_i64(env, argv[3], &g->n) && get_i64(env, argv[4], &g->k) && get_f64(env, argv[5], &g->alpha)
      && get_i64(env, argv[6], &g->a) && get_i64(env, argv[7], &g->lda) && get_i64(env, argv[8], &g->b)
      && get_i64(env, argv[9], &g->ldb) && get_f64(env, argv[10], &g->beta) && get_i64(env, argv[11], &g->c)
      && get_i64(env, argv[12], &g->ldc);
}

/* The bounds of every operand against the length of the array it lies in (sgemm: one memory for
 * all three); a message, or NULL when they fit. */
static const char *check_gemm(const gemm_args *g, int64_t aLength, int64_t bLength, int64_t cLength) {
  const int64_t limit = INT32_MAX;
  if (g->m < 0 || g->n < 0 || g->k < 0 || g->m > limit || g->n > limit || g->k > limit) return "gemm: m, n and k must be in [0, 2^31)";
  if (g->lda > limit || g->ldb > limit || g->ldc > limit) return "gemm: leading dimensions must be below 2^31";
  if (!operand_fits(g->transA, g->m, g->k, g->lda, g->a, aLength)) return "gemm: A does not fit its array (offset, lda or shape)";
  if (!operand_fits(g->transB, g->k, g->n, g->ldb, g->b, bLength)) return "gemm: B does not fit its array (offset, ldb or shape)";
  if (!operand_fits(false, g->m, g->n, g->ldc, g->c, cLength)) return "gemm: C does not fit its array (offset, ldc or shape)";
  return NULL;
}

/* sgemm(memory: Float32Array, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): a, b, c
 * are element offsets in `memory` (the WebAssembly memory's f32 view, shared or not). */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 14) return throw_range(env, "sgemm: expected 14 arguments");
  float *memory;
  int64_t length;
  if (!typed_array(env, argv[0], napi_float32_array, (void **)&memory, &length)) return throw_range(env, "sgemm: memory must be a Float32Array");
  gemm_args g;
  if (!read_gemm_args(env, argv + 1, &g)) return throw_range(env, "sgemm: transA, transB must be booleans and the rest numbers");
  const char *bad = check_gemm(&g, length, length, length);
  if (bad) return throw_range(env, bad);
  if (g.m == 0 || g.n == 0) return NULL;
  cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans, (int)g.m, (int)g.n, (int)g.k,
              (float)g.alpha, memory + g.a, (int)g.lda, memory + g.b, (int)g.ldb, (float)g.beta,
              memory + g.c, (int)g.ldc);
  return NULL;
}

/* dgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc): the
 * float64 product on three Float64Arrays of their own (the float64 path keeps its arrays in the
 * JavaScript heap, not in WebAssembly memory), the argument order of the kernels' gemm. Offsets are in
 * elements of each array; C must not overlap A or B, as BLAS requires. */
static napi_value dgemm(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 16) return throw_range(env, "dgemm: expected 16 arguments");
  gemm_args g;
  double *a, *b, *c;
  int64_t aLength, bLength, cLength;
  if (!get_bool(env, argv[0], &g.transA) || !get_bool(env, argv[1], &g.transB) || !get_i64(env, argv[2], &g.m) || !get_i64(env, argv[3], &g.n)
      || !get_i64(env, argv[4], &g.k) || !get_f64(env, argv[5], &g.alpha) || !get_i64(env, argv[7], &g.a) || !get_i64(env, argv[8], &g.lda)
      || !get_i64(env, argv[10], &g.b) || !get_i64(env, argv[11], &g.ldb) || !get_f64(env, argv[12], &g.beta) || !get_i64(env, argv[14], &g.c)
      || !get_i64(env, argv[15], &g.ldc)) {
    return throw_range(env, "dgemm: transA, transB must be booleans and the rest numbers");
  }
  if (!typed_array(env, argv[6], napi_float64_array, (void **)&a, &aLength)) return throw_range(env, "dgemm: a must be a Float64Array");
  if (!typed_array(env, argv[9], napi_float64_array, (void **)&b, &bLength)) return throw_range(env, "dgemm: b must be a Float64Array");
  if (!typed_array(env, argv[13], napi_float64_array, (void **)&c, &cLength)) return throw_range(env, "dgemm: c must be a Float64Array");
  const char *bad = check_gemm(&g, aLength, bLength, cLength);
  if (bad) return throw_range(env, bad);
  if (g.m == 0 || g.n == 0) return NULL;
  cblas_dgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans, (int)g.m, (int)g.n, (int)g.k,
              g.alpha, a + g.a, (int)g.lda, b + g.b, (int)g.ldb, g.beta, c + g.c, (int)g.ldc);
  return NULL;
}

/* setThreads(n): the BLAS's own thread count, where it lets us set it; returns the count in effect
 * (0 when the library does not say). */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int64_t threads = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || !get_i64(env, argv[0], &threads) || threads < 1 || threads > 1024) return throw_range(env, "setThreads: expected a count from 1 to 1024");
  int now = 0;
#ifndef __APPLE__
  if (openblas_set_num_threads) openblas_set_num_threads((int)threads);
  if (openblas_get_num_threads) now = openblas_get_num_threads();
#endif
  CHECK(napi_create_int32(env, now, &result));
  return result;
}

/* describe(): which library runs the products, for `recurrent info`. */
static napi_value describe(napi_env env, napi_callback_info info) {
  (void)info;
  char text[512];
#ifdef __APPLE__
  snprintf(text, sizeof text, "Accelerate");
#else
  if (openblas_get_config) {
    snprintf(text, sizeof text, "%s%s%s", openblas_get_config(), openblas_get_corename ? ", core " : "",
             openblas_get_corename ? openblas_get_corename() : "");
  } else {
    snprintf(text, sizeof text, "CBLAS");
  }
#endif
  napi_value result;
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result));
  return result;
}

/*
 * The FMA ceiling of one core for bench/gemm.mjs: CHAINS independent multiply-add chains over
 * 16-float vectors, built for the widest vector unit present (the compiler picks one clone at load
 * time). Returns the flops done; the caller times the call.
 */
#define CHAINS 12
typedef float vec16 __attribute__((vector_size(64)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "arch=haswell", "default")))
#endif
static float fma_chains(int64_t iterations, float seed) {
  vec16 acc[CHAINS];
  vec16 scale, shift;
  for (int lane = 0; lane < 16; lane++) {
    scale[lane] = seed;
    shift[lane] = 1.0f - seed;
  }
  for (int j = 0; j < CHAINS; j++) acc[j] = scale * (float)(j + 1);
  for (int64_t i = 0; i < iterations; i++) {
    /* Unrolled, so the chains live in registers rather than in memory. */
#pragma GCC unroll 16
    for (int j = 0; j < CHAINS; j++) acc[j] = acc[j] * scale + shift;
  }
  float sum = 0;
  for (int j = 0; j < CHAINS; j++)
    for (int lane = 0; lane < 16; lane++) sum += acc[j][lane];
  return sum;
}

static napi_value peak_loop(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int64_t iterations = 0;
  double seed = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 2 || !get_i64(env, argv[0], &iterations) || !get_f64(env, argv[1], &seed) || iterations < 0) {
    return throw_range(env, "peakLoop: expected (iterations >= 0, seed)");
  }
  volatile float sink = fma_chains(iterations, (float)seed);
  (void)sink;
  CHECK(napi_create_double(env, (double)iterations * CHAINS * 16 * 2, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
    {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
    {"dgemm", NULL, dgemm, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
    {"describe", NULL, describe, NULL, NULL, NULL, napi_default, NULL},
    {"peakLoop", NULL, peak_loop, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
