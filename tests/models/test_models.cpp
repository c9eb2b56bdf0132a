#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "gan/autograd/grad_check.hpp"
#include "gan/losses/bce.hpp"
#include "gan/models/conditional.hpp"
#include "gan/models/dcgan.hpp"
#include "gan/models/patchgan.hpp"
#include "gan/models/unet_generator.hpp"
#include "gan/nn/residual_block.hpp"
#include "gan/ops/one_hot.hpp"
#include "gan/ops/reduce.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;

TEST_CASE("DCGAN 28x28 and 64x64 produce the documented shapes") {
  gan::Rng rng(1);
  for (std::int64_t size : {28, 64}) {
    gan::models::DcganOptions o;
    o.image_size = size, o.width = 4, o.z_dim = 8;
    gan::models::DcganGenerator<float> g(o);
    gan::models::DcganDiscriminator<float> d(o);
    gan::models::dcgan_init(g, rng);
    Var<float> z(gan::randn<float>(Shape{3, 8}, rng));
    Var<float> x = g(z);
    CHECK(x.shape() == Shape{3, 1, size, size});
    for (float v : x.value()) REQUIRE(std::abs(v) <= 1.0f);  // tanh output
    CHECK(d(x).shape() == Shape{3, 1});
  }
}

TEST_CASE("DCGAN follows the paper: no norm on D's input layer or G's output layer") {
  gan::models::DcganOptions o;
  o.width = 4, o.z_dim = 8;
  gan::models::DcganGenerator<float> g(o);
  gan::models::DcganDiscriminator<float> d(o);
  auto gp = g.named_parameters();
  auto dp = d.named_parameters();
  // G: convT(+BN) x2, then the output convT with bias and no BN. D: conv without BN first.
  CHECK(gp.back().first == "net.6.bias");
  CHECK(dp[0].first == "net.0.weight");
  CHECK(dp[1].first == "net.0.bias");   // the input conv keeps its bias: no norm follows it
  CHECK(dp[2].first == "net.2.weight"); // second conv, bias-free: batch norm follows
  CHECK(dp[3].first == "net.3.weight");
}

TEST_CASE("DCGAN extra_layers adds 3x3 conv + BN blocks at the largest hidden resolution") {
  gan::Rng rng(2);
  for (std::int64_t size : {28, 64}) {
    gan::models::DcganOptions o;
    o.image_size = size, o.width = 4, o.z_dim = 8;
    gan::models::DcganGenerator<float> g0(o);
    gan::models::DcganDiscriminator<float> d0(o);
    o.extra_layers = 2;
    gan::models::DcganGenerator<float> g(o);
    gan::models::DcganDiscriminator<float> d(o);
    // Each block: a 3x3 w -> w weight without bias, and BN's scale and shift.
    const std::int64_t per_block = 4 * 4 * 9 + 2 * 4;
    CHECK(g.parameter_count() == g0.parameter_count() + 2 * per_block);
    CHECK(d.parameter_count() == d0.parameter_count() + 2 * per_block);
    gan::models::dcgan_init(g, rng);
    gan::models::dcgan_init(d, rng);
    Var<float> x = g(Var<float>(gan::randn<float>(Shape{3, 8}, rng)));
    CHECK(x.shape() == Shape{3, 1, size, size});
    CHECK(d(x).shape() == Shape{3, 1});
  }
  gan::models::DcganOptions bad;
  bad.extra_layers = -1;
  CHECK_THROWS_WITH_AS(gan::models::DcganGenerator<float>{bad}, doctest::Contains("extra_layers"), gan::Error);
}

TEST_CASE("requires_grad_(false) on D: the G step's gradients are unchanged and D gets none") {
  gan::models::DcganOptions o;
  o.width = 4, o.z_dim = 8;
  gan::models::DcganGenerator<float> g(o);
  gan::models::DcganDiscriminator<float> d(o);
  gan::Rng rng(3);
  gan::models::dcgan_init(g, rng);
  gan::models::dcgan_init(d, rng);
  const Tensor<float> z = gan::randn<float>(Shape{4, 8}, rng);
  auto g_step = [&] {
    g.zero_grad(), d.zero_grad();
    gan::bce_with_logits(d(g(Var<float>(z))), 1.0).backward();
    std::vector<std::vector<float>> grads;
    for (auto& p : g.parameters()) grads.push_back(p.grad().to_vector());
    return grads;
  };
  auto d_grad_abs_sum = [&] {
    double sum = 0;
    for (auto& p : d.parameters())
      if (p.grad().defined())
        for (float v : p.grad()) sum += std::abs(v);
    return sum;
  };
  const auto with_d = g_step();
  CHECK(d_grad_abs_sum() > 0);
  d.requires_grad_(false);
  CHECK(g_step() == with_d);  // bit-identical: D's weight gradients never fed G's
  CHECK(d_grad_abs_sum() == 0);
  d.requires_grad_(true);
  g_step();
  CHECK(d_grad_abs_sum() > 0);
}

