/**
 * Getting a kernel call's arrays into linear memory. Arrays that already live there (from
 * allocate()) pass by address; any other typed array is copied into a scratch block before the call
 * and, if the kernel writes it, copied back after.
 *
 * Each kernel declares its arrays once, with kernelArgs(): for each, its name, its length as a
 * function of the call's sizes (named scalars), and its access. A call then runs
 *
 *   const p = stage.begin(SPEC, ...sizes).arg(x, xOffset).arg(y, yOffset).bind();
 *   w.kernel(..., p[0], p[1]);
 *   stage.finish();
 *
 * Order matters, and it is kept here rather than in each kernel: growing a plain (non-shared) memory
 * detaches every view over its old buffer (whose byteOffset then reads 0), so arg() takes each
 * resident array's address while the caller's views are still attached, and only bind(), once every
 * address is known, finds room for the copies and for any scratch the spec asks for, which may grow
 * the memory. What a kernel gets back is addresses, never views.
 *
 * Nothing here allocates per call on the resident path: a spec precomputes its tables once, sizes
 * travel through one Float64Array (which each spec's named getters read), and a call's addresses
 * come back in an array kept per spec.
 */
import type { FloatArray } from '../contract.js';
import type { LinearMemory } from './memory.js';
import { alignUp } from './memory.js';

/** Arrays a kernel takes: float32 and int32 (float64 ones only reach here as a caller's error). */
export type Staged = FloatArray | Int32Array;

/** The scalar sizes of one call by name (read-only views of what begin() was given). */
export type Sizes<Names extends readonly string[]> = { readonly [K in Names[number]]: number };

/** How many elements of an argument the kernel may touch, from the call's sizes. */
type Length<Names extends readonly string[]> = (sizes: Sizes<Names>) => number;

/** How an argument is used: whether a copy of a non-resident array goes in before the call and comes
 * back after it; `overwrittenWhen` lifts the copy in for calls that write every element first. */
interface Arg<Names extends readonly string[]> {
  readonly length: Length<Names>;
  readonly copyIn: boolean;
  readonly copyBack: boolean;
  readonly overwrittenWhen: ((sizes: Sizes<Names>) => boolean) | null;
  /** Not an array of the caller's: room the kernel needs for the call only, placed by bind(). */
  readonly scratch: boolean;
}

const argOf = <Names extends readonly string[]>(
  length: Length<Names>, copyIn: boolean, copyBack: boolean, overwrittenWhen: Arg<Names>['overwrittenWhen'] = null, scratch = false,
): Arg<Names> => ({ length, copyIn, copyBack, overwrittenWhen, scratch });

/** Read only. */
export const read = <Names extends readonly string[]>(length: Length<Names>): Arg<Names> => argOf(length, true, false);
/** Written; a copy still goes in, so that the elements the kernel leaves alone come back unchanged. */
export const write = <Names extends readonly string[]>(length: Length<Names>): Arg<Names> => argOf(length, true, true);
/** Read and written in place. */
export const readWrite = <Names extends readonly string[]>(length: Length<Names>): Arg<Names> => argOf(length, true, true);
/** Every element written before any is read, so nothing is copied in; with `when`, only in the calls
 * for which it holds (read and written in place in the others). */
export const overwrite = <Names extends readonly string[]>(
  length: Length<Names>, when?: (sizes: Sizes<Names>) => boolean,
): Arg<Names> => argOf(length, when !== undefined, true, when ?? null);
/** Scratch floats for the call (after the arrays in the spec; its address follows theirs). */
export const scratch = <Names extends readonly string[]>(length: Length<Names>): Arg<Names> => argOf(length, false, false, null, true);

/** Elements up to which a copy is a loop: creating a subarray view for set() costs about as much as
 * copying 30 floats one by one (measured on Node 20). */
const SHORT_COPY = 16;

/** dst[to..] = src[from..] over `length` elements, creating no view for short runs or whole arrays.
 * A float copied by the loop keeps its bits, except that V8's unoptimized code quiets a signaling
 * NaN (as any arithmetic on it would). */
function copyElements(src: Staged, from: number, dst: Staged, to: number, length: number): void {
  if (length <= SHORT_COPY) {
    for (let j = 0; j < length; j++) dst[to + j] = src[from + j]!;
  } else if (from === 0 && length === src.length) {
    dst.set(src, to);
  } else {
    dst.set(src.subarray(from, from + length), to);
  }
}

const MAX_SIZES = 10;
const MAX_ADDRESSES = 14;

/** The sizes of the call being staged, in its spec's order. One buffer for every Staging: calls do
 * not nest, and each begin() writes all of them. */
const callSizes = new Float64Array(MAX_SIZES);

