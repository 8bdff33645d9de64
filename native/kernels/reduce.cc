// Reductions over one axis of a tensor viewed as (outer, dim, inner), softmax/log-softmax over the
// rows of (N, C), and the float64 sum of squares used by gradient clipping.
//
// What it is: entry points that split rows across the thread pool; the vector loops are in
// reduce-simd.inc. Every output element is reduced by one task in a fixed order, so results do not
// depend on the thread count (sum_squares adds fixed-size chunk sums in order for the same reason).
// What it is not: a general reduction engine (no multi-axis reductions, no keepdims logic).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dispatch.h"
#include "kernels.h"
#include "threadpool.h"

namespace vlmc {
#define VLMC_DECLARE_REDUCE                                                                                        \
  void softmax_rows(float* y, const float* x, int64_t C, bool log, int64_t r0, int64_t r1);                        \
  void softmax_backward_rows(float* dx, const float* dy, const float* y, int64_t C, bool log, int64_t r0,          \
                             int64_t r1);                                                                          \
  double sum_squares_chunk(const float* x, int64_t n);                                                             \
  void sum_axis_rows(float* out, const float* x, int64_t dim, int64_t inner, double scale, int64_t o0, int64_t o1);
namespace avx512 {
VLMC_DECLARE_REDUCE
}
namespace avx2 {
VLMC_DECLARE_REDUCE
}
namespace scalar {
VLMC_DECLARE_REDUCE
}
#undef VLMC_DECLARE_REDUCE

namespace {
constexpr int64_t kGrain = 1 << 14;  // elements per task for row loops with an exp per element
}

void softmax_forward(float* y, const float* x, int64_t N, int64_t C, bool log) {
  parallel_for(N, std::max<int64_t>(1, kGrain / std::max<int64_t>(C, 1)),
               [&](int64_t r0, int64_t r1) { VLMC_DISPATCH(softmax_rows, y, x, C, log, r0, r1); });
}

void softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C, bool log) {
  parallel_for(N, std::max<int64_t>(1, kGrain / std::max<int64_t>(C, 1)),
               [&](int64_t r0, int64_t r1) { VLMC_DISPATCH(softmax_backward_rows, dx, dy, y, C, log, r0, r1); });
}

void sum_axis(float* out, const float* x, int64_t outer, int64_t dim, int64_t inner, double scale) {
  if (outer <= 0 || inner <= 0) return;
  const int64_t per_row = std::max<int64_t>(1, dim * inner);
  parallel_for(outer, std::max<int64_t>(1, (4 * kGrain) / per_row),
               [&](int64_t o0, int64_t o1) { VLMC_DISPATCH(sum_axis_rows, out, x, dim, inner, scale, o0, o1); });
}

// Same rule as the TS set: the first maximum wins, and the first NaN wins over everything.
void max_axis(float* out, int32_t* arg, const float* x, int64_t outer, int64_t dim, int64_t inner) {
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) {
      float best = -INFINITY;
      int32_t best_d = 0;
      for (int64_t d = 0; d < dim; d++) {
        const float v = x[(o * dim + d) * inner + i];
        if (v > best || std::isnan(v)) {
          best = v;
          best_d = static_cast<int32_t>(d);
          if (std::isnan(v)) break;
        }
      }
      out[o * inner + i] = best;
      arg[o * inner + i] = best_d;
    }
  }
}

double sum_squares(const float* x, int64_t n) {
  constexpr int64_t kChunk = 1 << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  if (chunks <= 1) return n > 0 ? VLMC_DISPATCH_EXPR(sum_squares_chunk, x, n) : 0.0;
  std::vector<double> part(static_cast<size_t>(chunks));
  parallel_tasks(chunks, [&](int64_t t) {
    const int64_t b = t * kChunk;
    part[t] = VLMC_DISPATCH_EXPR(sum_squares_chunk, x + b, std::min(kChunk, n - b));
  });
  double s = 0;
  for (double p : part) s += p;
  return s;
}

}  // namespace vlmc

#define VLMC_ARCH_BODY "reduce-simd.inc"
#include "arch.h"
