#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "gan/core/random.hpp"
#include "gan/kernels/reference/conv_transpose2d_ref.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/conv_transpose2d.hpp"
#include "gan/nn/init.hpp"
#include "gan/nn/linear.hpp"

using doctest::Contains;
using gan::Shape;
using gan::Tensor;
using gan::Var;
namespace nn = gan::nn;
namespace init = gan::nn::init;

namespace {

Var<float> zeros(const Shape& s) { return Var<float>(Tensor<float>::zeros(s)); }

double max_abs(const Tensor<float>& t) {
  double m = 0;
  for (float v : t) m = std::max(m, static_cast<double>(std::abs(v)));
  return m;
}

double stddev(const Tensor<float>& t) {
  double sum = 0, sq = 0;
  for (float v : t) sum += v, sq += static_cast<double>(v) * v;
  const double mean = sum / static_cast<double>(t.numel());
  return std::sqrt(sq / static_cast<double>(t.numel()) - mean * mean);
}

}  // namespace

TEST_CASE("Conv2d: parameters, description and DCGAN output size") {
  nn::Conv2d<float> conv(nn::Conv2dOptions{3, 64, 4, 2, 1});
  CHECK(conv.describe() == "Conv2d(3->64, k=4, s=2, p=1)");
  auto params = conv.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[0].second.shape() == Shape{64, 3, 4, 4});
  CHECK(params[1].first == "bias");
  CHECK(params[1].second.shape() == Shape{64});
  CHECK(conv.weight().id() == params[0].second.id());
  CHECK(conv.forward(zeros(Shape{8, 3, 28, 28})).shape() == Shape{8, 64, 14, 14});
  CHECK(conv(zeros(Shape{1, 3, 7, 7})).shape() == Shape{1, 64, 3, 3});

  nn::Conv2d<float> plain(nn::Conv2dOptions{2, 5, 3, 1, 2, 2, false});
  CHECK(plain.describe() == "Conv2d(2->5, k=3, s=1, p=2, d=2, bias=false)");
  CHECK(plain.named_parameters().size() == 1);
  CHECK_FALSE(plain.bias().defined());
  CHECK(plain(zeros(Shape{1, 2, 9, 9})).shape() == Shape{1, 5, 9, 9});
}

TEST_CASE("ConvTranspose2d: parameters, description and DCGAN output sizes") {
  nn::ConvTranspose2dOptions o;
  o.in = 128, o.out = 64, o.kernel = 4, o.stride = 2, o.padding = 1;
  nn::ConvTranspose2d<float> up(o);
  CHECK(up.describe() == "ConvTranspose2d(128->64, k=4, s=2, p=1)");
  CHECK(up.weight().shape() == Shape{128, 64, 4, 4});
  CHECK(up.bias().shape() == Shape{64});
  CHECK(up(zeros(Shape{2, 128, 7, 7})).shape() == Shape{2, 64, 14, 14});

  nn::ConvTranspose2d<float> project(nn::ConvTranspose2dOptions{100, 256, 4, 1, 0});
  CHECK(project(zeros(Shape{3, 100, 1, 1})).shape() == Shape{3, 256, 4, 4});

  nn::ConvTranspose2d<float> odd(nn::ConvTranspose2dOptions{2, 3, 3, 2, 1, 1, 1, false});
  CHECK(odd.describe() == "ConvTranspose2d(2->3, k=3, s=2, p=1, op=1, bias=false)");
  CHECK(odd(zeros(Shape{1, 2, 5, 5})).shape() == Shape{1, 3, 10, 10});
}

TEST_CASE("ConvTranspose2d forward equals the reference kernel with its own parameters") {
  nn::ConvTranspose2d<float> up(nn::ConvTranspose2dOptions{3, 2, 4, 2, 1});
  gan::Rng rng(5);
  Var<float> x(gan::randn<float>(Shape{2, 3, 3, 5}, rng));
  Var<float> y = up(x);
  auto s = gan::kernels::conv_transpose_shape(x.shape(), 2, 4, 2, 1);
  Tensor<float> want = Tensor<float>::empty(s.output_shape());
  gan::kernels::reference::conv_transpose2d_forward(want.data(), x.value().data(), up.weight().value().data(),
                                                    up.bias().value().data(), s);
  REQUIRE(y.shape() == want.shape());
  for (std::int64_t i = 0; i < want.numel(); ++i) REQUIRE(y.value()[i] == doctest::Approx(want[i]).epsilon(1e-5));
}

