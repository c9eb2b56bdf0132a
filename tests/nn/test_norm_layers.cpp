#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gan/core/random.hpp"
#include "gan/nn/batch_norm.hpp"
#include "gan/nn/instance_norm.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/nn/update_bn.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;

namespace {

// Per-channel mean and unbiased variance of x (N, C, S...), computed the obvious way.
void channel_stats(const Tensor<double>& x, std::vector<double>& mean, std::vector<double>& unbiased) {
  const std::int64_t n = x.dim(0), c = x.dim(1), s = x.numel() / (n * c), m = n * s;
  mean.assign(static_cast<std::size_t>(c), 0.0);
  unbiased.assign(static_cast<std::size_t>(c), 0.0);
  for (std::int64_t k = 0; k < c; ++k) {
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t i = 0; i < s; ++i) mean[k] += x[(b * c + k) * s + i] / m;
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t i = 0; i < s; ++i) unbiased[k] += std::pow(x[(b * c + k) * s + i] - mean[k], 2) / (m - 1);
  }
}

Tensor<double> shifted_randn(const Shape& s, std::uint64_t seed) {
  gan::Rng rng(seed);
  Tensor<double> t = gan::randn<double>(s, rng);
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = 2 * t[i] + static_cast<double>(i % 3);
  return t;
}

}  // namespace

TEST_CASE("BatchNorm2d registers PyTorch's parameter and buffer names") {
  gan::nn::BatchNorm2d<float> bn(4);
  CHECK(bn.describe() == "BatchNorm2d(4)");
  auto params = bn.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[1].first == "bias");
  CHECK(params[0].second.value()[3] == 1.0f);
  CHECK(params[1].second.value()[3] == 0.0f);
  auto buffers = bn.named_buffers();
  REQUIRE(buffers.size() == 3);
  CHECK(buffers[0].first == "running_mean");
  CHECK(buffers[1].first == "running_var");
  CHECK(buffers[2].first == "num_batches_tracked");
  CHECK(buffers[1].second[0] == 1.0f);

  gan::nn::BatchNormOptions bare{4};
  bare.affine = false;
  bare.track_running_stats = false;
  gan::nn::BatchNorm2d<float> plain(bare);
  CHECK(plain.named_parameters().empty());
  CHECK(plain.named_buffers().empty());
}

TEST_CASE("running statistics after three training steps match a hand computation") {
  gan::nn::BatchNormOptions opt{3};
  opt.momentum = 0.3;
  gan::nn::BatchNorm2d<double> bn(opt);
  std::vector<double> rm(3, 0.0), rv(3, 1.0), mean, unbiased;
  for (std::uint64_t step = 0; step < 3; ++step) {
    Tensor<double> x = shifted_randn(Shape{2, 3, 3, 5}, 100 + step);
    bn(Var<double>(x, false));
    channel_stats(x, mean, unbiased);
    for (std::size_t c = 0; c < 3; ++c) {
      rm[c] = 0.7 * rm[c] + 0.3 * mean[c];
      rv[c] = 0.7 * rv[c] + 0.3 * unbiased[c];
    }
  }
  for (std::int64_t c = 0; c < 3; ++c) {
    CHECK(bn.running_mean()[c] == doctest::Approx(rm[static_cast<std::size_t>(c)]).epsilon(1e-12));
    CHECK(bn.running_var()[c] == doctest::Approx(rv[static_cast<std::size_t>(c)]).epsilon(1e-12));
  }
  CHECK(bn.named_buffers()[2].second[0] == 3.0);
}

TEST_CASE("eval uses the running statistics and leaves them alone") {
  gan::nn::BatchNorm1d<double> bn(3);
  for (std::uint64_t step = 0; step < 2; ++step) bn(Var<double>(shifted_randn(Shape{4, 3, 2}, step), false));
  bn.weight().value()[1] = 2.0;
  bn.bias().value()[2] = -0.5;
  const Tensor<double> rm = bn.running_mean().clone(), rv = bn.running_var().clone();
  bn.eval();
  Tensor<double> x = shifted_randn(Shape{5, 3}, 50);
  Var<double> y = bn(Var<double>(x, false));
  for (std::int64_t n = 0; n < 5; ++n)
    for (std::int64_t c = 0; c < 3; ++c) {
      const double want = (x[n * 3 + c] - rm[c]) / std::sqrt(rv[c] + 1e-5) * bn.weight().value()[c] +
                          bn.bias().value()[c];
      CHECK(y.value()[n * 3 + c] == doctest::Approx(want).epsilon(1e-12));
    }
  for (std::int64_t c = 0; c < 3; ++c) {
    CHECK(bn.running_mean()[c] == rm[c]);
    CHECK(bn.running_var()[c] == rv[c]);
  }
  // A single sample is fine in eval: nothing is estimated from it.
  CHECK_NOTHROW(bn(Var<double>(Tensor<double>::ones(Shape{1, 3}), false)));
}

