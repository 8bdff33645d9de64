// Compiles one body (the file named by VLMC_ARCH_BODY) once per instruction set: into
// vlmc::avx512 and vlmc::avx2 under `#pragma GCC target` (x86-64 only), and into vlmc::scalar as
// plain C++. The body sees that namespace's V/W/vexp... from simd.h, and the compiler also
// auto-vectorises its plain loops for the region's target. Deliberately no include guard.
//
// Usage, at the end of a kernel family's .cc file:
//   #define VLMC_ARCH_BODY "norm-simd.inc"
//   #include "arch.h"
#include "simd.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2")  // = VLMC_TARGET_AVX512
namespace vlmc {
namespace avx512 {
#include VLMC_ARCH_BODY
}  // namespace avx512
}  // namespace vlmc
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,bmi2")  // = VLMC_TARGET_AVX2 (pragmas do not expand macros)
namespace vlmc {
namespace avx2 {
#include VLMC_ARCH_BODY
}  // namespace avx2
}  // namespace vlmc
#pragma GCC pop_options
#endif

namespace vlmc {
namespace scalar {
#include VLMC_ARCH_BODY
}  // namespace scalar
}  // namespace vlmc

#undef VLMC_ARCH_BODY