TEST_CASE("Linear: parameters, description, output size") {
  nn::Linear<float> fc(nn::LinearOptions{6272, 1});
  CHECK(fc.describe() == "Linear(6272->1)");
  CHECK(fc.weight().shape() == Shape{1, 6272});
  CHECK(fc.bias().shape() == Shape{1});
  CHECK(fc(zeros(Shape{8, 6272})).shape() == Shape{8, 1});
  nn::Linear<float> nobias(nn::LinearOptions{4, 3, false});
  CHECK(nobias.describe() == "Linear(4->3, bias=false)");
  CHECK(nobias.parameters().size() == 1);
}

TEST_CASE("invalid options throw at construction, naming the layer") {
  using C = nn::Conv2dOptions;
  CHECK_THROWS_WITH_AS(nn::Conv2d<float>(C{3, 64, 4, 0, 1}), Contains("Conv2d(3->64, k=4, s=0, p=1): stride must be >= 1"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(nn::Conv2d<float>(C{0, 64, 4}), Contains("Conv2d(0->64, k=4, s=1, p=0): channel counts"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(nn::Conv2d<float>(C{-3, 64, 4}), Contains("channel counts must be >= 1"), gan::Error);
  CHECK_THROWS_WITH_AS(nn::Conv2d<float>(C{3, 64, 0}), Contains("kernel size must be >= 1"), gan::Error);
  CHECK_THROWS_WITH_AS(nn::Conv2d<float>(C{3, 64, 3, 1, -1}), Contains("padding must be >= 0"), gan::Error);
  CHECK_THROWS_WITH_AS(nn::Conv2d<float>(C{3, 64, 3, 1, 1, 0}), Contains("dilation must be >= 1"), gan::Error);
  using CT = nn::ConvTranspose2dOptions;
  CHECK_THROWS_WITH_AS(nn::ConvTranspose2d<float>(CT{8, 4, 4, 2, 1, 2}),
                       Contains("ConvTranspose2d(8->4, k=4, s=2, p=1, op=2): output_padding (2) must be smaller"),
                       gan::Error);
  CHECK_NOTHROW(nn::ConvTranspose2d<float>(CT{8, 4, 3, 1, 1, 1, 2}));  // op < dilation
  CHECK_THROWS_WITH_AS(nn::ConvTranspose2d<float>(CT{8, 0, 4}), Contains("ConvTranspose2d(8->0"), gan::Error);
  CHECK_THROWS_WITH_AS(nn::Linear<float>(nn::LinearOptions{0, 3}), Contains("Linear(0->3): in and out features"),
                       gan::Error);
}

TEST_CASE("shape mismatches name the layer and the input shape") {
  nn::Conv2d<float> conv(nn::Conv2dOptions{3, 64, 4, 2, 1});
  CHECK_THROWS_WITH_AS(conv(zeros(Shape{8, 1, 28, 28})),
                       Contains("Conv2d(3->64, k=4, s=2, p=1): input (8, 1, 28, 28) has 1 channels, expected 3"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(conv(zeros(Shape{3, 28, 28})),
                       Contains("Conv2d(3->64, k=4, s=2, p=1): input (3, 28, 28) must have rank 4"), gan::Error);
  nn::Conv2d<float> big(nn::Conv2dOptions{1, 1, 5});
  CHECK_THROWS_WITH_AS(big(zeros(Shape{1, 1, 3, 3})),
                       Contains("Conv2d(1->1, k=5, s=1, p=0): input (1, 1, 3, 3) is too small"), gan::Error);

  nn::ConvTranspose2d<float> up(nn::ConvTranspose2dOptions{100, 256, 4});
  CHECK_THROWS_WITH_AS(up(zeros(Shape{2, 10, 1, 1})),
                       Contains("ConvTranspose2d(100->256, k=4, s=1, p=0): input (2, 10, 1, 1) has 10 channels, expected 100"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(up(zeros(Shape{2, 100})), Contains("input (2, 100) must have rank 4"), gan::Error);

  nn::Linear<float> fc(nn::LinearOptions{128, 1});
  CHECK_THROWS_WITH_AS(fc(zeros(Shape{8, 100})),
                       Contains("Linear(128->1): input (8, 100) has last dimension 100, expected 128"), gan::Error);
  CHECK_THROWS_WITH_AS(fc(zeros(Shape{8, 2, 8, 8})), Contains("Linear(128->1): input (8, 2, 8, 8) must have rank 2"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(fc(zeros(Shape{8, 2, 8, 8})), Contains("flatten"), gan::Error);
}

TEST_CASE("layers train: gradients reach weight and bias") {
  nn::Conv2d<float> conv(nn::Conv2dOptions{2, 3, 3, 2, 1});
  gan::Rng rng(9);
  Var<float> x(gan::randn<float>(Shape{2, 2, 5, 5}, rng));
  Var<float> y = conv(x);
  y.backward(Tensor<float>::ones(y.shape()));
  REQUIRE(conv.bias().grad().defined());
  // d(sum y)/d b[oc] = number of output positions over the batch.
  for (std::int64_t i = 0; i < 3; ++i) CHECK(conv.bias().grad()[i] == doctest::Approx(2 * 3 * 3));
  CHECK(max_abs(conv.weight().grad()) > 0);
}

TEST_CASE("default init follows PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in))") {
  gan::Rng rng(3);
  nn::Conv2d<float> conv(nn::Conv2dOptions{16, 32, 3}, rng);
  const double bound = 1.0 / std::sqrt(16.0 * 9.0);
  CHECK(max_abs(conv.weight().value()) <= bound);
  CHECK(max_abs(conv.weight().value()) > 0.9 * bound);
  CHECK(stddev(conv.weight().value()) == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.05));
  CHECK(max_abs(conv.bias().value()) <= bound);

  nn::ConvTranspose2d<float> up(nn::ConvTranspose2dOptions{64, 8, 4}, rng);  // PyTorch: fan_in = 8 * 16
  CHECK(max_abs(up.weight().value()) <= 1.0 / std::sqrt(128.0));
  CHECK(max_abs(up.weight().value()) > 0.9 / std::sqrt(128.0));

  gan::Rng a(42), b(42);  // same seed, same parameters
  CHECK(nn::Linear<float>(nn::LinearOptions{5, 4}, a).weight().value().to_vector() ==
        nn::Linear<float>(nn::LinearOptions{5, 4}, b).weight().value().to_vector());
}

TEST_CASE("init: fans, gains and the distributions' scales") {
  Tensor<float> w = Tensor<float>::empty(Shape{64, 32, 3, 3});
  CHECK(init::fan_in(w) == 32 * 9);
  CHECK(init::fan_out(w) == 64 * 9);
  CHECK_THROWS_WITH_AS(init::fan_in(Tensor<float>::empty(Shape{5})), Contains("rank >= 2"), gan::Error);
  CHECK(init::calculate_gain(init::Nonlinearity::relu) == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain(init::Nonlinearity::leaky_relu, 0.2) == doctest::Approx(std::sqrt(2.0 / 1.04)));
  CHECK(init::calculate_gain(init::Nonlinearity::tanh) == doctest::Approx(5.0 / 3.0));

  gan::Rng rng(1);
  init::glorot_uniform_(w, 1.0, rng);
  const double glorot = std::sqrt(6.0 / (32 * 9 + 64 * 9));
  CHECK(max_abs(w) <= glorot);
  CHECK(stddev(w) == doctest::Approx(glorot / std::sqrt(3.0)).epsilon(0.03));
  init::kaiming_normal_(w, 0.0, init::FanMode::fan_out, init::Nonlinearity::relu, rng);
  CHECK(stddev(w) == doctest::Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.03));
  init::kaiming_uniform_(w, 0.0, init::FanMode::fan_in, init::Nonlinearity::relu, rng);
  CHECK(max_abs(w) <= std::sqrt(6.0 / (32 * 9)));
  init::normal_(w, 0.0, 0.02, rng);
  CHECK(stddev(w) == doctest::Approx(0.02).epsilon(0.03));

  nn::Conv2d<float> conv(nn::Conv2dOptions{1, 2, 3});
  init::constant_(conv.bias(), 0.5);  // the Var overloads write the parameter's value
  CHECK(conv.bias().value()[1] == 0.5f);
  init::zeros_(conv.weight());
  CHECK(max_abs(conv.weight().value()) == 0);
  init::ones_(conv.weight());
  CHECK(conv.weight().value()[4] == 1.0f);
}
