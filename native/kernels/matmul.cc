// Batched SGEMM: C = alpha * op(A) op(B) + beta * C (see Kernels.matmul in src/kernels/kernel.ts).
//
// What it is: a BLIS-style blocked GEMM. For each (NC columns) x (KC depth) block, op(B) is packed
// into NR-wide column panels (shared by all threads), then tasks over (row block x column chunk) pack
// their rows of op(A) into MR-tall panels and run a register-tiled micro-kernel over every
// MR x NR tile. Packing reads A and B in whatever layout they have, so A.B, A.B^T, A^T.B and A^T.B^T
// all feed the same micro-kernel; a transpose only changes the packing loops.
//   micro-kernels: AVX-512 14x32 (28 zmm accumulators), AVX2+FMA 6x16, portable 4x16.
// Edge tiles (sizes that are not multiples of MR/NR) are zero-padded when packing and written back
// with masks/row counts, so any M, N, K >= 0 works.
// Products with M <= 4 rows (decoding, GEMV-like) skip packing and take the direct path of
// matmul-simd.inc: there, packing B would cost as much as the arithmetic.
// What it is not: a general BLAS (no complex types, no arbitrary strides in the public entry point;
// gemm_serial takes row strides for other kernels' use).
//
// Each C element is summed in the same k order whatever the thread split, so results do not depend
// on the thread count.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dispatch.h"
#include "kernels.h"
#include "scratch.h"
#include "simd.h"
#include "threadpool.h"

namespace vlmc {

// Direct paths for M <= 4 (matmul-simd.inc).
#if defined(__x86_64__)
namespace avx512 {
bool gemm_small_m(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t M,
                  int64_t N, int64_t K, bool transA, bool transB, float alpha, float beta);
}
namespace avx2 {
bool gemm_small_m(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t M,
                  int64_t N, int64_t K, bool transA, bool transB, float alpha, float beta);
}
#endif
namespace scalar {
bool gemm_small_m(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t M,
                  int64_t N, int64_t K, bool transA, bool transB, float alpha, float beta);
}

namespace {

// ------------------------------------------------------------------------------- micro-kernels
// Contract: Ap holds kc groups of MR floats (one per row), Bp kc groups of NR floats (one per
// column). Computes the MR x NR product and writes its top-left mr x nr corner to C:
//   C = alpha * AB + beta * C  (beta == 0: C is not read, so NaN/garbage in C is ignored).
using MicroKernel = void (*)(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int64_t mr,
                             int64_t nr, float alpha, float beta);

struct Arch {
  int MR, NR;
  MicroKernel kernel;
};

template <int MR, int NR>
void ukernel_portable(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int64_t mr, int64_t nr,
                      float alpha, float beta) {
  float acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; k++, Ap += MR, Bp += NR) {
    for (int r = 0; r < MR; r++) {
      for (int j = 0; j < NR; j++) acc[r][j] += Ap[r] * Bp[j];
    }
  }
  for (int64_t r = 0; r < mr; r++) {
    float* c = C + r * ldc;
    for (int64_t j = 0; j < nr; j++) c[j] = alpha * acc[r][j] + (beta == 0.0f ? 0.0f : beta * c[j]);
  }
}

#if defined(__x86_64__)
// AVX2: 6 rows x 2 ymm = 12 accumulators + 2 B vectors + 1 broadcast (of 16 registers).
__attribute__((target(VLMC_TARGET_AVX2))) void ukernel_avx2_6x16(int64_t kc, const float* Ap, const float* Bp,
                                                                 float* C, int64_t ldc, int64_t mr, int64_t nr,
                                                                 float alpha, float beta) {
  constexpr int MR = 6;
  // Every loop over the rows is unrolled, so each c0[r], c1[r] index is a constant: otherwise GCC
  // keeps the accumulators in memory and stores all 12 on every step of the k loop (half the speed).
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm256_setzero_ps();
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; k++, Ap += MR, Bp += 16) {
    const __m256 b0 = _mm256_loadu_ps(Bp), b1 = _mm256_loadu_ps(Bp + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
      const __m256 a = _mm256_broadcast_ss(Ap + r);
      c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
    }
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<int64_t>(nr, 8))), iota);
  const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(nr - 8)), iota);
  const bool whole = nr == 16;  // whole rows take plain loads and stores: AMD microcodes the masked ones
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) {
    if (r >= mr) break;
    float* c = C + r * ldc;
    __m256 y0 = _mm256_mul_ps(va, c0[r]), y1 = _mm256_mul_ps(va, c1[r]);
    if (beta != 0.0f) {
      y0 = _mm256_fmadd_ps(vb, whole ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, m0), y0);
      y1 = _mm256_fmadd_ps(vb, whole ? _mm256_loadu_ps(c + 8) : _mm256_maskload_ps(c + 8, m1), y1);
    }
    if (whole) {
      _mm256_storeu_ps(c, y0);
      _mm256_storeu_ps(c + 8, y1);
    } else {
      _mm256_maskstore_ps(c, m0, y0);
      _mm256_maskstore_ps(c + 8, m1, y1);
    }
  }
}

