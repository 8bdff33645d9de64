// Row gather (embedding lookup, token pruning) and scatter-add (their backward), rows of C floats.
//
// What it is: gather copies rows in parallel. Scatter-add must add repeated indices in order, so it
// splits by column blocks (each task adds every row's slice of its columns, in index order) rather
// than by rows; the result is the same as the TS reference's sequential loop, bit for bit.
// What it is not: index validation (addon.cc checks 0 <= idx < rows before calling).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels.h"
#include "threadpool.h"

namespace vlmc {

void gather_rows(float* out, const float* x, const int32_t* idx, int64_t nIdx, int64_t C) {
  if (C <= 0) return;
  parallel_for(nIdx, std::max<int64_t>(1, (1 << 16) / C), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) std::memcpy(out + i * C, x + static_cast<int64_t>(idx[i]) * C, sizeof(float) * C);
  });
}

void scatter_add_rows(float* out, const float* x, const int32_t* idx, int64_t nIdx, int64_t C) {
  if (C <= 0 || nIdx <= 0) return;
  constexpr int64_t kCols = 256;
  const int64_t blocks = (C + kCols - 1) / kCols;
  const int64_t grain = std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(nIdx * kCols, 1));
  parallel_for(blocks, grain, [&](int64_t b0, int64_t b1) {
    const int64_t c0 = b0 * kCols, c1 = std::min(C, b1 * kCols);
    for (int64_t i = 0; i < nIdx; i++) {
      float* o = out + static_cast<int64_t>(idx[i]) * C;
      const float* xi = x + i * C;
      for (int64_t c = c0; c < c1; c++) o[c] += xi[c];
    }
  });
}

}  // namespace vlmc
