// One AdamW step (decoupled weight decay, bias-corrected moments), see Kernels.adamwStep:
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr ((m/bc1) / (sqrt(v/bc2) + eps) + wd p)
//
// What it is: the TS reference's arithmetic, in double with the same operation order (and the
// stored float m, v feeding the update), so both sets agree bit for bit. The loop body is written
// once and compiled for AVX-512, AVX2 and baseline through target-attributed wrappers, so the
// compiler vectorises it for each; chunks are split across the thread pool.
// What it is not: a fused gradient-clipping step (clipping scales g beforehand).
#include <cmath>
#include <cstdint>

#include "dispatch.h"
#include "kernels.h"
#include "simd.h"
#include "threadpool.h"

namespace vlmc {
namespace {

struct AdamW {
  double lr, b1, b2, eps, wd, bc1, bc2;
};

__attribute__((always_inline)) inline void adamw_body(float* p, const float* g, float* m, float* v, int64_t n,
                                                      const AdamW& h) {
  const double c1 = 1.0 - h.b1, c2 = 1.0 - h.b2;
  for (int64_t i = 0; i < n; i++) {
    const double gi = g[i];
    const float mi = static_cast<float>(h.b1 * m[i] + c1 * gi);
    const float vi = static_cast<float>(h.b2 * v[i] + c2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    const double mhat = mi / h.bc1, vhat = vi / h.bc2;
    p[i] = static_cast<float>(p[i] - h.lr * (mhat / (std::sqrt(vhat) + h.eps) + h.wd * p[i]));
  }
}

void adamw_scalar(float* p, const float* g, float* m, float* v, int64_t n, const AdamW& h) {
  adamw_body(p, g, m, v, n, h);
}
#if defined(__x86_64__)
__attribute__((target(VLMC_TARGET_AVX2))) void adamw_avx2(float* p, const float* g, float* m, float* v, int64_t n,
                                                          const AdamW& h) {
  adamw_body(p, g, m, v, n, h);
}
__attribute__((target(VLMC_TARGET_AVX512))) void adamw_avx512(float* p, const float* g, float* m, float* v,
                                                              int64_t n, const AdamW& h) {
  adamw_body(p, g, m, v, n, h);
}
#endif

}  // namespace

void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, double lr, double b1, double b2, double eps,
                double wd, double bc1, double bc2) {
  const AdamW h{lr, b1, b2, eps, wd, bc1, bc2};
  parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    switch (simd_level()) {
#if defined(__x86_64__)
      case Simd::avx512:
        return adamw_avx512(p + b, g + b, m + b, v + b, e - b, h);
      case Simd::avx2:
        return adamw_avx2(p + b, g + b, m + b, v + b, e - b, h);
#endif
      default:
        return adamw_scalar(p + b, g + b, m + b, v + b, e - b, h);
    }
  });
}

}  // namespace vlmc
