// A minimal float-vector vocabulary, defined once per instruction set in its own namespace:
//   vlmc::avx512 (16 lanes), vlmc::avx2 (8 lanes, with FMA), vlmc::scalar (1 lane, portable C++).
//
// What it is: just enough (load/store with a tail count, arithmetic, horizontal sum/max, exp, tanh,
// sigmoid) for the row loops of softmax, norms, losses, activations and attention to be written
// once, in a `*-simd.inc` file that arch.h includes into each namespace under the matching target
// region (the region form of `__attribute__((target(...)))`). No -march flag is involved, so the
// addon runs on any x86-64 and the entry points pick a namespace at run time.
// What it is not: a general SIMD library. The matmul micro-kernels use intrinsics directly.
//
// Accuracy: exp is the Cephes expf polynomial after range reduction, within ~2 ulp on the whole
// float range, exp(-inf) = 0, exp(+inf) = inf, NaN propagates. tanh uses Cephes' odd polynomial for
// |x| < 0.625 (keeps relative accuracy near 0), and 1 - 2/(exp(2|x|)+1) beyond.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__x86_64__)
// GCC 12 reports a false "__Y may be used uninitialized" inside the AVX-512 reduce/mask intrinsics
// (GCC bug 105593); the location is in the header, so silencing it here keeps our own code checked.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

// Target attributes: VLMC_TARGET_* for single functions (the matmul micro-kernels, AdamW), and
// VLMC_PUSH_TARGET_* ... VLMC_POP_TARGET for whole regions (below, and arch.h). GCC spells the
// region form `#pragma GCC target`, clang `#pragma clang attribute`; both give every function in
// the region (lambdas and template instances included) the target attribute.
#define VLMC_TARGET_AVX512 "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2"
#define VLMC_TARGET_AVX2 "avx2,fma,bmi2"
#if defined(__clang__)
// (One long line: _Pragma takes a single string literal, adjacent literals are not joined.)
#define VLMC_PUSH_TARGET_AVX512 \
  _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2\"))), apply_to = function)")
#define VLMC_PUSH_TARGET_AVX2 \
  _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,bmi2\"))), apply_to = function)")
#define VLMC_POP_TARGET _Pragma("clang attribute pop")
#else
#define VLMC_PUSH_TARGET_AVX512 \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2\")")
#define VLMC_PUSH_TARGET_AVX2 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,bmi2\")")
#define VLMC_POP_TARGET _Pragma("GCC pop_options")
#endif

namespace vlmc {
namespace simd_consts {
// Cephes expf: exp(x) = 2^n * exp(r), r = x - n ln2 (ln2 split in two for exactness).
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kExpP0 = 1.9875691500e-4f, kExpP1 = 1.3981999507e-3f, kExpP2 = 8.3334519073e-3f;
constexpr float kExpP3 = 4.1665795894e-2f, kExpP4 = 1.6666665459e-1f, kExpP5 = 5.0000001201e-1f;
// exp underflows to 0 below ~-103.97 and overflows above ~88.72; clamp a little outside both so the
// polynomial never sees inf (inf - inf would give NaN) while the scaling still rounds to 0 / inf.
constexpr float kExpLo = -104.0f, kExpHi = 88.8f;
// Cephes tanhf, |x| < 0.625: tanh(x) = x + x^3 P(x^2).
constexpr float kTanhP0 = -5.70498872745e-3f, kTanhP1 = 2.06390887954e-2f;
constexpr float kTanhP2 = -5.37397155531e-2f, kTanhP3 = 1.33314422036e-1f;
constexpr float kTanhP4 = -3.33332819422e-1f;
}  // namespace simd_consts

// ------------------------------------------------------------------------------------------ scalar
namespace scalar {
constexpr int W = 1;
struct V {
  float v;
};
inline V vload(const float* p) { return {*p}; }
inline V vloadn(const float* p, int64_t /*n >= 1*/, float /*fill*/ = 0.0f) { return {*p}; }
inline void vstore(float* p, V a) { *p = a.v; }
inline void vstoren(float* p, V a, int64_t) { *p = a.v; }
inline V vset(float x) { return {x}; }
inline V operator+(V a, V b) { return {a.v + b.v}; }
inline V operator-(V a, V b) { return {a.v - b.v}; }
inline V operator*(V a, V b) { return {a.v * b.v}; }
inline V operator/(V a, V b) { return {a.v / b.v}; }
inline V vfma(V a, V b, V c) { return {a.v * b.v + c.v}; }
inline V vmax(V a, V b) { return {(a.v > b.v || a.v != a.v) ? a.v : b.v}; }  // NaN in `a` wins
inline V vsqrt(V a) { return {std::sqrt(a.v)}; }
inline float hsum(V a) { return a.v; }
inline float hmax(V a) { return a.v; }
inline V vexp(V a) { return {std::exp(a.v)}; }
inline V vtanh(V a) { return {std::tanh(a.v)}; }
inline V vsigmoid(V a) {  // see the AVX2 version
  const float e = std::exp(-std::fabs(a.v)), r = 1.0f / (1.0f + e);
  return {a.v < 0.0f ? e * r : r};
}
}  // namespace scalar
}  // namespace vlmc