// AVX-512: MR rows x 2 zmm (32 columns). MR = 14 uses 28 accumulators + 2 B vectors + 1 broadcast of
// the 32 zmm registers, and keeps ~2 loads per 2 FMAs, well under the load ports' limit.
template <int MR>
__attribute__((target(VLMC_TARGET_AVX512))) void ukernel_avx512(int64_t kc, const float* Ap, const float* Bp,
                                                                float* C, int64_t ldc, int64_t mr, int64_t nr,
                                                                float alpha, float beta) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; k++, Ap += MR, Bp += 32) {
    const __m512 b0 = _mm512_loadu_ps(Bp), b1 = _mm512_loadu_ps(Bp + 16);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      const __m512 a = _mm512_set1_ps(Ap[r]);
      c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const __mmask16 m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1u);
  const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : static_cast<__mmask16>((1u << (nr - 16)) - 1u);
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) {
    if (r >= mr) break;
    float* c = C + r * ldc;
    __m512 y0 = _mm512_mul_ps(va, c0[r]), y1 = _mm512_mul_ps(va, c1[r]);
    if (beta != 0.0f) {
      y0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c), y0);
      y1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + 16), y1);
    }
    _mm512_mask_storeu_ps(c, m0, y0);
    _mm512_mask_storeu_ps(c + 16, m1, y1);
  }
}
#endif

Arch current_arch() {
  switch (simd_level()) {
#if defined(__x86_64__)
    case Simd::avx512:
      return {14, 32, ukernel_avx512<14>};
    case Simd::avx2:
      return {6, 16, ukernel_avx2_6x16};
#endif
    default:
      return {4, 16, ukernel_portable<4, 16>};
  }
}

// Cache blocking. KC x NR floats of B (32 KB at NR = 32) stay in L1 while a MC x KC block of A
// (<= 240 KB) sits in L2; KC x NC of packed B (<= 2 MB) is shared through L3.
constexpr int64_t KC = 256;
constexpr int64_t MC_MAX = 224;  // rounded down to whole MR panels
constexpr int64_t NC = 2048;

