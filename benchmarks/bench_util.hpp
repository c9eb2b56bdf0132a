#pragma once
// Shared pieces of the benchmarks: the thread-count argument, minor page faults per
// iteration (getrusage), the GFLOP/s counter, and the three passes of a layer registered at
// 1 and 2 threads.

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdint>
#include <string>

#include "gan/core/parallel.hpp"

namespace gan_bench {

inline long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Sets the OpenMP team from the benchmark's `threads` argument (range 0).
inline int use_threads(const benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  gan::set_num_threads(threads);
  return threads;
}

// flops: floating-point operations of one iteration (2 x multiply-adds).
inline void report(benchmark::State& state, double flops, long faults_before) {
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["minflt"] = benchmark::Counter(static_cast<double>(minor_faults() - faults_before),
                                                benchmark::Counter::kAvgIterations);
}

// The passes every layer benchmark times; backward-weight includes the bias gradient.
enum class Pass { forward, backward_data, backward_weight };
inline const char* pass_name(Pass p) {
  return p == Pass::forward ? "fwd" : p == Pass::backward_data ? "bwd_data" : "bwd_weight";
}

// One warm-up call (workspaces enter the cache, pages are faulted in), then the timed loop.
template <class Once>
void time_calls(benchmark::State& state, Once&& once, double flops) {
  once();
  const long faults = minor_faults();
  for (auto _ : state) {
    once();
    benchmark::ClobberMemory();
  }
  report(state, flops, faults);
}

// Registers <name>/fwd, /bwd_data and /bwd_weight, each at 1 and 2 threads; run(state, pass).
template <class Run>
void register_passes(const std::string& name, Run run, benchmark::TimeUnit unit) {
  for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weight})
    benchmark::RegisterBenchmark((name + "/" + pass_name(p)).c_str(), [run, p](benchmark::State& st) { run(st, p); })
        ->ArgName("threads")
        ->Arg(1)
        ->Arg(2)
        ->UseRealTime()
        ->Unit(unit);
}

}  // namespace gan_bench
