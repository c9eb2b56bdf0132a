// Sequential's layer fusion: batch norm applies a following ReLU / LeakyReLU in its own pass,
// forward and backward (gan::batch_norm_then_leaky). It must give the same bits as the two
// layers, in training and in eval mode, and its gradient must pass the finite-difference check.

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gan/autograd/grad_check.hpp"
#include "gan/core/random.hpp"
#include "gan/losses/bce.hpp"
#include "gan/models/dcgan.hpp"
#include "gan/nn/activation.hpp"
#include "gan/nn/batch_norm.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/conv_transpose2d.hpp"
#include "gan/nn/instance_norm.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/ops/activations.hpp"
#include "gan/ops/elementwise.hpp"
#include "gan/optim/adam.hpp"

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

// conv + BN + ReLU, convT + BN + LeakyReLU(0.2), BN + Tanh (not fused).
nn::Sequential<float> small_net(gan::Rng& rng) {
  nn::Conv2dOptions c1{3, 16, 3, 1, 1};
  nn::ConvTranspose2dOptions c2{16, 33, 4, 2, 1};
  return nn::Sequential<float>(std::make_shared<nn::Conv2d<float>>(c1, rng), trained_bn(16, rng),
                               std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::ConvTranspose2d<float>>(c2, rng),
                               trained_bn(33, rng), std::make_shared<nn::LeakyReLU<float>>(0.2), trained_bn(33, rng),
                               std::make_shared<nn::Tanh<float>>());
}

// One forward + backward of `net` on a random (shape) input with a random output gradient:
// the output, the input's gradient, the parameters' gradients and the buffers.
std::vector<Tensor<float>> forward_backward(nn::Sequential<float>& net, const Shape& shape, gan::Rng& rng) {
  const Var<float> x(gan::randn<float>(shape, rng), true);
  Var<float> y = net(x);
  y.backward(gan::randn<float>(y.shape(), rng));
  std::vector<Tensor<float>> out{y.value(), x.grad()};
  for (auto& [name, p] : net.named_parameters()) out.push_back(p.grad());
  for (auto& [name, b] : net.named_buffers()) out.push_back(b);
  return out;
}

