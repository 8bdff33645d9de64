// The native kernel set as plain C++ functions: one per kernel of src/kernels/kernel.ts, same name
// (snake_case here), same argument order, same contract (the doc comments there are the spec).
//
// What it is: the math, called by addon.cc after it has unwrapped and validated the JS arguments.
// What it is not: input validation. Callers guarantee buffer sizes and index ranges; the functions
// only clamp where clamping is free (attention's keyLo/keyHi) so that bad ranges cannot crash.
// Sizes are int64_t; pointers are borrowed for the duration of the call.
#pragma once

#include <cstdint>

namespace vlmc {

/** Most axes a strided kernel accepts (binary, copyStrided, accumulateStrided). */
constexpr int kMaxDims = 32;

// ------------------------------------------------------------------ matmul (matmul.cc)
void matmul(float* c, const float* a, const float* b, int64_t batch, int64_t M, int64_t N, int64_t K,
            bool transA, bool transB, int64_t strideA, int64_t strideB, float alpha, float beta);

/**
 * Single-threaded strided GEMM used inside other kernels (attention):
 * C = alpha * op(A) op(B) + beta * C with row strides lda/ldb/ldc; beta == 0 ignores C's contents.
 */
void gemm_serial(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb,
                 int64_t M, int64_t N, int64_t K, bool transA, bool transB, float alpha, float beta);

/**
 * Pre-packed B, for many products against one operand (attention's K and V): pack op(B) (K x N)
 * once with pack_b_panels into packed_b_floats(K, N) floats, then gemm_prepacked computes, on one
 * thread, C[:, j0:j1] = alpha * op(A) op(B)[k0:k1, j0:j1] + beta * C[:, j0:j1] for M rows, where
 * j0 is a multiple of 32, `a` points at op(A)(0, k0) and `c` at C(0, j0). The packing depends on the
 * instruction set in use, so pack and multiply within one kernel call.
 */
int64_t packed_b_floats(int64_t K, int64_t N);
void pack_b_panels(float* dst, const float* b, int64_t ldb, bool transB, int64_t K, int64_t N);
void gemm_prepacked(float* c, int64_t ldc, const float* a, int64_t lda, bool transA, const float* packed,
                    int64_t Ktotal, int64_t M, int64_t j0, int64_t j1, int64_t k0, int64_t k1, float alpha,
                    float beta);

// ------------------------------------------------------------------ element-wise (elementwise.cc)
enum UnaryOp : int {
  kExp = 0, kLog, kSqrt, kNeg, kSigmoid, kTanh, kSilu, kGeluTanh, kGeluErf, kRelu, kRsqrt, kAbs, kSquare,
  kUnaryOpCount
};
enum BinaryOp : int { kAdd = 0, kSub, kMul, kDiv, kMax, kMin, kBinaryOpCount };

/** True for the unary ops whose backward reads y = f(x). */
bool unary_backward_uses_y(int op);

void unary(int op, float* out, const float* x, int64_t n);
void unary_backward(int op, float* dx, const float* dy, const float* x, const float* y, int64_t n);
void binary(int op, float* out, const float* a, const float* b, int ndim, const int32_t* shape,
            const int32_t* aStrides, const int32_t* bStrides);
void affine(float* out, const float* a, int64_t n, double s, double t);
void axpy(float* out, const float* x, int64_t n, double s);
void accumulate_strided(float* out, const float* x, int ndim, const int32_t* shape, const int32_t* outStrides);
void copy_strided(float* out, const float* x, int ndim, const int32_t* shape, const int32_t* xStrides);
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n);
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n);

// ------------------------------------------------------------------ reductions, softmax (reduce.cc)
void sum_axis(float* out, const float* x, int64_t outer, int64_t dim, int64_t inner, double scale);
void max_axis(float* out, int32_t* arg, const float* x, int64_t outer, int64_t dim, int64_t inner);
void softmax_forward(float* y, const float* x, int64_t N, int64_t C, bool log);
void softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C, bool log);
double sum_squares(const float* x, int64_t n);

// ------------------------------------------------------------------ norms (norm.cc)
void rms_norm_forward(float* y, float* rstd, const float* x, const float* w, int64_t N, int64_t C, float eps);
void rms_norm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, const float* rstd,
                       int64_t N, int64_t C);
void layer_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* w, const float* b,
                        int64_t N, int64_t C, float eps);
void layer_norm_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                         const float* mean, const float* rstd, int64_t N, int64_t C);

// ------------------------------------------------------------------ RoPE (rope.cc)
void rope(float* out, const float* x, const int32_t* pos, int64_t BT, int64_t NH, int64_t HS, double theta,
          bool inverse);

// ------------------------------------------------------------------ attention (attention.cc)
struct AttentionShape {
  int64_t B, Tq, Tk, NH, NKV, HS;
  float scale;
  bool biasPerQuery;
};
void attention_forward(float* out, float* lse, float* probs, const float* q, const float* k, const float* v,
                       const float* bias, const int32_t* keyLo, const int32_t* keyHi, const AttentionShape& s);
void attention_backward(float* dq, float* dk, float* dv, float* dbias, const float* dout, const float* out,
                        const float* lse, const float* q, const float* k, const float* v, const float* bias,
                        const int32_t* keyLo, const int32_t* keyHi, const AttentionShape& s);

// ------------------------------------------------------------------ gather / scatter (gather.cc)
void gather_rows(float* out, const float* x, const int32_t* idx, int64_t nIdx, int64_t C);
void scatter_add_rows(float* out, const float* x, const int32_t* idx, int64_t nIdx, int64_t C);

// ------------------------------------------------------------------ losses (loss.cc)
void cross_entropy_forward(float* loss, float* lse, const float* logits, const int32_t* targets, int64_t N,
                           int64_t V, int32_t ignoreIndex);
void cross_entropy_backward(float* dlogits, const float* dloss, const float* logits, const float* lse,
                            const int32_t* targets, int64_t N, int64_t V, int32_t ignoreIndex);

// ------------------------------------------------------------------ optimizer (adamw.cc)
void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, double lr, double b1, double b2,
                double eps, double wd, double bc1, double bc2);

}  // namespace vlmc
