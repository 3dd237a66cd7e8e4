// What handing one core's stretch of cycles to another host thread would cost
// (docs/multicore.md, "Simulation speed"): the round trip of posting a unit of
// work to a worker thread and learning that it is done, with a mutex and
// condition variable (the worker sleeps) and with a spinning worker (it keeps a
// host core busy). The co-simulated cores synchronise with SystemC every one
// or two cycles (the bridges' `sync_points`), so this round trip is paid per
// stretch of one or two core-cycles (about 2 us of wall time, measured with
// `sasim run`); BM_Handoff/same_thread runs the worker's job on the calling
// thread for comparison.
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace {

// The worker's job: a little arithmetic so that the round trip is not empty.
std::uint64_t job(std::uint64_t x) {
  for (int i = 0; i < 64; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

void bm_handoff_condvar(benchmark::State& state) {
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t posted = 0, done = 0, value = 1;
  bool stop = false;
  std::thread worker([&] {
    std::uint64_t seen = 0;
    std::unique_lock<std::mutex> lk(m);
    for (;;) {
      cv.wait(lk, [&] { return stop || posted != seen; });
      if (stop) return;
      seen = posted;
      value = job(value);
      done = seen;
      cv.notify_all();
    }
  });
  for (auto _ : state) {
    std::unique_lock<std::mutex> lk(m);
    ++posted;
    cv.notify_all();
    cv.wait(lk, [&] { return done == posted; });
  }
  {
    const std::lock_guard<std::mutex> lk(m);
    stop = true;
  }
  cv.notify_all();
  worker.join();
  benchmark::DoNotOptimize(value);
}

void bm_handoff_spin(benchmark::State& state) {
  std::atomic<std::uint64_t> posted{0}, done{0};
  std::atomic<bool> stop{false};
  std::uint64_t value = 1;
  std::thread worker([&] {
    std::uint64_t seen = 0;
    while (!stop.load(std::memory_order_acquire)) {
      const std::uint64_t p = posted.load(std::memory_order_acquire);
      if (p == seen) continue;
      seen = p;
      value = job(value);
      done.store(seen, std::memory_order_release);
    }
  });
  std::uint64_t n = 0;
  for (auto _ : state) {
    posted.store(++n, std::memory_order_release);
    while (done.load(std::memory_order_acquire) != n) {
    }
  }
  stop.store(true, std::memory_order_release);
  worker.join();
  benchmark::DoNotOptimize(value);
}

void bm_inline(benchmark::State& state) {
  std::uint64_t value = 1;
  for (auto _ : state) {
    value = job(value);
    benchmark::DoNotOptimize(value);
  }
}

}  // namespace

void register_thread_benchmarks() {
  benchmark::RegisterBenchmark("BM_Handoff/condition_variable", bm_handoff_condvar)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_Handoff/spinning_worker", bm_handoff_spin)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_Handoff/same_thread", bm_inline)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}
