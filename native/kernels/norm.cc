// RMSNorm and LayerNorm over the last axis of (N, C), forward and backward (see Kernels in
// src/kernels/kernel.ts). Loops live in norm-simd.inc.
//
// Backward runs in two passes so that no two tasks write the same element: dx by row blocks, then
// dw/db by column blocks (each column summed over all rows, in row order). Results therefore do not
// depend on the thread count. What it is not: a fused residual-add + norm.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "dispatch.h"
#include "kernels.h"
#include "threadpool.h"

namespace vlmc {
#define VLMC_DECLARE_NORM                                                                                          \
  void rms_forward_rows(float* y, float* rstd, const float* x, const float* w, int64_t C, float eps, int64_t r0,   \
                        int64_t r1);                                                                               \
  void rms_backward_rows(float* dx, const float* dy, const float* x, const float* w, const float* rstd, int64_t C, \
                         int64_t r0, int64_t r1);                                                                  \
  void layer_forward_rows(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,      \
                          int64_t C, float eps, int64_t r0, int64_t r1);                                           \
  void layer_backward_rows(float* dx, const float* dy, const float* x, const float* w, const float* mean,          \
                           const float* rstd, int64_t C, int64_t r0, int64_t r1);                                  \
  void norm_param_grads(float* dw, float* db, const float* dy, const float* x, const float* mean,                  \
                        const float* rstd, int64_t N, int64_t C, int64_t c0, int64_t c1);
namespace avx512 {
VLMC_DECLARE_NORM
}
namespace avx2 {
VLMC_DECLARE_NORM
}
namespace scalar {
VLMC_DECLARE_NORM
}
#undef VLMC_DECLARE_NORM

namespace {
constexpr int64_t kGrain = 1 << 15;  // elements per task

int64_t row_grain(int64_t C) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(C, 1)); }

// dw/db by blocks of 64 columns; worth splitting only when there is enough work.
void param_grads(float* dw, float* db, const float* dy, const float* x, const float* mean, const float* rstd,
                 int64_t N, int64_t C) {
  constexpr int64_t kCols = 64;
  const int64_t blocks = (C + kCols - 1) / kCols;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(N * kCols, 1));
  parallel_for(blocks, grain, [&](int64_t b0, int64_t b1) {
    VLMC_DISPATCH(norm_param_grads, dw, db, dy, x, mean, rstd, N, C, b0 * kCols, std::min(C, b1 * kCols));
  });
}
}  // namespace

void rms_norm_forward(float* y, float* rstd, const float* x, const float* w, int64_t N, int64_t C, float eps) {
  parallel_for(N, row_grain(C),
               [&](int64_t r0, int64_t r1) { VLMC_DISPATCH(rms_forward_rows, y, rstd, x, w, C, eps, r0, r1); });
}

void rms_norm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, const float* rstd,
                       int64_t N, int64_t C) {
  parallel_for(N, row_grain(C),
               [&](int64_t r0, int64_t r1) { VLMC_DISPATCH(rms_backward_rows, dx, dy, x, w, rstd, C, r0, r1); });
  param_grads(dw, nullptr, dy, x, nullptr, rstd, N, C);
}

void layer_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                        int64_t N, int64_t C, float eps) {
  parallel_for(N, row_grain(C), [&](int64_t r0, int64_t r1) {
    VLMC_DISPATCH(layer_forward_rows, y, mean, rstd, x, w, b, C, eps, r0, r1);
  });
}

void layer_norm_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                         const float* mean, const float* rstd, int64_t N, int64_t C) {
  parallel_for(N, row_grain(C), [&](int64_t r0, int64_t r1) {
    VLMC_DISPATCH(layer_backward_rows, dx, dy, x, w, mean, rstd, C, r0, r1);
  });
  param_grads(dw, db, dy, x, mean, rstd, N, C);
}

}  // namespace vlmc

#define VLMC_ARCH_BODY "norm-simd.inc"
#include "arch.h"