let specs = 0;

/** One kernel's arguments, compiled once from kernelArgs(). */
export class KernelArgs<Names extends readonly string[]> {
  readonly id = specs++;
  /** The arrays' and then the scratch blocks' names, in the kernel's order. */
  readonly names: readonly string[];
  /** How many arrays a call passes with arg(). */
  readonly arrays: number;
  /** The sizes by name: getters over callSizes. */
  readonly sizes: Sizes<Names>;
  readonly lengths: readonly Length<readonly string[]>[];
  readonly copyIn: Uint8Array;
  readonly copyBack: Uint8Array;
  readonly overwrittenWhen: readonly (((sizes: Sizes<readonly string[]>) => boolean) | null)[];

  constructor(readonly kernel: string, sizeNames: Names, args: Record<string, Arg<Names>>) {
    const entries = Object.entries(args);
    const arrays = entries.findIndex(([, a]) => a.scratch);
    this.arrays = arrays < 0 ? entries.length : arrays;
    if (entries.slice(this.arrays).some(([, a]) => !a.scratch)) throw new Error(`${kernel}: scratch comes after the arrays`);
    if (sizeNames.length > MAX_SIZES || entries.length > MAX_ADDRESSES) throw new Error(`${kernel}: too many sizes or arguments`);
    this.names = entries.map(([name]) => name);
    // An object of a class of its own: specs that name the same size would otherwise add different
    // getters along the same map transitions from {}, which sends V8 to dictionary mode, where the
    // getters are called rather than inlined into the length functions.
    const sizes = new (class {})();
    sizeNames.forEach((name, i) => Object.defineProperty(sizes, name, { get: () => callSizes[i]!, enumerable: true }));
    this.sizes = sizes as Sizes<Names>;
    // Stored against any sizes: a spec's functions only ever see its own sizes object.
    const loose = entries.map(([, a]) => a as unknown as Arg<readonly string[]>);
    this.lengths = loose.map((a) => a.length);
    this.copyIn = Uint8Array.from(loose, (a) => +a.copyIn);
    this.copyBack = Uint8Array.from(loose, (a) => +a.copyBack);
    this.overwrittenWhen = loose.map((a) => a.overwrittenWhen);
  }
}

/**
 * A kernel's arguments: `sizes` names the scalars its lengths depend on (begin() takes them in this
 * order), `args` its arrays in the order of the kernel's parameters, then any scratch it needs.
 */
export const kernelArgs = <const Names extends readonly string[]>(
  kernel: string, sizes: Names, args: Record<string, NoInfer<Arg<Names>>>,
): KernelArgs<Names> => new KernelArgs(kernel, sizes, args);

/** One number per size name. */
type SizeValues<Names extends readonly string[]> = { [K in keyof Names]: number };

/** A call's addresses in its spec's order (arrays, then scratch). Typed with room for the longest
 * spec; a kernel reads as many as its spec lists, and the array is exactly that long. */
export type Addresses = readonly [number, number, number, number, number, number, number, number, number, number, number, number, ...number[]];

/** Stands for "no call begun" (its lengths are never called). */
const NO_CALL = new KernelArgs('(no call)', [], {});

export class Staging {
  private spec: KernelArgs<readonly string[]> = NO_CALL;
  private count = 0;
  private addresses: number[] = [];
  private readonly addressesBySpec: number[][] = [];
  // The call's non-resident arrays, in arg() order, and the bytes their copies take.
  private copies = 0;
  private copyBytes = 0;
  private readonly copyArrays: (Staged | null)[] = new Array<Staged | null>(MAX_ADDRESSES).fill(null);
  private readonly copyArg = new Uint8Array(MAX_ADDRESSES);
  private readonly copyOffset = new Float64Array(MAX_ADDRESSES);
  private readonly copyLength = new Float64Array(MAX_ADDRESSES);
  private readonly scratchBytesOf = new Float64Array(MAX_ADDRESSES);
  private scratchBlock = 0;
  private scratchBytes = 0;

  constructor(private readonly heap: LinearMemory) {}

  /** Starts a call of `spec`'s kernel with its sizes. */
  begin<Names extends readonly string[]>(spec: KernelArgs<Names>, ...sizes: SizeValues<Names>): this;
  begin(spec: KernelArgs<readonly string[]>, s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0, s9 = 0): this {
    if (this.copies > 0) this.forgetCopies(); // an earlier call stopped by an exception
    callSizes[0] = s0;
    callSizes[1] = s1;
    callSizes[2] = s2;
    callSizes[3] = s3;
    callSizes[4] = s4;
    callSizes[5] = s5;
    callSizes[6] = s6;
    callSizes[7] = s7;
    callSizes[8] = s8;
    callSizes[9] = s9;
    this.spec = spec;
    this.count = 0;
    this.copyBytes = 0;
    this.addresses = this.addressesBySpec[spec.id] ??= new Array<number>(spec.names.length).fill(0);
    return this;
  }

