// Compiles one body (the file named by VLMC_ARCH_BODY) once per instruction set: into
// vlmc::avx512 and vlmc::avx2 inside target regions (VLMC_PUSH_TARGET_*, x86-64 only), and into
// vlmc::scalar as plain C++. The body sees that namespace's V/W/vexp... from simd.h, and the
// compiler also auto-vectorises its plain loops for the region's target. Deliberately no include
// guard.
//
// Usage, at the end of a kernel family's .cc file:
//   #define VLMC_ARCH_BODY "norm-simd.inc"
//   #include "arch.h"
#include "simd.h"

#if defined(__x86_64__)
VLMC_PUSH_TARGET_AVX512
namespace vlmc {
namespace avx512 {
#include VLMC_ARCH_BODY
}  // namespace avx512
}  // namespace vlmc
VLMC_POP_TARGET

VLMC_PUSH_TARGET_AVX2
namespace vlmc {
namespace avx2 {
#include VLMC_ARCH_BODY
}  // namespace avx2
}  // namespace vlmc
VLMC_POP_TARGET
#endif

namespace vlmc {
namespace scalar {
#include VLMC_ARCH_BODY
}  // namespace scalar
}  // namespace vlmc

#undef VLMC_ARCH_BODY
