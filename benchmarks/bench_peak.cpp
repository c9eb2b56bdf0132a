// FMA peak probe: each thread runs independent chains of fused multiply-adds on full
// registers of the default xsimd arch (what the conv kernels use), enough chains to hide
// the FMA latency on two pipes. GFLOPs is the machine's practical fp32 peak for "% of peak".
// Also the conv micro-kernels alone on L1-resident data (one thread): how close the inner
// loops get to that peak, so the gap in bench_conv is the reorders, epilogues and memory.
// The micro-kernel rate is per CPU second (Google Benchmark's default for kIsRate).

#include <cstdint>

#include "bench_util.hpp"
#include "gan/config.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/simd.hpp"

namespace {

using Vec = gan::simd::simd_batch<float>;
// Two FMA pipes of latency 4-5 need 8-10 chains in flight; AVX2's 16 registers hold 12 next
// to the two constants (16 there spilled and read 55 GFLOP/s where the tiles ran at 84).
constexpr int kChains = gan::kernels::direct::kRegs >= 32 ? 16 : 12;
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

// A forward tile (kMaxPix pixels x kBlock channels, 64 input channels x 16 taps) and the
// weight-gradient tile shape 2 uses (kBlock channels x wgrad_group(piece) channels x
// wgrad_piece(4) taps over 49 pixels): on AVX-512 14 x 32 and 32 x 3 x 4, on AVX2 6 x 16 and
// 16 x 3 x 2.
void microkernel(benchmark::State& state) {
  namespace d = gan::kernels::direct;
  gan::set_num_threads(1);
  const bool wgrad = state.range(0) == 1;
  const int R = 64, T = 16;
  const std::int64_t wp = 16, plane = wp * wp;
  gan::Tensor<float> src = gan::Tensor<float>::full(gan::Shape{R * plane + 64}, 0.5f);
  gan::Tensor<float> w = gan::Tensor<float>::full(gan::Shape{R * T * d::kBlock}, 1e-3f);
  gan::Tensor<float> out = gan::Tensor<float>::zeros(gan::Shape{R * T * d::kBlock});
  gan::Tensor<float> dyt = gan::Tensor<float>::full(gan::Shape{49 * 4 * d::kBlock}, 0.1f);
  std::int64_t tap[16];
  for (int t = 0; t < T; ++t) tap[t] = (t / 4) * wp + t % 4;
  const std::int64_t piece = d::wgrad_piece(4);
  const int group = d::wgrad_group(piece);
  const d::WgradGeom g{R * plane, plane, wp, 49 * 4 * d::kBlock, d::kBlock, 7, 2, 2};  // dy^T as the kernels lay it out
  double flops = 0;
  for (auto _ : state) {
    if (wgrad) {
      d::wgrad_tile_fn(piece, group)(out.data(), T * d::kBlock, src.data(), dyt.data(), g, 1, 0, 7);
      flops += 2.0 * 49 * piece * group * d::kBlock;
    } else {
      d::conv_tile_fn(1, d::kMaxPix, 1)(out.data(), src.data(), plane, 2 * wp, R, tap, T, w.data());
      flops += 2.0 * R * T * d::kMaxPix * d::kBlock;
    }
    benchmark::ClobberMemory();
  }
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(microkernel)->ArgName("wgrad")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
