// Row-wise cross-entropy with an ignore index, forward and backward (see Kernels in
// src/kernels/kernel.ts). Rows are split across the thread pool; the loops are in loss-simd.inc.
// What it is not: label smoothing or a fused LM-head + loss (the logits are materialised).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "dispatch.h"
#include "kernels.h"
#include "threadpool.h"

namespace vlmc {
#define VLMC_DECLARE_LOSS                                                                                          \
  void cross_entropy_rows(float* loss, float* lse, const float* logits, const int32_t* targets, int64_t V,         \
                          int32_t ignoreIndex, int64_t r0, int64_t r1);                                            \
  void cross_entropy_backward_rows(float* dlogits, const float* dloss, const float* logits, const float* lse,      \
                                   const int32_t* targets, int64_t V, int32_t ignoreIndex, int64_t r0, int64_t r1);
namespace avx512 {
VLMC_DECLARE_LOSS
}
namespace avx2 {
VLMC_DECLARE_LOSS
}
namespace scalar {
VLMC_DECLARE_LOSS
}
#undef VLMC_DECLARE_LOSS

namespace {
int64_t row_grain(int64_t V) { return std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(V, 1)); }
}  // namespace

void cross_entropy_forward(float* loss, float* lse, const float* logits, const int32_t* targets, int64_t N,
                           int64_t V, int32_t ignoreIndex) {
  parallel_for(N, row_grain(V), [&](int64_t r0, int64_t r1) {
    VLMC_DISPATCH(cross_entropy_rows, loss, lse, logits, targets, V, ignoreIndex, r0, r1);
  });
}

void cross_entropy_backward(float* dlogits, const float* dloss, const float* logits, const float* lse,
                            const int32_t* targets, int64_t N, int64_t V, int32_t ignoreIndex) {
  parallel_for(N, row_grain(V), [&](int64_t r0, int64_t r1) {
    VLMC_DISPATCH(cross_entropy_backward_rows, dlogits, dloss, logits, lse, targets, V, ignoreIndex, r0, r1);
  });
}

}  // namespace vlmc

#define VLMC_ARCH_BODY "loss-simd.inc"
#include "arch.h"