// ------------------------------------------------------------------------------- packing
// One operand as seen by the GEMM: element (i, k) of op(A) or (k, j) of op(B).
struct Operand {
  const float* p;
  int64_t ld;
  bool trans;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Rows [i0, i0 + mc) x depth [k0, k0 + kc) of op(A) into MR-row panels: dst[panel][k][r].
void pack_a(float* dst, Operand A, int64_t i0, int64_t mc, int64_t k0, int64_t kc, int MR) {
  for (int64_t ip = 0; ip < mc; ip += MR, dst += kc * MR) {
    const int64_t rows = std::min<int64_t>(MR, mc - ip);
    const int64_t i = i0 + ip;
    if (A.trans) {  // op(A)[i][k] = A[k][i]: each k gives `rows` contiguous floats
      for (int64_t k = 0; k < kc; k++) {
        const float* src = A.p + (k0 + k) * A.ld + i;
        float* d = dst + k * MR;
        int64_t r = 0;
        for (; r < rows; r++) d[r] = src[r];
        for (; r < MR; r++) d[r] = 0.0f;
      }
    } else {  // op(A)[i][k] = A[i][k]: gather one float from each of `rows` rows per k
      const float* src[16];  // MR <= 16
      for (int r = 0; r < MR; r++) src[r] = A.p + (i + std::min<int64_t>(r, rows - 1)) * A.ld + k0;
      for (int64_t k = 0; k < kc; k++) {
        float* d = dst + k * MR;
        int r = 0;
        for (; r < rows; r++) d[r] = src[r][k];
        for (; r < MR; r++) d[r] = 0.0f;
      }
    }
  }
}

// Depth [k0, k0 + kc) x columns [j0, j0 + nc) of op(B) into NR-column panels: dst[panel][k][j].
void pack_b(float* dst, Operand B, int64_t j0, int64_t nc, int64_t k0, int64_t kc, int NR) {
  for (int64_t jp = 0; jp < nc; jp += NR, dst += kc * NR) {
    const int64_t cols = std::min<int64_t>(NR, nc - jp);
    const int64_t j = j0 + jp;
    if (!B.trans) {  // op(B)[k][j] = B[k][j]: contiguous runs of `cols`
      for (int64_t k = 0; k < kc; k++) {
        const float* src = B.p + (k0 + k) * B.ld + j;
        float* d = dst + k * NR;
        if (cols == NR) {
          std::memcpy(d, src, sizeof(float) * NR);
        } else {
          int64_t c = 0;
          for (; c < cols; c++) d[c] = src[c];
          for (; c < NR; c++) d[c] = 0.0f;
        }
      }
    } else {  // op(B)[k][j] = B[j][k]: walk each source row along k, scatter with stride NR
      for (int64_t c = 0; c < NR; c++) {
        float* d = dst + c;
        if (c < cols) {
          const float* src = B.p + (j + c) * B.ld + k0;
          for (int64_t k = 0; k < kc; k++) d[k * NR] = src[k];
        } else {
          for (int64_t k = 0; k < kc; k++) d[k * NR] = 0.0f;
        }
      }
    }
  }
}

// Packing buffers, one pair per thread (see scratch.h).
thread_local Scratch tl_pack_a, tl_pack_b;

// ------------------------------------------------------------------------------- blocked driver
struct Gemm {
  Operand A, B;
  float* C;     // C[i][j] is at C + i * ldc + (j - c_j0)
  int64_t c_j0;
  int64_t ldc, M, N, K;
  float alpha, beta;
};

// Where the packed panels of op(B) are: the panel of columns [jb + p NR, jb + (p + 1) NR) starts at
// data + p * stride and holds depth rows kb, kb + 1, ... (NR floats each).
struct Panels {
  const float* data;
  int64_t stride, jb, kb;
};

// Rows [i0, i1) x columns [j0, j1) of C (j0 NR-aligned relative to P.jb) for kc steps of depth:
// op(A) from depth a_k0, op(B) from depth b_k0. `first` is the first depth block, which applies beta.
void compute_block(const Gemm& g, const Arch& arch, const Panels& P, int64_t a_k0, int64_t b_k0, int64_t kc,
                   bool first, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const float beta = first ? g.beta : 1.0f;
  const int64_t mc_step = MC_MAX / arch.MR * arch.MR;  // whole panels, so the pack fits
  float* Ap = tl_pack_a.get(mc_step * kc + 64);
  for (int64_t ic = i0; ic < i1; ic += mc_step) {
    const int64_t mc = std::min(mc_step, i1 - ic);
    pack_a(Ap, g.A, ic, mc, a_k0, kc, arch.MR);
    for (int64_t jr = j0; jr < j1; jr += arch.NR) {
      const float* Bp = P.data + ((jr - P.jb) / arch.NR) * P.stride + (b_k0 - P.kb) * arch.NR;
      const int64_t nr = std::min<int64_t>(arch.NR, j1 - jr);
      float* C = g.C + (jr - g.c_j0);
      for (int64_t ir = 0; ir < mc; ir += arch.MR) {
        arch.kernel(kc, Ap + ir * kc, Bp, C + (ic + ir) * g.ldc, g.ldc, std::min<int64_t>(arch.MR, mc - ir), nr,
                    g.alpha, beta);
      }
    }
  }
}

// K == 0: the product is empty, C = beta * C (or 0).
void scale_c(const Gemm& g) {
  for (int64_t i = 0; i < g.M; i++) {
    float* c = g.C + i * g.ldc;
    for (int64_t j = 0; j < g.N; j++) c[j] = g.beta == 0.0f ? 0.0f : g.beta * c[j];
  }
}

void gemm_one_thread(const Gemm& g, const Arch& arch) {
  if (g.K == 0) return scale_c(g);
  for (int64_t jb = 0; jb < g.N; jb += NC) {
    const int64_t nc = std::min(NC, g.N - jb);
    for (int64_t k0 = 0; k0 < g.K; k0 += KC) {
      const int64_t kc = std::min(KC, g.K - k0);
      float* Bp = tl_pack_b.get(ceil_div(nc, arch.NR) * arch.NR * kc + 64);
      pack_b(Bp, g.B, jb, nc, k0, kc, arch.NR);
      compute_block(g, arch, {Bp, kc * arch.NR, jb, k0}, k0, k0, kc, k0 == 0, 0, g.M, jb, jb + nc);
    }
  }
}

// Splits C into tasks: row blocks when there are plenty of rows (each task then packs its A rows
// once per KC block), column chunks when M is small.
void gemm_threaded(const Gemm& g, const Arch& arch, int threads) {
  if (g.K == 0) return scale_c(g);
  const int64_t micro_rows = ceil_div(g.M, arch.MR);
  int64_t row_blocks = ceil_div(g.M, MC_MAX), col_chunks = 1;
  if (micro_rows >= 4 * threads) {
    row_blocks = ceil_div(std::max<int64_t>(row_blocks, threads), threads) * threads;
  } else {
    col_chunks = 2 * threads;
  }
  const int64_t rows_per_task = ceil_div(micro_rows, row_blocks) * arch.MR;
  row_blocks = ceil_div(g.M, rows_per_task);

  for (int64_t jb = 0; jb < g.N; jb += NC) {
    const int64_t nc = std::min(NC, g.N - jb);
    const int64_t panels = ceil_div(nc, arch.NR);
    const int64_t chunks = std::min(col_chunks, panels);
    const int64_t panels_per_chunk = ceil_div(panels, chunks);
    for (int64_t k0 = 0; k0 < g.K; k0 += KC) {
      const int64_t kc = std::min(KC, g.K - k0);
      float* Bp = tl_pack_b.get(panels * arch.NR * kc + 64);
      // Pack B in parallel by groups of 8 panels.
      parallel_tasks(ceil_div(panels, 8), [&](int64_t t) {
        const int64_t p0 = t * 8, p1 = std::min(panels, p0 + 8);
        const int64_t j0 = jb + p0 * arch.NR, j1 = std::min(jb + nc, jb + p1 * arch.NR);
        pack_b(Bp + p0 * arch.NR * kc, g.B, j0, j1 - j0, k0, kc, arch.NR);
      });
      const int64_t ntasks = row_blocks * ceil_div(panels, panels_per_chunk);
      parallel_tasks(ntasks, [&](int64_t t) {
        const int64_t rb = t % row_blocks, cb = t / row_blocks;
        const int64_t i0 = rb * rows_per_task, i1 = std::min(g.M, i0 + rows_per_task);
        const int64_t j0 = jb + cb * panels_per_chunk * arch.NR;
        const int64_t j1 = std::min(jb + nc, j0 + panels_per_chunk * arch.NR);
        compute_block(g, arch, {Bp, kc * arch.NR, jb, k0}, k0, k0, kc, k0 == 0, i0, i1, j0, j1);
      });
    }
  }
}

// M <= 4: the direct path of matmul-simd.inc over column chunks (it writes only its own columns).
void gemm_small_m_threaded(const Gemm& g) {
  constexpr int64_t kChunk = 256;
  parallel_tasks(ceil_div(g.N, kChunk), [&](int64_t t) {
    const int64_t j0 = t * kChunk, n = std::min(kChunk, g.N - j0);
    const float* b = g.B.trans ? g.B.p + j0 * g.B.ld : g.B.p + j0;
    gemm_serial(g.C + j0, g.ldc, g.A.p, g.A.ld, b, g.B.ld, g.M, n, g.K, g.A.trans, g.B.trans, g.alpha, g.beta);
  });
}

// Below this many multiply-adds a product runs on one thread: waking the pool costs a few us.
constexpr int64_t kParallelFma = int64_t{1} << 18;

}  // namespace

