# Builds the native kernel set (vlmc_native.node) with node-gyp, offline, against Node's headers.
# No -march flag: the baseline is plain x86-64 (or the host's default elsewhere); the AVX2 and
# AVX-512 code paths are compiled through per-function / per-region target attributes and chosen
# at run time (native/kernels/dispatch.cc).
{
  "targets": [
    {
      "target_name": "vlmc_native",
      "sources": [
        "addon.cc",
        "kernels/adamw.cc",
        "kernels/attention.cc",
        "kernels/dispatch.cc",
        "kernels/elementwise.cc",
        "kernels/gather.cc",
        "kernels/loss.cc",
        "kernels/matmul.cc",
        "kernels/norm.cc",
        "kernels/reduce.cc",
        "kernels/rope.cc",
        "kernels/threadpool.cc"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-O2", "-O0", "-g"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-fno-rtti"],
      # -ffp-contract=off: a*b+c stays two roundings unless the code asks for an FMA, so plain loops
      #   give the same bits as the TS reference (and on every instruction set).
      # -fno-math-errno: lets sqrt compile to one instruction (and vectorise).
      "cflags_cc": ["-std=c++17", "-O3", "-fno-exceptions", "-fvisibility=hidden", "-ffp-contract=off",
                    "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno"]
      }
    }
  ]
}
