// The persistent thread pool behind run_tasks (see threadpool.h for the contract).
//
// Protocol for one job: the caller publishes (fn, ctx, ntasks) and a new generation in `state_`,
// wakes the workers, and takes task indices from `next_task_` itself. A worker that notices the new
// generation *joins* it (one CAS on `state_`: generation unchanged, job still open -> active + 1),
// takes tasks until none are left, then leaves (active - 1). When the caller runs out of tasks it
// closes the job (no more joins) and waits only for workers that joined. A worker that was asleep or
// descheduled therefore never delays the caller: on a busy machine the caller simply does the work.
// Workers spin briefly before sleeping because kernels come in bursts (a layer's matmuls), and a
// futex wake-up costs tens of microseconds on a VM.
#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VLMC_PAUSE() _mm_pause()
#else
#define VLMC_PAUSE() std::this_thread::yield()
#endif

namespace vlmc {
namespace {

thread_local bool tl_in_task = false;  // nested run_tasks calls run inline

// How long an idle worker spins before parking, and how long the caller spins before yielding.
constexpr auto kSpin = std::chrono::microseconds(40);

class ThreadPool {
 public:
  explicit ThreadPool(int n) { start(n); }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int n) {
    std::lock_guard<std::mutex> job(job_mu_);
    stop();
    start(n);
  }

  void run(int64_t ntasks, TaskFn fn, void* ctx) {
    if (tl_in_task || workers_.empty() || ntasks <= 1) return run_inline(ntasks, fn, ctx);
    std::unique_lock<std::mutex> job(job_mu_, std::try_to_lock);
    if (!job.owns_lock()) return run_inline(ntasks, fn, ctx);  // another JS thread holds the pool

    fn_ = fn;
    ctx_ = ctx;
    ntasks_ = ntasks;
    next_task_.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(mu_);  // so that a worker about to sleep cannot miss it
      state_.store(++generation_ << kGenShift, std::memory_order_release);
    }
    cv_.notify_all();

    tl_in_task = true;
    work();
    tl_in_task = false;

    // Close the job, then wait for the workers that joined it to finish their last task.
    state_.fetch_or(kClosed, std::memory_order_acq_rel);
    const auto t0 = std::chrono::steady_clock::now();
    for (int spins = 0; (state_.load(std::memory_order_acquire) & kActive) != 0; spins++) {
      if (spins < 64 || std::chrono::steady_clock::now() - t0 < kSpin) {
        VLMC_PAUSE();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  static void run_inline(int64_t ntasks, TaskFn fn, void* ctx) {
    const bool outer = tl_in_task;
    tl_in_task = true;
    for (int64_t t = 0; t < ntasks; t++) fn(ctx, t);
    tl_in_task = outer;
  }

  void work() {
    for (;;) {
      const int64_t t = next_task_.fetch_add(1, std::memory_order_relaxed);
      if (t >= ntasks_) return;
      fn_(ctx_, t);
    }
  }

  // `seen` is the generation at spawn time: a job published before this thread first runs must
  // still count as new for it.
  void worker_loop(uint64_t seen) {
    tl_in_task = true;
    auto generation = [this] { return state_.load(std::memory_order_acquire) >> kGenShift; };
    for (;;) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int spins = 0; generation() == seen && !stop_; spins++) {
        if ((spins & 63) == 63 && std::chrono::steady_clock::now() - t0 > kSpin) break;
        VLMC_PAUSE();
      }
      if (generation() == seen) {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stop_ || generation() != seen; });
      }
      if (stop_) return;
      seen = generation();
      if (join(seen)) {
        work();
        state_.fetch_sub(1, std::memory_order_release);
      }
    }
  }

  // Joins job `gen` if it is still the current one and still open.
  bool join(uint64_t gen) {
    uint64_t s = state_.load(std::memory_order_acquire);
    while ((s >> kGenShift) == gen && (s & kClosed) == 0) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
    }
    return false;
  }

  void start(int n) {
    n = std::clamp(n, 1, 256);
    stop_ = false;
    const uint64_t gen = generation_ & 0xFFFFFFFFu;  // as it reads back from state_
    for (int i = 0; i < n - 1; i++) workers_.emplace_back([this, gen] { worker_loop(gen); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  // state_: generation << 32 | closed bit | number of workers inside the job.
  static constexpr int kGenShift = 32;
  static constexpr uint64_t kClosed = uint64_t{1} << 31;
  static constexpr uint64_t kActive = kClosed - 1;

  std::mutex job_mu_;  // one job (or resize) at a time
  std::mutex mu_;      // for sleeping workers
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> state_{0};
  uint64_t generation_ = 0;  // the caller's copy (written under job_mu_)
  std::atomic<int64_t> next_task_{0};
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t ntasks_ = 0;
  std::atomic<bool> stop_{false};
};

int default_threads() {
  if (const char* env = std::getenv("VLMC_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

// Never destroyed: joining threads from a static destructor at process exit can deadlock, and the
// OS reclaims parked workers anyway.
ThreadPool& pool() {
  static ThreadPool* p = new ThreadPool(default_threads());
  return *p;
}

}  // namespace

int num_threads() { return pool().threads(); }
void set_num_threads(int n) { pool().resize(n); }
void run_tasks(int64_t ntasks, TaskFn fn, void* ctx) { pool().run(ntasks, fn, ctx); }

}  // namespace vlmc