void gemm_serial(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t M,
                 int64_t N, int64_t K, bool transA, bool transB, float alpha, float beta) {
  if (M <= 0 || N <= 0) return;
  if (VLMC_DISPATCH_EXPR(gemm_small_m, c, ldc, a, lda, b, ldb, M, N, K, transA, transB, alpha, beta)) return;
  const Gemm g{{a, lda, transA}, {b, ldb, transB}, c, 0, ldc, M, N, K, alpha, beta};
  gemm_one_thread(g, current_arch());
}

int64_t packed_b_floats(int64_t K, int64_t N) { return ceil_div(N, current_arch().NR) * current_arch().NR * K; }

void pack_b_panels(float* dst, const float* b, int64_t ldb, bool transB, int64_t K, int64_t N) {
  pack_b(dst, {b, ldb, transB}, 0, N, 0, K, current_arch().NR);
}

void gemm_prepacked(float* c, int64_t ldc, const float* a, int64_t lda, bool transA, const float* packed,
                    int64_t Ktotal, int64_t M, int64_t j0, int64_t j1, int64_t k0, int64_t k1, float alpha,
                    float beta) {
  if (M <= 0 || j1 <= j0) return;
  const Arch arch = current_arch();
  const Gemm g{{a, lda, transA}, {nullptr, 0, false}, c, j0, ldc, M, j1 - j0, k1 - k0, alpha, beta};
  if (k1 <= k0) return scale_c(g);
  const Panels P{packed, Ktotal * arch.NR, 0, 0};
  for (int64_t pc = k0; pc < k1; pc += KC) {
    compute_block(g, arch, P, pc - k0, pc, std::min(KC, k1 - pc), pc == k0, 0, M, j0, j1);
  }
}