TEST_CASE("update_bn replaces running statistics by the average over the given batches") {
  // Two batch norms in a Sequential, the second behind a scaling: both must be found.
  auto first = std::make_shared<gan::nn::BatchNorm2d<double>>(3);
  auto second = std::make_shared<gan::nn::BatchNorm2d<double>>(3);
  gan::nn::Sequential<double> net(first, second);
  for (std::uint64_t step = 0; step < 4; ++step) net(Var<double>(shifted_randn(Shape{2, 3, 2, 3}, 10 + step), false));
  net.eval();
  const std::vector<Tensor<double>> batches = {shifted_randn(Shape{2, 3, 2, 3}, 30), shifted_randn(Shape{3, 3, 2, 3}, 31),
                                               shifted_randn(Shape{2, 3, 2, 3}, 32)};
  gan::nn::update_bn(net, 3, [&](std::int64_t k) { net(Var<double>(batches[static_cast<std::size_t>(k)], false)); });

  std::vector<double> want_mean(3, 0.0), want_var(3, 0.0), mean, unbiased;
  for (const auto& x : batches) {
    channel_stats(x, mean, unbiased);
    for (std::size_t c = 0; c < 3; ++c) want_mean[c] += mean[c] / 3, want_var[c] += unbiased[c] / 3;
  }
  for (std::int64_t c = 0; c < 3; ++c) {
    CHECK(first->running_mean()[c] == doctest::Approx(want_mean[static_cast<std::size_t>(c)]).epsilon(1e-12));
    CHECK(first->running_var()[c] == doctest::Approx(want_var[static_cast<std::size_t>(c)]).epsilon(1e-12));
    // The second sees each batch normalised by its own statistics: mean 0, unbiased variance m / (m - 1).
    CHECK(std::abs(second->running_mean()[c]) < 1e-9);
    CHECK(second->running_var()[c] == doctest::Approx(1.0).epsilon(0.1));
  }
  CHECK(!net.is_training());  // mode and momentum restored
  CHECK(first->options().momentum == 0.1);
  CHECK(second->options().momentum == 0.1);
  CHECK_THROWS_WITH(gan::nn::update_bn(net, 0, [](std::int64_t) {}), doctest::Contains("batches must be positive"));
}

TEST_CASE("batch_stats_in_eval normalises with batch statistics without touching running ones") {
  gan::nn::BatchNormOptions opt{2};
  opt.batch_stats_in_eval = true;
  gan::nn::BatchNorm2d<double> bn(opt);
  bn.eval();
  Tensor<double> x = shifted_randn(Shape{1, 2, 3, 3}, 7);  // pix2pix: batch 1 at test time
  Var<double> y = bn(Var<double>(x, false));
  std::vector<double> mean, unbiased;
  channel_stats(x, mean, unbiased);
  for (std::int64_t c = 0; c < 2; ++c) {
    const double biased = unbiased[static_cast<std::size_t>(c)] * 8 / 9;
    for (std::int64_t i = 0; i < 9; ++i)
      CHECK(y.value()[c * 9 + i] ==
            doctest::Approx((x[c * 9 + i] - mean[static_cast<std::size_t>(c)]) / std::sqrt(biased + 1e-5)));
    CHECK(bn.running_mean()[c] == 0.0);
    CHECK(bn.running_var()[c] == 1.0);
  }
  CHECK(bn.named_buffers()[2].second[0] == 0.0);

  gan::nn::BatchNormOptions untracked{2};
  untracked.track_running_stats = false;
  gan::nn::BatchNorm2d<double> bn2(untracked);
  bn2.eval();
  Var<double> y2 = bn2(Var<double>(x, false));
  for (std::int64_t i = 0; i < x.numel(); ++i) CHECK(y2.value()[i] == doctest::Approx(y.value()[i]));
}

TEST_CASE("batch norm layers pass gradients to weight and bias") {
  gan::nn::BatchNorm2d<double> bn(2);
  Var<double> x(shifted_randn(Shape{2, 2, 2, 3}, 3), true);
  Var<double> y = bn(x);
  Tensor<double> seed = shifted_randn(y.shape(), 4);
  y.backward(seed);
  REQUIRE(bn.weight().grad().defined());
  REQUIRE(bn.bias().grad().defined());
  for (std::int64_t c = 0; c < 2; ++c) {
    double sum = 0;
    for (std::int64_t n = 0; n < 2; ++n)
      for (std::int64_t i = 0; i < 6; ++i) sum += seed[(n * 2 + c) * 6 + i];
    CHECK(bn.bias().grad()[c] == doctest::Approx(sum));
  }
  CHECK(x.grad().defined());
}

