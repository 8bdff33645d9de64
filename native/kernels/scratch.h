// Per-thread scratch memory for kernels that need temporary buffers (packed GEMM panels,
// attention score blocks). Kernels never allocate per call: each thread keeps grow-only, 64-byte
// aligned buffers, and pool workers are persistent, so these are allocated once per thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace vlmc {

class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(p_); }

  /** A buffer of at least n floats; contents are unspecified; valid until the next get(). */
  float* get(int64_t n) {
    if (n > cap_) {
      std::free(p_);
      cap_ = std::max<int64_t>(n, cap_ + cap_ / 2);
      p_ = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>((cap_ * 4 + 63) / 64 * 64)));
    }
    return p_;
  }

 private:
  float* p_ = nullptr;
  int64_t cap_ = 0;
};

}  // namespace vlmc