void matmul(float* c, const float* a, const float* b, int64_t batch, int64_t M, int64_t N, int64_t K, bool transA,
            bool transB, int64_t strideA, int64_t strideB, float alpha, float beta) {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  // A contiguous batch of A against one shared B is a single taller product: (batch*M, K) x (K, N).
  if (batch > 1 && strideB == 0 && !transA && strideA == M * K) {
    M *= batch;
    batch = 1;
  }
  const int64_t lda = transA ? M : K, ldb = transB ? K : N;
  const int64_t fma = M * N * std::max<int64_t>(K, 1);
  const int threads = num_threads();
  const Arch arch = current_arch();

  if (threads == 1 || fma * batch < kParallelFma) {
    for (int64_t i = 0; i < batch; i++) {
      gemm_serial(c + i * M * N, N, a + i * strideA, lda, b + i * strideB, ldb, M, N, K, transA, transB, alpha,
                  beta);
    }
  } else if (batch >= 2 * threads && fma < 8 * kParallelFma) {
    // Many small products: one task per product.
    parallel_tasks(batch, [&](int64_t i) {
      gemm_serial(c + i * M * N, N, a + i * strideA, lda, b + i * strideB, ldb, M, N, K, transA, transB, alpha,
                  beta);
    });
  } else {
    for (int64_t i = 0; i < batch; i++) {
      const Gemm g{{a + i * strideA, lda, transA}, {b + i * strideB, ldb, transB}, c + i * M * N, 0, N, M, N, K,
                   alpha, beta};
      if (M <= 4) {
        gemm_small_m_threaded(g);
      } else {
        gemm_threaded(g, arch, threads);
      }
    }
  }
}

}  // namespace vlmc

#define VLMC_ARCH_BODY "matmul-simd.inc"
#include "arch.h"
