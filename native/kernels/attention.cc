// Fused masked attention, forward and backward (see Kernels.attentionForward/attentionBackward).
//   q, out, dq, dout: (B, Tq, NH, HS);  k, v, dk, dv: (B, Tk, NKV, HS);  lse: (B, NH, Tq);
//   probs: (B, NH, Tq, Tk);  bias, dbias: (B, Tk) per key, or (B, Tq, Tk) per query.
//
// What it is: blocked attention built on the packed GEMM. Queries are taken QB = 64 at a time; a
// block's scores S = scale * Q K^T are computed for the union of its rows' visible key ranges
// [j0, j1) (one GEMM), turned into probabilities row by row (bias, visibility range, max, exp,
// normalise; attention-simd.inc), and multiplied by V (a second GEMM). Heads are read in place
// through row strides. K and V of a (sample, kv head) are packed once into the GEMM's panel layout
// and reused by every query block and every query head of the group (except when decoding a few
// queries, where the unpacked small-M GEMM path is cheaper). The backward pass recomputes P from
// the saved log-sum-exp:
//   dP = dO V^T;  dS = P (dP - rowsum(dO * O));  dq += scale dS K;  dk += scale dS^T Q;  dv += P^T dO
// Rows that see no key (or only keys biased to -inf) get out = 0, lse = -inf and no gradient.
//
// Threads: the forward pass splits over (b, head, query block), which write disjoint outputs. The
// backward pass splits over (b, kv head): that task owns dk/dv of its kv head and dq of every query
// head sharing it (GQA), so no two tasks write the same element. dbias is shared by all heads, so
// with several kv heads all but one task sum into their own slice, added afterwards in a fixed order.
// What it is not: flash attention with an online softmax. A block's scores are materialised
// (64 x Tk floats), which is fine for the sequence lengths of this project (up to a few thousand).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "dispatch.h"
#include "kernels.h"
#include "scratch.h"
#include "threadpool.h"

namespace vlmc {
#define VLMC_DECLARE_ATTENTION                                                                                    \
  float softmax_scores_row(float* s, int64_t j0, int64_t R, int64_t lo, int64_t hi, const float* bias);           \
  void probs_from_lse_row(float* s, int64_t j0, int64_t R, int64_t lo, int64_t hi, const float* bias, float lse); \
  void dscores_row(float* dp, const float* p, int64_t R, float D);                                                \
  float dot_row(const float* a, const float* b, int64_t n);                                                       \
  void add_row(float* dst, const float* src, int64_t n);
namespace avx512 {
VLMC_DECLARE_ATTENTION
}
namespace avx2 {
VLMC_DECLARE_ATTENTION
}
namespace scalar {
VLMC_DECLARE_ATTENTION
}
#undef VLMC_DECLARE_ATTENTION

namespace {

constexpr int64_t QB = 64;  // queries per block

thread_local Scratch tl_scores, tl_dscores;
thread_local Scratch tl_pack_kt, tl_pack_vt, tl_pack_k, tl_pack_v;  // packed K^T, V^T, K, V
thread_local Scratch tl_dbias;  // used by the calling thread only

// Query blocks of at most this many rows multiply unpacked K/V (gemm_serial's small-M path).
constexpr int64_t kPackMinRows = 5;

struct Layout {
  const AttentionShape& s;
  const int32_t* keyLo;
  const int32_t* keyHi;
  int64_t ldq() const { return s.NH * s.HS; }   // row stride of q, out, dq, dout
  int64_t ldk() const { return s.NKV * s.HS; }  // row stride of k, v, dk, dv
  int64_t kv_head(int64_t h) const { return h / (s.NH / s.NKV); }
  int64_t q_off(int64_t b, int64_t t, int64_t h) const { return ((b * s.Tq + t) * s.NH + h) * s.HS; }
  int64_t k_off(int64_t b, int64_t j, int64_t g) const { return ((b * s.Tk + j) * s.NKV + g) * s.HS; }
  int64_t lse_off(int64_t b, int64_t h, int64_t t) const { return (b * s.NH + h) * s.Tq + t; }
  // Offset of query (b, t)'s bias row, indexed by absolute key.
  int64_t bias_off(int64_t b, int64_t t) const { return s.biasPerQuery ? (b * s.Tq + t) * s.Tk : b * s.Tk; }