TEST_CASE("dcgan_init draws N(0, 0.02) weights, N(1, 0.02) norm scales, zero biases") {
  gan::models::DcganOptions o;
  o.width = 16;
  gan::models::DcganGenerator<float> g(o);
  gan::Rng rng(5);
  gan::models::dcgan_init(g, rng);
  for (auto& [name, p] : g.named_parameters()) {
    double mean = 0, sq = 0;
    for (float v : p.value()) mean += v, sq += double(v) * v;
    mean /= p.numel();
    double sd = std::sqrt(sq / p.numel() - mean * mean);
    if (name.find("bias") != std::string::npos) {
      CHECK(sq == 0);
    } else if (p.value().rank() == 1) {
      CHECK(mean == doctest::Approx(1.0).epsilon(0.05));
    } else {
      CHECK(std::abs(mean) < 0.002);
      CHECK(sd == doctest::Approx(0.02).epsilon(0.1));
    }
  }
}

TEST_CASE("wrong latent or image shapes name the model and the shape") {
  gan::models::DcganOptions o;
  o.width = 4, o.z_dim = 8;
  gan::models::DcganGenerator<float> g(o);
  gan::models::DcganDiscriminator<float> d(o);
  CHECK_THROWS_WITH_AS(g(Var<float>(Tensor<float>::zeros(Shape{2, 7}))), doctest::Contains("DcganGenerator(z=8"), gan::Error);
  CHECK_THROWS_WITH_AS(g(Var<float>(Tensor<float>::zeros(Shape{2, 7}))), doctest::Contains("(2, 7)"), gan::Error);
  CHECK_THROWS_WITH_AS(d(Var<float>(Tensor<float>::zeros(Shape{2, 1, 32, 32}))), doctest::Contains("DcganDiscriminator"), gan::Error);
  CHECK_THROWS_WITH_AS(d(Var<float>(Tensor<float>::zeros(Shape{2, 1, 32, 32}))), doctest::Contains("(2, 1, 32, 32)"), gan::Error);
  o.image_size = 32;
  CHECK_THROWS_AS(gan::models::DcganGenerator<float>{o}, gan::Error);
}

TEST_CASE("PatchGAN receptive fields are 1/16/34/70/142/286") {
  const std::int64_t expected[] = {1, 16, 34, 70, 142, 286};
  for (int n = 0; n <= 5; ++n) CHECK(gan::models::patchgan_receptive_field(n) == expected[n]);
}

TEST_CASE("PatchGAN: one logit depends on exactly its receptive field (measured by backprop)") {
  for (int n : {1, 2, 3}) {
    gan::models::PatchGanOptions o;
    o.input_channels = 1, o.base_width = 2, o.n_layers = n, o.norm = gan::nn::Norm::none;
    gan::models::PatchGan<double> d(o);
    const std::int64_t field = gan::models::patchgan_receptive_field(n);
    const std::int64_t size = 2 * field + 16;
    gan::Rng rng(n);
    Var<double> x(gan::randn<double>(Shape{1, 1, size, size}, rng), true);
    Var<double> y = d(x);
    // Seed the gradient at one central logit; the input pixels it reaches span the field.
    Tensor<double> seed = Tensor<double>::zeros(y.shape());
    const std::int64_t oy = y.dim(2) / 2, ox = y.dim(3) / 2;
    seed.at(0, 0, oy, ox) = 1;
    y.backward(seed);
    std::int64_t first = -1, last = -1;
    for (std::int64_t c = 0; c < size; ++c) {
      bool any = false;
      for (std::int64_t r = 0; r < size; ++r) any = any || x.grad().at(0, 0, r, c) != 0;
      if (any && first < 0) first = c;
      if (any) last = c;
    }
    CHECK(last - first + 1 == field);
  }
}

