// Rotary position embedding, Hugging Face rotate-half convention (see Kernels.rope): for pair
// (i, i + HS/2) and angle = pos * theta^(-2i/HS),
//   out[i] = x[i] cos - x[i + HS/2] sin,   out[i + HS/2] = x[i + HS/2] cos + x[i] sin.
//
// What it is: cos/sin are computed in double once per distinct position and kept in a small cache
// (the same positions come back for every layer, for q and k, forward and backward), then applied
// to all heads in double, as the TS reference does. `out` may alias `x`: each pair is read before
// it is written.
// What it is not: the interleaved (2i, 2i+1) RoFormer/Meta layout, or any RoPE scaling variant.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "kernels.h"
#include "threadpool.h"

namespace vlmc {
namespace {

// cos/sin of every pair for positions [lo, hi): cs[((p - lo) * half + i) * 2 + {0: cos, 1: sin}].
struct RopeTable {
  double theta;
  int64_t HS;
  int64_t lo, hi;
  std::vector<double> cs;
};

void angles(double* cs, int64_t pos, int64_t HS, double theta) {
  const int64_t half = HS / 2;
  for (int64_t i = 0; i < half; i++) {
    const double ang = static_cast<double>(pos) * std::pow(theta, (-2.0 * static_cast<double>(i)) / HS);
    cs[2 * i] = std::cos(ang);
    cs[2 * i + 1] = std::sin(ang);
  }
}

std::mutex g_cache_mu;
std::shared_ptr<const RopeTable> g_cache;

// The cached table if it covers [lo, hi) for (theta, HS), else a new one (which becomes the cache).
std::shared_ptr<const RopeTable> table_for(double theta, int64_t HS, int64_t lo, int64_t hi) {
  {
    std::lock_guard<std::mutex> lk(g_cache_mu);
    if (g_cache && g_cache->theta == theta && g_cache->HS == HS && g_cache->lo <= lo && hi <= g_cache->hi) {
      return g_cache;
    }
  }
  auto t = std::make_shared<RopeTable>();
  t->theta = theta;
  t->HS = HS;
  t->lo = std::min<int64_t>(lo, 0);  // position 0 upward is what every sequence uses
  // Room to grow: decoding asks for one more position per token.
  t->hi = 1024;
  while (t->hi < hi) t->hi *= 2;
  const int64_t half = HS / 2;
  t->cs.resize(static_cast<size_t>((t->hi - t->lo) * half * 2));
  parallel_for(t->hi - t->lo, std::max<int64_t>(1, 2048 / std::max<int64_t>(half, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) angles(t->cs.data() + p * half * 2, t->lo + p, HS, theta);
  });
  std::lock_guard<std::mutex> lk(g_cache_mu);
  g_cache = t;
  return t;
}

void rotate_row(float* out, const float* x, const double* cs, int64_t NH, int64_t HS, double sign) {
  const int64_t half = HS / 2;
  for (int64_t h = 0; h < NH; h++) {
    float* o = out + h * HS;
    const float* xh = x + h * HS;
    for (int64_t i = 0; i < half; i++) {
      const double c = cs[2 * i], s = sign * cs[2 * i + 1];
      const double x1 = xh[i], x2 = xh[i + half];
      o[i] = static_cast<float>(x1 * c - x2 * s);
      o[i + half] = static_cast<float>(x2 * c + x1 * s);
    }
  }
}

}  // namespace

void rope(float* out, const float* x, const int32_t* pos, int64_t BT, int64_t NH, int64_t HS, double theta,
          bool inverse) {
  if (BT <= 0 || HS < 2) return;
  const int64_t half = HS / 2, row = NH * HS;
  const double sign = inverse ? -1.0 : 1.0;
  const auto [lo_it, hi_it] = std::minmax_element(pos, pos + BT);
  const int64_t lo = *lo_it, hi = static_cast<int64_t>(*hi_it) + 1;
  const int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(row, 1));
  if (hi - std::min<int64_t>(lo, 0) > 4 * BT + 4096) {  // sparse, far-apart positions: no table
    parallel_for(BT, grain, [&](int64_t t0, int64_t t1) {
      std::vector<double> cs(static_cast<size_t>(2 * half));
      for (int64_t t = t0; t < t1; t++) {
        angles(cs.data(), pos[t], HS, theta);
        rotate_row(out + t * row, x + t * row, cs.data(), NH, HS, sign);
      }
    });
    return;
  }
  const auto table = table_for(theta, HS, lo, hi);
  parallel_for(BT, grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      const double* cs = table->cs.data() + (pos[t] - table->lo) * half * 2;
      rotate_row(out + t * row, x + t * row, cs, NH, HS, sign);
    }
  });
}

}  // namespace vlmc
