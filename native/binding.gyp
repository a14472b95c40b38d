{
  "targets": [
    {
      "target_name": "recurrent_blas",
      "sources": ["blas.c"],
      "cflags_c": ["-O2", "-std=gnu11", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='mac'", {
          "libraries": ["-framework Accelerate"],
          "xcode_settings": {"OTHER_CFLAGS": ["-O2", "-std=gnu11"]}
        }, {
          "include_dirs": ["/usr/include/openblas", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