  /**
   * The next array of the call, from element `offset` (null: an absent optional argument, address 0).
   * A resident array's address is taken now, before bind() may grow the memory.
   */
  arg(array: Staged | null, offset = 0): this {
    const spec = this.spec;
    const i = this.count++;
    if (i >= spec.arrays) throw new Error(`${spec.kernel}: more arrays than its ${spec.arrays} (${spec.names.join(', ')})`);
    if (array === null) {
      this.addresses[i] = 0;
      return this;
    }
    const length = spec.lengths[i]!(spec.sizes);
    if (!(length > 0)) {
      this.addresses[i] = 0;
      return this;
    }
    if (offset < 0 || offset + length > array.length) throw this.tooShort(i, array, offset, length);
    if (this.heap.owns(array.buffer)) {
      this.addresses[i] = array.byteOffset + offset * 4;
    } else {
      const c = this.copies++;
      this.copyArrays[c] = array;
      this.copyArg[c] = i;
      this.copyOffset[c] = offset;
      this.copyLength[c] = length;
      this.copyBytes += alignUp(length * 4);
    }
    return this;
  }

  /** Every address of the call: copies and scratch get theirs now, after every resident one is
   * known. Valid until this kernel's next call. */
  bind(): Addresses {
    const spec = this.spec;
    if (this.count !== spec.arrays) throw new Error(`${spec.kernel}: ${this.count} arrays given, its spec lists ${spec.arrays}`);
    if (this.copies > 0 || spec.arrays < spec.names.length) this.placeCopiesAndScratch();
    return this.addresses as unknown as Addresses;
  }

  /** Copies written non-resident arrays back and forgets the call's arrays. */
  finish(): void {
    const spec = this.spec;
    for (let c = 0; c < this.copies; c++) {
      const array = this.copyArrays[c]!;
      const i = this.copyArg[c]!;
      if (spec.copyBack[i]) {
        const heap = array instanceof Int32Array ? this.heap.i32() : this.heap.f32();
        copyElements(heap, this.addresses[i]! >>> 2, array, this.copyOffset[c]!, this.copyLength[c]!);
      }
      this.copyArrays[c] = null;
    }
    this.copies = 0;
  }

  private placeCopiesAndScratch(): void {
    const spec = this.spec;
    const addresses = this.addresses;
    const total = spec.names.length;
    const scratchBytes = this.scratchBytesOf;
    let need = this.copyBytes;
    for (let i = spec.arrays; i < total; i++) {
      scratchBytes[i] = alignUp(Math.max(0, spec.lengths[i]!(spec.sizes)) * 4);
      need += scratchBytes[i]!;
    }
    // The call's one allocation, after every resident address was taken.
    if (need > this.scratchBytes) this.growScratch(need);
    let cursor = this.scratchBlock;
    for (let c = 0; c < this.copies; c++) {
      const array = this.copyArrays[c]!;
      const i = this.copyArg[c]!;
      const offset = this.copyOffset[c]!;
      const length = this.copyLength[c]!;
      addresses[i] = cursor;
      const overwritten = spec.overwrittenWhen[i];
      if (overwritten ? !overwritten(spec.sizes) : spec.copyIn[i]) {
        const heap = array instanceof Int32Array ? this.heap.i32() : this.heap.f32();
        copyElements(array, offset, heap, cursor >>> 2, length);
      }
      cursor += alignUp(length * 4);
    }
    for (let i = spec.arrays; i < total; i++) {
      addresses[i] = cursor;
      cursor += scratchBytes[i]!;
    }
  }

  private tooShort(i: number, array: Staged, offset: number, length: number): RangeError {
    const hint = array.length === 0
      ? ' (an empty array here is often a view of wasm memory taken before it grew: call buffer.view() again)'
      : '';
    return new RangeError(
      `${this.spec.kernel}: ${this.spec.names[i]} needs elements [${offset}, ${offset + length}) but its array has length ${array.length}${hint}`,
    );
  }

  private forgetCopies(): void {
    this.copyArrays.fill(null);
    this.copies = 0;
  }

  private growScratch(need: number): void {
    if (this.scratchBytes > 0) this.heap.release(this.scratchBlock, this.scratchBytes);
    const bytes = Math.max(need, this.scratchBytes * 2);
    this.scratchBlock = this.heap.alloc(bytes);
    this.scratchBytes = bytes;
  }
}
