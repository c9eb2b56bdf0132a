// Sequential's inference fusion: with no graph recorded, batch norm on running statistics
// applies a following ReLU / LeakyReLU in its own pass. It must give the same bits as the
// two passes, and stay out of the way in training mode and when gradients are recorded.

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "gan/core/random.hpp"
#include "gan/models/dcgan.hpp"
#include "gan/nn/activation.hpp"
#include "gan/nn/batch_norm.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/conv_transpose2d.hpp"
#include "gan/nn/sequential.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
namespace nn = gan::nn;

namespace {
bool same_bits(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.numel()) * sizeof(float)) == 0;
}

// Batch norm whose running statistics and affine parameters are far from the defaults, so a
// fused pass that skipped or reordered any of them would change the output.
std::shared_ptr<nn::BatchNorm2d<float>> trained_bn(std::int64_t c, gan::Rng& rng) {
  auto bn = std::make_shared<nn::BatchNorm2d<float>>(c);
  Tensor<float> mean = bn->running_mean(), var = bn->running_var();  // handles: writes go through
  gan::fill_uniform(mean, -0.5, 0.5, rng);
  gan::fill_uniform(var, 0.2, 3.0, rng);
  gan::fill_uniform(bn->weight().value(), 0.5, 1.5, rng);
  gan::fill_uniform(bn->bias().value(), -0.3, 0.3, rng);
  return bn;
}

// Marks its output when Sequential takes the fused path, so a test can see which one ran.
class FusionProbe : public nn::Layer<float> {
 public:
  Var<float> forward(const Var<float>& x) override { return x; }
  Var<float> forward_then_leaky(const Var<float>& x, double slope) override {
    seen_slope = slope;
    return Var<float>(Tensor<float>::full(x.shape(), 42.f));
  }
  double seen_slope = -1;
};
}  // namespace

TEST_CASE("Sequential hands a ReLU / LeakyReLU to the layer before it only when nothing is recorded") {
  auto probe = std::make_shared<FusionProbe>();
  nn::Sequential<float> net(probe, std::make_shared<nn::LeakyReLU<float>>(0.2));
  const Var<float> x(Tensor<float>::full(Shape{1, 2, 3, 3}, -1.f));
  CHECK(net(x).value()[0] == doctest::Approx(-0.2));  // grad mode on: layer by layer
  {
    gan::NoGradGuard no_grad;
    CHECK(net(x).value()[0] == 42.f);
    CHECK(probe->seen_slope == doctest::Approx(0.2));
    net.set_inference_fusion(false);
    CHECK(net(x).value()[0] == doctest::Approx(-0.2));
  }
}

TEST_CASE("fused batch norm + activation gives the bits of the two passes") {
  gan::Rng rng(31);
  nn::Conv2dOptions c1{3, 16, 3, 1, 1};
  nn::ConvTranspose2dOptions c2{16, 33, 4, 2, 1};
  nn::Sequential<float> net(std::make_shared<nn::Conv2d<float>>(c1, rng), trained_bn(16, rng),
                            std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::ConvTranspose2d<float>>(c2, rng),
                            trained_bn(33, rng), std::make_shared<nn::LeakyReLU<float>>(0.2), trained_bn(33, rng),
                            std::make_shared<nn::Tanh<float>>());
  const Var<float> x(gan::randn<float>(Shape{3, 3, 9, 7}, rng));
  net.eval();
  gan::NoGradGuard no_grad;
  const Tensor<float> fused = net(x).value();
  net.set_inference_fusion(false);
  const Tensor<float> plain = net(x).value();
  CHECK(same_bits(fused, plain));
  // Negative pre-activations exist on both activations, or the test would not test them.
  net.set_inference_fusion(true);
  CHECK(fused.vec().minCoeff() < -0.1f);
}

TEST_CASE("batch norm in training mode or on batch statistics is never fused") {
  gan::Rng rng(32);
  auto bn = trained_bn(4, rng);
  const Var<float> x(gan::randn<float>(Shape{2, 4, 5, 5}, rng));
  gan::NoGradGuard no_grad;
  CHECK_FALSE(bn->forward_then_leaky(x, 0.0).defined());  // training mode
  bn->eval();
  CHECK(bn->forward_then_leaky(x, 0.0).defined());
  nn::BatchNormOptions keep_batch_stats{4};
  keep_batch_stats.batch_stats_in_eval = true;
  nn::BatchNorm2d<float> pix2pix_style(keep_batch_stats);
  pix2pix_style.eval();
  CHECK_FALSE(pix2pix_style.forward_then_leaky(x, 0.0).defined());
}

TEST_CASE("batch_norm_then_leaky refuses to run while a graph is recorded, and checks shapes") {
  gan::Rng rng(33);
  auto bn = trained_bn(4, rng);
  const Var<float> x(gan::randn<float>(Shape{2, 4, 5, 5}, rng));
  CHECK_THROWS_WITH_AS(gan::batch_norm_then_leaky(x, bn->weight(), bn->bias(), bn->running_mean(), bn->running_var(), 1e-5, 0.0),
                       doctest::Contains("NoGradGuard"), gan::Error);
  gan::NoGradGuard no_grad;
  const Var<float> wrong(gan::randn<float>(Shape{2, 3, 5, 5}, rng));
  CHECK_THROWS_WITH_AS(gan::batch_norm_then_leaky(wrong, bn->weight(), bn->bias(), bn->running_mean(), bn->running_var(), 1e-5, 0.0),
                       doctest::Contains("(2, 3, 5, 5)"), gan::Error);
  bn->eval();
  nn::Sequential<float> net(bn, std::make_shared<nn::ReLU<float>>());
  CHECK_THROWS_WITH_AS(net(wrong), doctest::Contains("BatchNorm2d(4)"), gan::Error);
}

TEST_CASE("a DCGAN generator samples the same bits with and without fusion") {
  gan::models::DcganOptions o;
  o.width = 8;
  gan::models::DcganGenerator<float> G(o);
  gan::Rng rng(34);
  gan::models::dcgan_init(G, rng);
  {  // a few training-mode passes so the running statistics are not the defaults
    gan::NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) G(Var<float>(gan::randn<float>(Shape{16, o.z_dim}, rng)));
  }
  G.eval();
  const Var<float> z(gan::randn<float>(Shape{5, o.z_dim}, rng));
  gan::NoGradGuard no_grad;
  const Tensor<float> fused = G(z).value();
  nn::set_inference_fusion(G, false);
  CHECK(same_bits(fused, G(z).value()));
  const Tensor<float> recorded = [&] {
    gan::GradMode::set_enabled(true);
    Tensor<float> t = G(z).value();
    gan::GradMode::set_enabled(false);
    return t;
  }();
  CHECK(same_bits(fused, recorded));
}
