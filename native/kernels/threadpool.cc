// The persistent thread pool behind run_tasks (see threadpool.h for the contract).
//
// Protocol for one job: the caller publishes (fn, ctx, ntasks), bumps `generation_` and wakes the
// workers; everybody (caller included) takes task indices from `next_task_` until they run out; each
// worker then checks in through `workers_done_`. The caller returns only once every worker has
// checked in, so no worker can still be reading the job fields when the next job overwrites them.
// Workers spin briefly before sleeping because kernels tend to come in bursts (a layer's matmuls),
// and a futex wake-up costs tens of microseconds on a VM.
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
    workers_done_.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();

    tl_in_task = true;
    work();
    tl_in_task = false;

    const int nworkers = static_cast<int>(workers_.size());
    const auto t0 = std::chrono::steady_clock::now();
    for (int spins = 0; workers_done_.load(std::memory_order_acquire) < nworkers; spins++) {
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
    for (;;) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int spins = 0; generation_.load(std::memory_order_acquire) == seen; spins++) {
        if ((spins & 63) == 63 && std::chrono::steady_clock::now() - t0 > kSpin) break;
        VLMC_PAUSE();
      }
      if (generation_.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stop_ || generation_.load(std::memory_order_acquire) != seen; });
      }
      if (stop_) return;
      seen = generation_.load(std::memory_order_acquire);
      work();
      workers_done_.fetch_add(1, std::memory_order_release);
    }
  }

  void start(int n) {
    n = std::clamp(n, 1, 256);
    stop_ = false;
    const uint64_t gen = generation_.load(std::memory_order_acquire);
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

  std::mutex job_mu_;  // one job (or resize) at a time
  std::mutex mu_;      // guards sleeping and stop_
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_task_{0};
  std::atomic<int> workers_done_{0};
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