TEST_CASE("ResidualBlock and UnetBlock pass the finite-difference check") {
  gan::Rng rng(3);
  SUBCASE("residual block with batch norm, batch 2, odd size") {
    gan::nn::ResidualBlockOptions o;
    o.channels = 2;
    gan::nn::ResidualBlock<double> block(o);
    Var<double> x(gan::randn<double>(Shape{2, 2, 5, 3}, rng), true);
    auto inputs = block.parameters();
    inputs.push_back(x);
    auto r = gan::grad_check([&] { return block(x); }, inputs, {1e-5, 1e-5, 1e-3});
    CHECK_MESSAGE(r.ok, r.worst);
  }
  SUBCASE("innermost U-Net block with instance norm, batch 1") {
    gan::nn::UnetBlockOptions o;
    o.outer_channels = 2, o.inner_channels = 3, o.position = gan::nn::UnetBlockOptions::innermost;
    o.norm = gan::nn::Norm::instance;
    gan::nn::UnetBlock<double> block(o, nullptr);
    Var<double> x(gan::randn<double>(Shape{1, 2, 4, 6}, rng), true);
    CHECK(block(x).shape() == Shape{1, 4, 4, 6});  // input ++ output channels
    auto inputs = block.parameters();
    inputs.push_back(x);
    auto r = gan::grad_check([&] { return block(x); }, inputs, {1e-5, 1e-5, 1e-3});
    CHECK_MESSAGE(r.ok, r.worst);
  }
}

TEST_CASE("U-Net generator keeps the image size and rejects sizes it cannot halve") {
  gan::models::UnetGeneratorOptions o;
  o.num_downs = 5, o.base_width = 2;
  gan::models::UnetGenerator<float> g(o);
  gan::Rng rng(2);
  Var<float> x(gan::randn<float>(Shape{1, 3, 32, 32}, rng));
  CHECK(g(x).shape() == Shape{1, 3, 32, 32});
  CHECK_THROWS_WITH_AS(g(Var<float>(Tensor<float>::zeros(Shape{1, 3, 24, 32}))),
                       doctest::Contains("(1, 3, 24, 32)"), gan::Error);
}

TEST_CASE("conditional discriminator concatenates label maps as channels") {
  gan::models::PatchGanOptions o;
  o.input_channels = 1 + 10, o.base_width = 2, o.n_layers = 1;
  gan::models::ConditionalDiscriminator<float> d(std::make_shared<gan::models::PatchGan<float>>(o));
  Var<float> image(Tensor<float>::zeros(Shape{2, 1, 16, 16}));
  Var<float> labels(gan::one_hot_maps<float>({3, 7}, 10, 16, 16));
  CHECK(d(image, labels).dim(0) == 2);
  Var<float> wrong(gan::one_hot_maps<float>({3, 7}, 10, 8, 8));
  CHECK_THROWS_WITH_AS(d(image, wrong), doctest::Contains("(2, 10, 8, 8)"), gan::Error);
}

TEST_CASE("whole models pass the finite-difference check (double, batch 2)") {
  gan::Rng rng(9);
  gan::GradCheckOptions check{1e-5, 1e-5, 1e-3};
  check.max_checks_per_input = 60;  // spread over each tensor; keeps the ASan run short
  SUBCASE("DCGAN generator, 28x28") {
    gan::models::DcganOptions o;
    o.width = 2, o.z_dim = 3;
    gan::models::DcganGenerator<double> g(o);
    gan::models::dcgan_init(g, rng);
    Var<double> z(gan::randn<double>(Shape{2, 3}, rng), true);
    auto inputs = g.parameters();
    inputs.push_back(z);
    auto r = gan::grad_check([&] { return g(z); }, inputs, check);
    CHECK_MESSAGE(r.ok, r.worst);
  }
  SUBCASE("PatchGAN with instance norm, odd input") {
    gan::models::PatchGanOptions o;
    o.input_channels = 2, o.base_width = 2, o.n_layers = 1, o.norm = gan::nn::Norm::instance;
    gan::models::PatchGan<double> d(o);
    Var<double> x(gan::randn<double>(Shape{2, 2, 17, 15}, rng), true);
    auto inputs = d.parameters();
    inputs.push_back(x);
    auto r = gan::grad_check([&] { return d(x); }, inputs, check);
    CHECK_MESSAGE(r.ok, r.worst);
  }
}
