#pragma once
// Shared pieces of the benchmarks: the thread-count argument, minor page faults per
// iteration (getrusage), and the GFLOP/s counter.

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdint>

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

}  // namespace gan_bench
