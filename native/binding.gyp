{
  "targets": [
    {
      "target_name": "pbrl_gemm",
      "sources": ["gemm.c", "mlp.c", "dense-ops.c", "sac.c"],
      "cflags": ["-O3", "-fPIC", "-ftree-vectorize", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"],
      "libraries": ["-lopenblas"],
      "conditions": [["OS=='linux' and target_arch=='x64'", { "libraries": ["-lmvec"] }]]
    }
  ]
}