  // Visible keys [lo, hi) of query (b, t), clamped to [0, Tk); empty when hi <= lo.
  void range(int64_t b, int64_t t, int64_t& lo, int64_t& hi) const {
    lo = std::max<int64_t>(0, keyLo[b * s.Tq + t]);
    hi = std::min<int64_t>(s.Tk, keyHi[b * s.Tq + t]);
    if (hi < lo) hi = lo;
  }
  // Union of the visible ranges of queries [t0, t0 + nq); j0 rounded down to 32 keys so it starts
  // a packed key panel (gemm_prepacked). False when no query of the block sees a key.
  bool block_range(int64_t b, int64_t t0, int64_t nq, int64_t& j0, int64_t& j1) const {
    j0 = s.Tk;
    j1 = 0;
    for (int64_t t = t0; t < t0 + nq; t++) {
      int64_t lo, hi;
      range(b, t, lo, hi);
      if (hi > lo) {
        j0 = std::min(j0, lo);
        j1 = std::max(j1, hi);
      }
    }
    if (j1 <= j0) return false;
    j0 -= j0 % 32;
    return true;
  }
};

int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

// Packed K^T (depth HS, columns Tk), V (depth Tk, columns HS) of one (sample, kv head), or nulls.
struct KvPacks {
  const float* kt = nullptr;
  const float* v = nullptr;
  const float* vt = nullptr;  // backward only: V^T
  const float* k = nullptr;   // backward only: K
};

void forward_block(float* out, float* lse, float* probs, const float* q, const float* k, const float* v,
                   const float* bias, const Layout& L, const KvPacks& packs, int64_t b, int64_t h, int64_t t0) {
  const AttentionShape& s = L.s;
  const int64_t nq = std::min(QB, s.Tq - t0), g = L.kv_head(h);
  float* o = out + L.q_off(b, t0, h);
  int64_t j0, j1;
  if (!L.block_range(b, t0, nq, j0, j1)) {  // no query of the block sees anything
    for (int64_t r = 0; r < nq; r++) {
      std::memset(o + r * L.ldq(), 0, sizeof(float) * s.HS);
      lse[L.lse_off(b, h, t0 + r)] = -INFINITY;
      if (probs) std::memset(probs + L.lse_off(b, h, t0 + r) * s.Tk, 0, sizeof(float) * s.Tk);
    }
    return;
  }
  const int64_t R = j1 - j0, ldS = round16(R);
  float* S = tl_scores.get(nq * ldS);
  // S = scale * Q_block K[j0:j1]^T   (nq, R)
  if (packs.kt) {
    gemm_prepacked(S, ldS, q + L.q_off(b, t0, h), L.ldq(), false, packs.kt, s.HS, nq, j0, j1, 0, s.HS, s.scale, 0.0f);
  } else {
    gemm_serial(S, ldS, q + L.q_off(b, t0, h), L.ldq(), k + L.k_off(b, j0, g), L.ldk(), nq, R, s.HS, false, true,
                s.scale, 0.0f);
  }
  for (int64_t r = 0; r < nq; r++) {
    const int64_t t = t0 + r;
    int64_t lo, hi;
    L.range(b, t, lo, hi);
    float* row = S + r * ldS;
    const float* brow = bias ? bias + L.bias_off(b, t) : nullptr;
    lse[L.lse_off(b, h, t)] = VLMC_DISPATCH_EXPR(softmax_scores_row, row, j0, R, lo, hi, brow);
    if (probs) {
      float* p = probs + L.lse_off(b, h, t) * s.Tk;
      std::memset(p, 0, sizeof(float) * j0);
      std::memcpy(p + j0, row, sizeof(float) * R);
      std::memset(p + j1, 0, sizeof(float) * (s.Tk - j1));
    }
  }
  // out = P V[j0:j1]   (nq, HS); hidden rows have P = 0, hence out = 0
  if (packs.v) {
    gemm_prepacked(o, L.ldq(), S, ldS, false, packs.v, s.Tk, nq, 0, s.HS, j0, j1, 1.0f, 0.0f);
  } else {
    gemm_serial(o, L.ldq(), S, ldS, v + L.k_off(b, j0, g), L.ldk(), nq, s.HS, R, false, false, 1.0f, 0.0f);
  }
}

struct Grads {
  float* dq;
  float* dk;
  float* dv;
  float* dbias;  // this task's dbias rows for sample b (indexed like bias_off(0, t)), or null
};

void backward_block(const Grads& G, const float* dout, const float* out, const float* lse, const float* q,
                    const float* k, const float* v, const float* bias, const Layout& L, const KvPacks& packs,
                    int64_t b, int64_t h, int64_t t0) {
  const AttentionShape& s = L.s;
  const int64_t nq = std::min(QB, s.Tq - t0), g = L.kv_head(h);
  int64_t j0, j1;
  if (!L.block_range(b, t0, nq, j0, j1)) return;
  const int64_t R = j1 - j0, ldS = round16(R), ldq = L.ldq(), ldk = L.ldk();
  float* P = tl_scores.get(nq * ldS);
  float* dS = tl_dscores.get(nq * ldS);
  const float* qb = q + L.q_off(b, t0, h);
  const float* dob = dout + L.q_off(b, t0, h);
  const float* kb = k + L.k_off(b, j0, g);
  const float* vb = v + L.k_off(b, j0, g);

  // P = exp(scale Q K^T + bias - lse), recomputed exactly as in the forward pass
  if (packs.kt) {
    gemm_prepacked(P, ldS, qb, ldq, false, packs.kt, s.HS, nq, j0, j1, 0, s.HS, s.scale, 0.0f);
  } else {
    gemm_serial(P, ldS, qb, ldq, kb, ldk, nq, R, s.HS, false, true, s.scale, 0.0f);
  }
  for (int64_t r = 0; r < nq; r++) {
    const int64_t t = t0 + r;
    int64_t lo, hi;
    L.range(b, t, lo, hi);
    const float* brow = bias ? bias + L.bias_off(b, t) : nullptr;
    VLMC_DISPATCH(probs_from_lse_row, P + r * ldS, j0, R, lo, hi, brow, lse[L.lse_off(b, h, t)]);
  }
  // dP = dO V^T, then dS = P (dP - D) with D = rowsum(dO * O)
  if (packs.vt) {
    gemm_prepacked(dS, ldS, dob, ldq, false, packs.vt, s.HS, nq, j0, j1, 0, s.HS, 1.0f, 0.0f);
  } else {
    gemm_serial(dS, ldS, dob, ldq, vb, ldk, nq, R, s.HS, false, true, 1.0f, 0.0f);
  }
  for (int64_t r = 0; r < nq; r++) {
    const int64_t off = L.q_off(b, t0 + r, h);
    const float D = VLMC_DISPATCH_EXPR(dot_row, dout + off, out + off, s.HS);
    VLMC_DISPATCH(dscores_row, dS + r * ldS, P + r * ldS, R, D);
    if (G.dbias) {
      const int64_t boff = s.biasPerQuery ? (t0 + r) * s.Tk : 0;
      VLMC_DISPATCH(add_row, G.dbias + boff + j0, dS + r * ldS, R);
    }
  }
  // dq += scale dS K;  dk += scale dS^T Q;  dv += P^T dO
  if (packs.k) {
    gemm_prepacked(G.dq + L.q_off(b, t0, h), ldq, dS, ldS, false, packs.k, s.Tk, nq, 0, s.HS, j0, j1, s.scale, 1.0f);
  } else {
    gemm_serial(G.dq + L.q_off(b, t0, h), ldq, dS, ldS, kb, ldk, nq, s.HS, R, false, false, s.scale, 1.0f);
  }
  gemm_serial(G.dk + L.k_off(b, j0, g), ldk, dS, ldS, qb, ldq, R, s.HS, nq, true, false, s.scale, 1.0f);
  gemm_serial(G.dv + L.k_off(b, j0, g), ldk, P, ldS, dob, ldq, R, s.HS, nq, true, false, 1.0f, 1.0f);
}

// Packs what the blocks of (sample b, kv head g) multiply against; `backward` adds V^T and K.
KvPacks pack_kv(const float* k, const float* v, const Layout& L, int64_t b, int64_t g, bool backward) {
  const AttentionShape& s = L.s;
  KvPacks p;
  if (s.Tq < kPackMinRows) return p;
  const float* kb = k + L.k_off(b, 0, g);
  const float* vb = v + L.k_off(b, 0, g);
  float* kt = tl_pack_kt.get(packed_b_floats(s.HS, s.Tk));
  pack_b_panels(kt, kb, L.ldk(), true, s.HS, s.Tk);
  p.kt = kt;
  if (!backward) {
    float* vp = tl_pack_v.get(packed_b_floats(s.Tk, s.HS));
    pack_b_panels(vp, vb, L.ldk(), false, s.Tk, s.HS);
    p.v = vp;
    return p;
  }
  float* vt = tl_pack_vt.get(packed_b_floats(s.HS, s.Tk));
  pack_b_panels(vt, vb, L.ldk(), true, s.HS, s.Tk);
  float* kp = tl_pack_k.get(packed_b_floats(s.Tk, s.HS));
  pack_b_panels(kp, kb, L.ldk(), false, s.Tk, s.HS);
  p.vt = vt;
  p.k = kp;
  return p;
}

}  // namespace

void attention_forward(float* out, float* lse, float* probs, const float* q, const float* k, const float* v,
                       const float* bias, const int32_t* keyLo, const int32_t* keyHi, const AttentionShape& s) {
  if (s.B <= 0 || s.Tq <= 0 || s.NH <= 0) return;
  const Layout L{s, keyLo, keyHi};
  // Tasks: (b, h, chunk); chunk c takes query blocks c, c + chunks, ... (interleaved, so causal
  // triangles balance) and packs K and V once for all of them. The split does not change results.
  const int64_t qblocks = (s.Tq + QB - 1) / QB;
  const int64_t chunks = std::min(qblocks, std::max<int64_t>(1, (2 * num_threads() + s.B * s.NH - 1) / (s.B * s.NH)));
  parallel_tasks(s.B * s.NH * chunks, [&](int64_t task) {
    const int64_t c = task % chunks, bh = task / chunks, b = bh / s.NH, h = bh % s.NH;
    const KvPacks packs = pack_kv(k, v, L, b, L.kv_head(h), false);
    for (int64_t qb = c; qb < qblocks; qb += chunks) {
      forward_block(out, lse, probs, q, k, v, bias, L, packs, b, h, qb * QB);
    }
  });
}

void attention_backward(float* dq, float* dk, float* dv, float* dbias, const float* dout, const float* out,
                        const float* lse, const float* q, const float* k, const float* v, const float* bias,
                        const int32_t* keyLo, const int32_t* keyHi, const AttentionShape& s) {
  if (s.B <= 0 || s.Tq <= 0 || s.NH <= 0 || s.NKV <= 0) return;
  const Layout L{s, keyLo, keyHi};
  const int64_t qblocks = (s.Tq + QB - 1) / QB, group = s.NH / s.NKV;
  const int64_t slice = s.biasPerQuery ? s.Tq * s.Tk : s.Tk;  // dbias floats per sample
  // dbias is shared by all heads. The task of kv head 0 adds into dbias[b] directly; with several kv
  // heads, the others sum into zeroed scratch slices that are added afterwards in head order. Samples
  // go a few at a time to bound the scratch (~64 MB).
  const int64_t extra = dbias == nullptr ? 0 : s.NKV - 1;  // scratch slices per sample
  const int64_t chunk = extra == 0 ? s.B : std::max<int64_t>(1, (int64_t{1} << 24) / (extra * slice));
  for (int64_t b0 = 0; b0 < s.B; b0 += chunk) {
    const int64_t nb = std::min(chunk, s.B - b0);
    float* scratch = nullptr;
    if (extra > 0) {
      scratch = tl_dbias.get(nb * extra * slice);
      std::memset(scratch, 0, sizeof(float) * nb * extra * slice);
    }
    parallel_tasks(nb * s.NKV, [&](int64_t task) {
      const int64_t bl = task / s.NKV, b = b0 + bl, g = task % s.NKV;
      float* db = dbias == nullptr ? nullptr : g == 0 ? dbias + b * slice : scratch + (bl * extra + g - 1) * slice;
      const Grads G{dq, dk, dv, db};
      const KvPacks packs = pack_kv(k, v, L, b, g, true);
      for (int64_t h = g * group; h < (g + 1) * group; h++) {
        for (int64_t qb = 0; qb < qblocks; qb++) {
          backward_block(G, dout, out, lse, q, k, v, bias, L, packs, b, h, qb * QB);
        }
      }
    });
    if (extra > 0) {  // dbias[b] += scratch slices, in head order, over runs of contiguous elements
      parallel_for(nb * slice, 1 << 15, [&](int64_t e0, int64_t e1) {
        for (int64_t e = e0; e < e1;) {
          const int64_t bl = e / slice, i0 = e % slice, n = std::min(e1 - e, slice - i0);
          float* d = dbias + (b0 + bl) * slice + i0;
          for (int64_t g = 0; g < extra; g++) {
            const float* sp = scratch + (bl * extra + g) * slice + i0;
            for (int64_t i = 0; i < n; i++) d[i] += sp[i];
          }
          e += n;
        }
      });
    }
  }
}

}  // namespace vlmc

#define VLMC_ARCH_BODY "attention-simd.inc"
#include "arch.h"