#if defined(__x86_64__)
// ------------------------------------------------------------------------------------------ AVX2
VLMC_PUSH_TARGET_AVX2
namespace vlmc {
namespace avx2 {
constexpr int W = 8;
struct V {
  __m256 v;
};
inline __m256 lane_mask(int64_t n) {  // lanes < n are all-ones
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), iota));
}
inline V vload(const float* p) { return {_mm256_loadu_ps(p)}; }
inline V vloadn(const float* p, int64_t n, float fill = 0.0f) {
  if (n >= W) return vload(p);
  const __m256 m = lane_mask(n);
  return {_mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, _mm256_castps_si256(m)), m)};
}
inline void vstore(float* p, V a) { _mm256_storeu_ps(p, a.v); }
inline void vstoren(float* p, V a, int64_t n) {
  if (n >= W) return vstore(p, a);
  _mm256_maskstore_ps(p, _mm256_castps_si256(lane_mask(n)), a.v);
}
inline V vset(float x) { return {_mm256_set1_ps(x)}; }
inline V operator+(V a, V b) { return {_mm256_add_ps(a.v, b.v)}; }
inline V operator-(V a, V b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline V operator*(V a, V b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline V operator/(V a, V b) { return {_mm256_div_ps(a.v, b.v)}; }
inline V vfma(V a, V b, V c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
// max_ps returns its second operand when either is NaN; a NaN in `a` wins here.
inline V vmax(V a, V b) { return {_mm256_max_ps(b.v, a.v)}; }
inline V vsqrt(V a) { return {_mm256_sqrt_ps(a.v)}; }
inline float hsum(V a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float hmax(V a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline V vexp(V a) {
  using namespace simd_consts;
  __m256 x = _mm256_min_ps(_mm256_set1_ps(kExpHi), _mm256_max_ps(_mm256_set1_ps(kExpLo), a.v));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), x);
  __m256 p = _mm256_set1_ps(kExpP0);
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(kExpP1));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(kExpP2));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(kExpP3));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(kExpP4));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(kExpP5));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  // 2^n in two halves: n reaches -150 (denormal results) and +128, beyond one exponent field.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return {_mm256_mul_ps(_mm256_mul_ps(p, s1), s2)};
}
inline V vtanh(V a) {
  using namespace simd_consts;
  const __m256 sign = _mm256_and_ps(a.v, _mm256_set1_ps(-0.0f));
  const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v);
  // large: 1 - 2 / (exp(2|x|) + 1)
  const __m256 e = vexp({_mm256_add_ps(ax, ax)}).v;
  const __m256 big = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                                   _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
  // small: |x| + |x|^3 P(x^2)
  const __m256 z = _mm256_mul_ps(ax, ax);
  __m256 p = _mm256_set1_ps(kTanhP0);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kTanhP1));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kTanhP2));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kTanhP3));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kTanhP4));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), ax, ax);
  const __m256 is_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
  return {_mm256_or_ps(_mm256_blendv_ps(big, small, is_small), sign)};
}
// sigmoid(x) = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, with e = exp(-|x|): never overflows,
// and keeps relative accuracy far into the negative tail.
inline V vsigmoid(V a) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 neg_abs = _mm256_or_ps(a.v, _mm256_set1_ps(-0.0f));
  const __m256 e = vexp({neg_abs}).v;
  const __m256 r = _mm256_div_ps(one, _mm256_add_ps(one, e));
  return {_mm256_blendv_ps(r, _mm256_mul_ps(e, r), a.v)};  // blendv picks by the sign bit of x
}
}  // namespace avx2
}  // namespace vlmc
VLMC_POP_TARGET