TEST_CASE("batch norm layer errors name the layer and the input shape") {
  gan::nn::BatchNorm2d<float> bn(64);
  Var<float> wrong_c(Tensor<float>::zeros(Shape{8, 32, 16, 16}), false);
  CHECK_THROWS_WITH_AS(bn(wrong_c), doctest::Contains("BatchNorm2d(64)"), gan::Error);
  CHECK_THROWS_WITH_AS(bn(wrong_c), doctest::Contains("(8, 32, 16, 16)"), gan::Error);
  CHECK_THROWS_WITH_AS(bn(Var<float>(Tensor<float>::zeros(Shape{8, 64}), false)), doctest::Contains("(8, 64)"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(bn(Var<float>(Tensor<float>::zeros(Shape{1, 64, 1, 1}), false)),
                       doctest::Contains("BatchNorm2d(64): Expected more than 1 value per channel when training"),
                       gan::Error);
  bn.eval();
  CHECK_NOTHROW(bn(Var<float>(Tensor<float>::zeros(Shape{1, 64, 1, 1}), false)));

  gan::nn::BatchNorm1d<float> bn1(5);
  CHECK(bn1.describe() == "BatchNorm1d(5)");
  CHECK_THROWS_WITH_AS(bn1(Var<float>(Tensor<float>::zeros(Shape{2, 5, 3, 3}), false)),
                       doctest::Contains("BatchNorm1d(5)"), gan::Error);
  CHECK_THROWS_WITH_AS(bn1(Var<float>(Tensor<float>::zeros(Shape{1, 5}), false)),
                       doctest::Contains("(1, 5)"), gan::Error);
  CHECK_NOTHROW(bn1(Var<float>(Tensor<float>::zeros(Shape{1, 5, 2}), false)));

  gan::nn::BatchNormOptions bad{0};
  CHECK_THROWS_AS(gan::nn::BatchNorm2d<float>{bad}, gan::Error);
  gan::nn::BatchNormOptions bad_momentum{3};
  bad_momentum.momentum = 1.5;
  CHECK_THROWS_WITH_AS(gan::nn::BatchNorm2d<float>{bad_momentum}, doctest::Contains("momentum"), gan::Error);
}

TEST_CASE("InstanceNorm2d: no parameters by default, same result in train and eval") {
  gan::nn::InstanceNorm2d<double> in(3);
  CHECK(in.describe() == "InstanceNorm2d(3)");
  CHECK(in.named_parameters().empty());
  CHECK(in.named_buffers().empty());
  Tensor<double> x = shifted_randn(Shape{2, 3, 4, 4}, 21);
  Var<double> a = in(Var<double>(x, false));
  in.eval();
  Var<double> b = in(Var<double>(x, false));
  for (std::int64_t i = 0; i < x.numel(); ++i) REQUIRE(a.value()[i] == b.value()[i]);
  double sum = 0;
  for (std::int64_t i = 16; i < 32; ++i) sum += a.value()[i];  // sample 0, channel 1
  CHECK(std::abs(sum) < 1e-9);

  gan::nn::InstanceNormOptions opt{3};
  opt.affine = true;
  gan::nn::InstanceNorm2d<double> affine(opt);
  REQUIRE(affine.named_parameters().size() == 2);
  CHECK(affine.named_parameters()[0].first == "weight");
  affine.bias().value()[1] = 0.25;
  Var<double> c = affine(Var<double>(x, false));
  CHECK(c.value()[20] == doctest::Approx(a.value()[20] + 0.25));
}

TEST_CASE("InstanceNorm2d errors name the layer and the input shape") {
  gan::nn::InstanceNorm2d<float> in(8);
  CHECK_THROWS_WITH_AS(in(Var<float>(Tensor<float>::zeros(Shape{2, 4, 5, 5}), false)),
                       doctest::Contains("InstanceNorm2d(8): input (2, 4, 5, 5) has 4 channels"), gan::Error);
  CHECK_THROWS_WITH_AS(in(Var<float>(Tensor<float>::zeros(Shape{2, 8}), false)), doctest::Contains("(2, 8)"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(in(Var<float>(Tensor<float>::zeros(Shape{2, 8, 1, 1}), false)),
                       doctest::Contains("more than 1 spatial element"), gan::Error);
  CHECK_THROWS_AS(gan::nn::InstanceNorm2d<float>(0), gan::Error);
}