void expect_same_bits(const std::vector<Tensor<float>>& fused, const std::vector<Tensor<float>>& plain) {
  REQUIRE(fused.size() == plain.size());
  for (std::size_t i = 0; i < fused.size(); ++i) {
    CAPTURE(i);
    CHECK(same_bits(fused[i], plain[i]));
  }
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

TEST_CASE("Sequential hands a ReLU / LeakyReLU to the layer before it unless fusion is off") {
  auto probe = std::make_shared<FusionProbe>();
  nn::Sequential<float> net(probe, std::make_shared<nn::LeakyReLU<float>>(0.2));
  const Var<float> x(Tensor<float>::full(Shape{1, 2, 3, 3}, -1.f));
  CHECK(net(x).value()[0] == 42.f);
  CHECK(probe->seen_slope == doctest::Approx(0.2));
  net.set_fusion(false);
  CHECK(net(x).value()[0] == doctest::Approx(-0.2));
}

TEST_CASE("fused batch norm + activation: same bits as the two layers in eval mode") {
  gan::Rng rng(31);
  nn::Sequential<float> net = small_net(rng);
  const Var<float> x(gan::randn<float>(Shape{3, 3, 9, 7}, rng));
  net.eval();
  gan::NoGradGuard no_grad;
  const Tensor<float> fused = net(x).value();
  net.set_fusion(false);
  CHECK(same_bits(fused, net(x).value()));
}

TEST_CASE("fused batch norm + activation: same output, gradients and running statistics in training") {
  auto run = [](bool fusion) {
    gan::Rng rng(32);
    nn::Sequential<float> net = small_net(rng);
    net.set_fusion(fusion);
    return forward_backward(net, Shape{3, 3, 9, 7}, rng);
  };
  expect_same_bits(run(true), run(false));
}

TEST_CASE("fused instance norm + activation: same output and gradients as the two layers") {
  auto run = [](bool fusion) {
    gan::Rng rng(37);
    nn::InstanceNormOptions affine{16};
    affine.affine = true;
    auto in1 = std::make_shared<nn::InstanceNorm2d<float>>(affine);
    gan::fill_uniform(in1->weight().value(), 0.5, 1.5, rng);
    gan::fill_uniform(in1->bias().value(), -0.3, 0.3, rng);
    nn::Conv2dOptions c1{3, 16, 3, 1, 1}, c2{16, 5, 3, 2, 1};
    nn::Sequential<float> net(std::make_shared<nn::Conv2d<float>>(c1, rng), in1, std::make_shared<nn::LeakyReLU<float>>(0.2),
                              std::make_shared<nn::Conv2d<float>>(c2, rng), std::make_shared<nn::InstanceNorm2d<float>>(5),
                              std::make_shared<nn::ReLU<float>>());
    net.set_fusion(fusion);
    return forward_backward(net, Shape{2, 3, 11, 9}, rng);
  };
  expect_same_bits(run(true), run(false));
}

TEST_CASE("instance_norm_then_leaky passes the gradient check") {
  for (double slope : {0.0, 0.2}) {
    CAPTURE(slope);
    gan::Rng rng(38);
    Var<double> x(gan::randn<double>(Shape{2, 3, 3, 4}, rng), true);
    Var<double> gamma(gan::rand<double>(Shape{3}, 0.5, 1.5, rng), true);
    Var<double> beta(gan::rand<double>(Shape{3}, -0.5, 0.5, rng), true);
    auto r = gan::grad_check([&] { return gan::instance_norm_then_leaky(x, gamma, beta, 1e-5, slope); }, {x, gamma, beta});
    CHECK_MESSAGE(r.ok, r.worst);
  }
}

TEST_CASE("batch_norm_then_leaky passes the gradient check") {
  for (double slope : {0.0, 0.2, 1.0})
    for (bool batch_stats : {true, false}) {
      CAPTURE(slope);
      CAPTURE(batch_stats);
      gan::Rng rng(33);
      Var<double> x(gan::randn<double>(Shape{3, 4, 3, 2}, rng), true);
      Var<double> gamma(gan::rand<double>(Shape{4}, 0.5, 1.5, rng), true);
      Var<double> beta(gan::rand<double>(Shape{4}, -0.5, 0.5, rng), true);
      Tensor<double> rm = gan::rand<double>(Shape{4}, -0.3, 0.3, rng), rv = gan::rand<double>(Shape{4}, 0.5, 2, rng);
      gan::BatchNormParams p{batch_stats, 0.0, 1e-5};  // momentum 0: the running statistics stay put
      auto r = gan::grad_check([&] { return gan::batch_norm_then_leaky(x, gamma, beta, rm, rv, p, slope); },
                               {x, gamma, beta});
      CHECK_MESSAGE(r.ok, r.worst);
    }
}

TEST_CASE("a negative slope is not fused, and the op refuses it") {
  gan::Rng rng(34);
  auto bn = trained_bn(4, rng);
  const Var<float> x(gan::randn<float>(Shape{2, 4, 5, 5}, rng));
  CHECK_FALSE(bn->forward_then_leaky(x, -0.5).defined());
  nn::Sequential<float> net(bn, std::make_shared<nn::LeakyReLU<float>>(-0.5));
  const Tensor<float> y = net(x).value();
  net.set_fusion(false);
  CHECK(same_bits(y, net(x).value()));
  CHECK_THROWS_WITH_AS(gan::batch_norm_then_leaky(x, bn->weight(), bn->bias(), bn->running_mean(), bn->running_var(),
                                                  gan::BatchNormParams{}, -0.5),
                       doctest::Contains("negative_slope >= 0"), gan::Error);
}

TEST_CASE("a fused layer's errors still name the layer and its position") {
  gan::Rng rng(35);
  nn::Sequential<float> net(trained_bn(4, rng), std::make_shared<nn::ReLU<float>>());
  const Var<float> wrong(gan::randn<float>(Shape{2, 3, 5, 5}, rng));
  CHECK_THROWS_WITH_AS(net(wrong), doctest::Contains("Sequential[0] > BatchNorm2d(4)"), gan::Error);
}

TEST_CASE("DCGAN training steps and sampling give the same bits with and without fusion") {
  auto run = [](bool fusion) {
    gan::models::DcganOptions o;
    o.width = 8;
    gan::models::DcganGenerator<float> G(o);
    gan::models::DcganDiscriminator<float> D(o);
    gan::Rng rng(36);
    gan::models::dcgan_init(G, rng);
    gan::models::dcgan_init(D, rng);
    nn::set_fusion(G, fusion);
    nn::set_fusion(D, fusion);
    gan::optim::AdamOptions adam;
    adam.lr = 2e-3, adam.beta1 = 0.5;
    gan::optim::Adam<float> opt_g(G.parameters(), adam), opt_d(D.parameters(), adam);
    const Var<float> real(gan::rand<float>(Shape{8, 1, 28, 28}, -1, 1, rng));
    for (int step = 0; step < 2; ++step) {
      Var<float> fake = G(Var<float>(gan::randn<float>(Shape{8, o.z_dim}, rng)));
      opt_d.zero_grad();
      (gan::bce_with_logits(D(real), 1.0) + gan::bce_with_logits(D(fake.detach()), 0.0)).backward();
      opt_d.step();
      opt_g.zero_grad();
      gan::bce_with_logits(D(fake), 1.0).backward();
      opt_g.step();
    }
    std::vector<Tensor<float>> out;
    for (auto& [name, p] : G.named_parameters()) out.push_back(p.value());
    for (auto& [name, p] : D.named_parameters()) out.push_back(p.value());
    for (auto& [name, b] : G.named_buffers()) out.push_back(b);
    G.eval();
    gan::NoGradGuard no_grad;
    out.push_back(G(Var<float>(gan::randn<float>(Shape{5, o.z_dim}, rng))).value());
    return out;
  };
  expect_same_bits(run(true), run(false));
}
