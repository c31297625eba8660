{
  "targets": [
    {
      "target_name": "pbrl_gemm",
      "sources": ["gemm.c"],
      "cflags": ["-O3", "-fPIC"],
      "libraries": ["-lopenblas"]
    }
  ]
}
