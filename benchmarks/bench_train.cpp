// One DCGAN-MNIST training step (batch 64) as examples/dcgan.cpp runs it: G(z) for fresh
// z, a D step on real (label 1) and G(z).detach() (label 0), a G step through D with D's
// parameters frozen (their gradients would only be zeroed before D's next step), Adam
// (lr 2e-4, betas 0.5, 0.999). Models: models::DcganGenerator / DcganDiscriminator at 28x28,
// width 64 (G: z100 -> convT k7 128x7x7 -> convT 64x14x14 -> convT 1x28x28 tanh, BN + ReLU;
// D: conv 64 -> conv 128 + BN, LeakyReLU 0.2 -> linear). Real images are random in [-1, 1]
// (the data loader is not what is measured). Counters: images/s, minor page faults per step.

#include <cstdint>

#include "bench_util.hpp"
#include "gan/core/random.hpp"
#include "gan/losses/bce.hpp"
#include "gan/models/dcgan.hpp"
#include "gan/ops/elementwise.hpp"
#include "gan/optim/adam.hpp"

namespace {

using gan::Shape;
using gan::Var;

void dcgan_step(benchmark::State& state) {
  gan_bench::use_threads(state);
  constexpr std::int64_t batch = 64, z_dim = 100;
  gan::models::DcganOptions shape;
  shape.z_dim = z_dim, shape.image_size = 28, shape.channels = 1, shape.width = 64;
  gan::models::DcganGenerator<float> G(shape);
  gan::models::DcganDiscriminator<float> D(shape);
  gan::Rng rng(1);
  gan::models::dcgan_init(G, rng);
  gan::models::dcgan_init(D, rng);
  gan::optim::AdamOptions adam;
  adam.lr = 2e-4, adam.beta1 = 0.5, adam.beta2 = 0.999;
  gan::optim::Adam<float> opt_g(G.parameters(), adam), opt_d(D.parameters(), adam);
  const Var<float> real(gan::rand<float>(Shape{batch, 1, 28, 28}, -1, 1, rng));

  auto step = [&] {
    Var<float> fake = G(Var<float>(gan::randn<float>(Shape{batch, z_dim}, rng)));
    opt_d.zero_grad();
    Var<float> loss_d = gan::bce_with_logits(D(real), 1.0) + gan::bce_with_logits(D(fake.detach()), 0.0);
    loss_d.backward();
    opt_d.step();
    opt_g.zero_grad();
    D.requires_grad_(false);
    Var<float> loss_g = gan::bce_with_logits(D(fake), 1.0);
    loss_g.backward();
    D.requires_grad_(true);
    opt_g.step();
    benchmark::DoNotOptimize(loss_g.item());
  };
  for (int i = 0; i < 3; ++i) step();  // warm-up: the caching allocator fills up
  const long faults = gan_bench::minor_faults();
  for (auto _ : state) step();
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["minflt"] = benchmark::Counter(static_cast<double>(gan_bench::minor_faults() - faults),
                                                benchmark::Counter::kAvgIterations);
}
BENCHMARK(dcgan_step)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// Sampling 64 images from the same generator in eval mode under NoGradGuard, with
// nn::Sequential's layer fusion (batch norm + ReLU in one pass) on or off.
void dcgan_sample(benchmark::State& state) {
  gan_bench::use_threads(state);
  const bool fused = state.range(1) != 0;
  constexpr std::int64_t batch = 64, z_dim = 100;
  gan::models::DcganOptions shape;
  shape.z_dim = z_dim, shape.image_size = 28, shape.channels = 1, shape.width = 64;
  gan::models::DcganGenerator<float> G(shape);
  gan::Rng rng(1);
  gan::models::dcgan_init(G, rng);
  G.eval();
  gan::nn::set_fusion(G, fused);
  gan::NoGradGuard no_grad;
  const Var<float> z(gan::randn<float>(Shape{batch, z_dim}, rng));
  for (int i = 0; i < 3; ++i) G(z);
  const long faults = gan_bench::minor_faults();
  for (auto _ : state) benchmark::DoNotOptimize(G(z).value().data());
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["minflt"] = benchmark::Counter(static_cast<double>(gan_bench::minor_faults() - faults),
                                                benchmark::Counter::kAvgIterations);
}
BENCHMARK(dcgan_sample)->ArgNames({"threads", "fused"})->ArgsProduct({{1, 2}, {0, 1}})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