// ------------------------------------------------------------------------------------------ AVX-512
VLMC_PUSH_TARGET_AVX512
namespace vlmc {
namespace avx512 {
constexpr int W = 16;
struct V {
  __m512 v;
};
inline __mmask16 lane_mask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}
inline V vload(const float* p) { return {_mm512_loadu_ps(p)}; }
inline V vloadn(const float* p, int64_t n, float fill = 0.0f) {
  return {_mm512_mask_loadu_ps(_mm512_set1_ps(fill), lane_mask(n), p)};
}
inline void vstore(float* p, V a) { _mm512_storeu_ps(p, a.v); }
inline void vstoren(float* p, V a, int64_t n) { _mm512_mask_storeu_ps(p, lane_mask(n), a.v); }
inline V vset(float x) { return {_mm512_set1_ps(x)}; }
inline V operator+(V a, V b) { return {_mm512_add_ps(a.v, b.v)}; }
inline V operator-(V a, V b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline V operator*(V a, V b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline V operator/(V a, V b) { return {_mm512_div_ps(a.v, b.v)}; }
inline V vfma(V a, V b, V c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
inline V vmax(V a, V b) { return {_mm512_max_ps(b.v, a.v)}; }  // NaN in `a` wins (see avx2)
inline V vsqrt(V a) { return {_mm512_sqrt_ps(a.v)}; }
inline float hsum(V a) { return _mm512_reduce_add_ps(a.v); }
inline float hmax(V a) { return _mm512_reduce_max_ps(a.v); }
inline V vexp(V a) {
  using namespace simd_consts;
  __m512 x = _mm512_min_ps(_mm512_set1_ps(kExpHi), _mm512_max_ps(_mm512_set1_ps(kExpLo), a.v));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  x = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), x);
  __m512 p = _mm512_set1_ps(kExpP0);
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(kExpP1));
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(kExpP2));
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(kExpP3));
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(kExpP4));
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(kExpP5));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
  return {_mm512_scalef_ps(p, n)};  // p * 2^n with correct overflow, underflow and denormals
}
inline V vtanh(V a) {
  using namespace simd_consts;
  const __m512 ax = _mm512_abs_ps(a.v);
  const __m512 e = vexp({_mm512_add_ps(ax, ax)}).v;
  const __m512 big = _mm512_sub_ps(_mm512_set1_ps(1.0f),
                                   _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
  const __m512 z = _mm512_mul_ps(ax, ax);
  __m512 p = _mm512_set1_ps(kTanhP0);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(kTanhP1));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(kTanhP2));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(kTanhP3));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(kTanhP4));
  const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), ax, ax);
  const __mmask16 is_small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ);
  const __m512 r = _mm512_mask_blend_ps(is_small, big, small);
  // copy the sign of the input back (tanh is odd)
  return {_mm512_or_ps(r, _mm512_and_ps(a.v, _mm512_set1_ps(-0.0f)))};
}
inline V vsigmoid(V a) {  // see the AVX2 version
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 e = vexp({_mm512_or_ps(a.v, _mm512_set1_ps(-0.0f))}).v;
  const __m512 r = _mm512_div_ps(one, _mm512_add_ps(one, e));
  const __mmask16 neg = _mm512_movepi32_mask(_mm512_castps_si512(a.v));  // sign bits
  return {_mm512_mask_mul_ps(r, neg, e, r)};
}
}  // namespace avx512
}  // namespace vlmc
VLMC_POP_TARGET
#endif  // __x86_64__
