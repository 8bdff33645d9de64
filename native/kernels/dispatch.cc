// Detects the instruction set once and lets tests lower it (see dispatch.h).
#include "dispatch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace vlmc {
namespace {

Simd detect() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")) {
    return Simd::avx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")) {
    return Simd::avx2;
  }
#endif
  return Simd::scalar;
}

Simd from_env(Simd detected) {
  const char* env = std::getenv("VLMC_SIMD");
  if (env == nullptr) return detected;
  Simd want = detected;
  if (std::strcmp(env, "scalar") == 0) want = Simd::scalar;
  if (std::strcmp(env, "avx2") == 0) want = Simd::avx2;
  return want < detected ? want : detected;
}

const Simd kDetected = detect();
std::atomic<Simd> g_level{from_env(kDetected)};

}  // namespace

Simd simd_level() { return g_level.load(std::memory_order_relaxed); }

Simd set_simd_level(Simd want) {
  const Simd s = want < kDetected ? want : kDetected;
  g_level.store(s, std::memory_order_relaxed);
  return s;
}

const char* simd_name(Simd s) {
  switch (s) {
    case Simd::avx512:
      return "avx512";
    case Simd::avx2:
      return "avx2";
    default:
      return "scalar";
  }
}

}  // namespace vlmc
