// Element-wise kernels: unary functions and their derivatives, broadcast binary ops, scale-and-shift,
// axpy, strided copy/accumulate, SwiGLU (see Kernels in src/kernels/kernel.ts for each contract).
//
// What it is: the entry points, which pick the instruction set and split long arrays across the
// thread pool; the loops themselves are in elementwise-simd.inc.
// What it is not: broadcasting logic. Callers pass shapes and strides already resolved.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "dispatch.h"
#include "kernels.h"
#include "threadpool.h"

namespace vlmc {
namespace avx512 {
#define VLMC_DECLARE_ELEMENTWISE                                                                                   \
  void unary_chunk(int op, float* out, const float* x, int64_t n);                                                 \
  void unary_backward_chunk(int op, float* dx, const float* dy, const float* x, const float* y, int64_t n);        \
  void swiglu_forward_chunk(float* out, const float* gate, const float* up, int64_t n);                            \
  void swiglu_backward_chunk(float* dgate, float* dup, const float* dout, const float* gate, const float* up,      \
                             int64_t n);                                                                           \
  void affine_chunk(float* out, const float* a, int64_t n, double s, double t);                                    \
  void axpy_chunk(float* out, const float* x, int64_t n, double s);                                                \
  void binary_chunk(int op, float* out, const float* a, const float* b, int ndim, const int32_t* shape,            \
                    const int32_t* sa, const int32_t* sb, int64_t r0, int64_t r1);                                 \
  void copy_strided_chunk(float* out, const float* x, int ndim, const int32_t* shape, const int32_t* xs,           \
                          int64_t r0, int64_t r1);                                                                 \
  void accumulate_strided_chunk(float* out, const float* x, int ndim, const int32_t* shape, const int32_t* os,     \
                                int64_t r0, int64_t r1);
VLMC_DECLARE_ELEMENTWISE
}  // namespace avx512
namespace avx2 {
VLMC_DECLARE_ELEMENTWISE
}  // namespace avx2
namespace scalar {
VLMC_DECLARE_ELEMENTWISE
}  // namespace scalar
#undef VLMC_DECLARE_ELEMENTWISE

namespace {
// Elements per task: memory-bound loops need big chunks to beat the ~1 us pool hand-off; loops
// with an exp/tanh per element pay off sooner.
constexpr int64_t kGrainCheap = 1 << 16;
constexpr int64_t kGrainMath = 1 << 13;

int64_t rows_of(int ndim, const int32_t* shape) {
  int64_t rows = 1;
  for (int d = 0; d < ndim - 1; d++) rows *= shape[d];
  return rows;
}

bool empty_shape(int ndim, const int32_t* shape) {
  for (int d = 0; d < ndim; d++) {
    if (shape[d] <= 0) return true;
  }
  return ndim <= 0;
}
}  // namespace

bool unary_backward_uses_y(int op) {
  return op == kExp || op == kSqrt || op == kSigmoid || op == kTanh || op == kRsqrt;
}

void unary(int op, float* out, const float* x, int64_t n) {
  const int64_t grain = op == kNeg || op == kRelu || op == kAbs || op == kSquare ? kGrainCheap : kGrainMath;
  parallel_for(n, grain, [&](int64_t b, int64_t e) { VLMC_DISPATCH(unary_chunk, op, out + b, x + b, e - b); });
}

void unary_backward(int op, float* dx, const float* dy, const float* x, const float* y, int64_t n) {
  parallel_for(n, kGrainMath, [&](int64_t b, int64_t e) {
    VLMC_DISPATCH(unary_backward_chunk, op, dx + b, dy + b, x + b, unary_backward_uses_y(op) ? y + b : x + b, e - b);
  });
}

void swiglu_forward(float* out, const float* gate, const float* up, int64_t n) {
  parallel_for(n, kGrainMath,
               [&](int64_t b, int64_t e) { VLMC_DISPATCH(swiglu_forward_chunk, out + b, gate + b, up + b, e - b); });
}

void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n) {
  parallel_for(n, kGrainMath, [&](int64_t b, int64_t e) {
    VLMC_DISPATCH(swiglu_backward_chunk, dgate + b, dup + b, dout + b, gate + b, up + b, e - b);
  });
}

void affine(float* out, const float* a, int64_t n, double s, double t) {
  parallel_for(n, kGrainCheap, [&](int64_t b, int64_t e) { VLMC_DISPATCH(affine_chunk, out + b, a + b, e - b, s, t); });
}

void axpy(float* out, const float* x, int64_t n, double s) {
  parallel_for(n, kGrainCheap, [&](int64_t b, int64_t e) { VLMC_DISPATCH(axpy_chunk, out + b, x + b, e - b, s); });
}

void binary(int op, float* out, const float* a, const float* b, int ndim, const int32_t* shape,
            const int32_t* aStrides, const int32_t* bStrides) {
  if (empty_shape(ndim, shape)) return;
  const int64_t inner = shape[ndim - 1];
  parallel_for(rows_of(ndim, shape), std::max<int64_t>(1, kGrainCheap / inner), [&](int64_t r0, int64_t r1) {
    VLMC_DISPATCH(binary_chunk, op, out, a, b, ndim, shape, aStrides, bStrides, r0, r1);
  });
}

void copy_strided(float* out, const float* x, int ndim, const int32_t* shape, const int32_t* xStrides) {
  if (empty_shape(ndim, shape)) return;
  const int64_t inner = shape[ndim - 1];
  parallel_for(rows_of(ndim, shape), std::max<int64_t>(1, kGrainCheap / inner), [&](int64_t r0, int64_t r1) {
    VLMC_DISPATCH(copy_strided_chunk, out, x, ndim, shape, xStrides, r0, r1);
  });
}

// Serial: with zero or overlapping output strides, two rows may add into the same element.
void accumulate_strided(float* out, const float* x, int ndim, const int32_t* shape, const int32_t* outStrides) {
  if (empty_shape(ndim, shape)) return;
  VLMC_DISPATCH(accumulate_strided_chunk, out, x, ndim, shape, outStrides, 0, rows_of(ndim, shape));
}

}  // namespace vlmc

#define VLMC_ARCH_BODY "elementwise-simd.inc"
#include "arch.h"
