// Run-time choice of instruction set for the kernels (see simd.h for the three namespaces).
//
// The level is detected once (__builtin_cpu_supports, which also checks that the OS saves the
// AVX/AVX-512 register state), can be lowered with env VLMC_SIMD=avx2|scalar or set_simd_level()
// (tests use this to exercise every path on one machine), and is never raised above what the CPU
// supports.
#pragma once

namespace vlmc {

enum class Simd { scalar = 0, avx2 = 1, avx512 = 2 };

Simd simd_level();
/** Sets the level (capped at the detected one) and returns the level now in force. */
Simd set_simd_level(Simd want);
const char* simd_name(Simd s);

}  // namespace vlmc

// Calls ns::fn(args...) for the current level's namespace, e.g. VLMC_DISPATCH(softmax_rows, y, x, N, C).
#if defined(__x86_64__)
#define VLMC_DISPATCH(fn, ...)                           \
  do {                                                   \
    switch (::vlmc::simd_level()) {                      \
      case ::vlmc::Simd::avx512:                         \
        ::vlmc::avx512::fn(__VA_ARGS__);                 \
        break;                                           \
      case ::vlmc::Simd::avx2:                           \
        ::vlmc::avx2::fn(__VA_ARGS__);                   \
        break;                                           \
      default:                                           \
        ::vlmc::scalar::fn(__VA_ARGS__);                 \
    }                                                    \
  } while (0)
#else
#define VLMC_DISPATCH(fn, ...) ::vlmc::scalar::fn(__VA_ARGS__)
#endif

// Expression form: the value of ns::fn(args...) for the current level.
#if defined(__x86_64__)
#define VLMC_DISPATCH_EXPR(fn, ...)                                                                        \
  (::vlmc::simd_level() == ::vlmc::Simd::avx512 ? ::vlmc::avx512::fn(__VA_ARGS__)                           \
   : ::vlmc::simd_level() == ::vlmc::Simd::avx2 ? ::vlmc::avx2::fn(__VA_ARGS__)                             \
                                                : ::vlmc::scalar::fn(__VA_ARGS__))
#else
#define VLMC_DISPATCH_EXPR(fn, ...) ::vlmc::scalar::fn(__VA_ARGS__)
#endif
