// Persistent thread pool shared by every native kernel.
//
// What it is: N-1 std::thread workers (N = threads, the calling thread is the N-th) that park on a
// condition variable after a short spin, and a task runner `run_tasks(ntasks, fn)` where tasks are
// handed out through an atomic counter. Spawning threads per call would cost ~50-100 us, more than
// many kernels take.
// What it is not: a general scheduler. There is one job at a time; a call made while the pool is busy
// (from a task, or from a second JS thread) runs its tasks inline on the calling thread.
//
// Determinism: kernels choose their task split from the problem size only, never from the thread
// count, and each output element is produced by exactly one task in a fixed order, so results are
// bitwise identical for any number of threads.
#pragma once

#include <cstdint>

namespace vlmc {

using TaskFn = void (*)(void* ctx, int64_t task);

/** Threads used by kernels, including the caller (>= 1). */
int num_threads();
/** Restarts the pool with n threads in total (clamped to [1, 256]). */
void set_num_threads(int n);
/** Runs fn(ctx, t) for every t in [0, ntasks) and returns when all are done. */
void run_tasks(int64_t ntasks, TaskFn fn, void* ctx);

/** run_tasks with a callable f(task). */
template <class F>
void parallel_tasks(int64_t ntasks, const F& f) {
  if (ntasks <= 0) return;
  if (ntasks == 1) {
    f(int64_t{0});
    return;
  }
  run_tasks(ntasks, [](void* ctx, int64_t t) { (*static_cast<const F*>(ctx))(t); },
            const_cast<F*>(&f));
}

/**
 * Calls f(begin, end) over chunks covering [0, n). `grain` is the smallest chunk worth a task
 * (callers pick it from the cost per item, e.g. ~32K elements for a memory-bound loop). The split
 * depends on n and grain only (see the determinism note above).
 */
template <class F>
void parallel_for(int64_t n, int64_t grain, const F& f) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t chunks = n / grain;
  if (chunks > 64) chunks = 64;  // enough to balance 2-32 threads, few enough to stay cheap
  if (chunks <= 1) {
    f(int64_t{0}, n);
    return;
  }
  const int64_t step = (n + chunks - 1) / chunks;
  parallel_tasks((n + step - 1) / step, [&](int64_t t) {
    const int64_t b = t * step, e = b + step < n ? b + step : n;
    f(b, e);
  });
}

}  // namespace vlmc
