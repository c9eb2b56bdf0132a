// FMA peak probe: each thread runs independent chains of fused multiply-adds on full
// registers of the default xsimd arch (what the conv kernels use), enough chains to hide
// the FMA latency on two pipes. GFLOPs is the machine's practical fp32 peak for "% of peak".

#include <cstdint>

#include "bench_util.hpp"
#include "gan/config.hpp"
#include "gan/kernels/simd.hpp"

namespace {

using Vec = gan::simd::simd_batch<float>;
constexpr int kChains = 16;
constexpr std::int64_t kSteps = 1 << 20;

__attribute__((noinline)) float fma_chains(std::int64_t steps, float seed) {
  Vec acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = Vec(seed + static_cast<float>(c));
  const Vec m(0.999999f), a(1e-7f);
  for (std::int64_t i = 0; i < steps; ++i)
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = xsimd::fma(acc[c], m, a);
  Vec sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum += acc[c];
  return gan::simd::hsum(sum);
}

void fma_peak(benchmark::State& state) {
  const int threads = gan_bench::use_threads(state);
  for (auto _ : state) {
#if GAN_HAS_OPENMP
#pragma omp parallel num_threads(threads)
#endif
    benchmark::DoNotOptimize(fma_chains(kSteps, 1.0f));
  }
  const double flops = 2.0 * threads * kSteps * kChains * Vec::size;
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(fma_peak)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
