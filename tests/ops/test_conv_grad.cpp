#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "gan/autograd/grad_check.hpp"
#include "gan/core/random.hpp"
#include "gan/kernels/reference/conv2d_ref.hpp"
#include "gan/ops/conv2d.hpp"
#include "gan/ops/conv_transpose2d.hpp"
#include "gan/ops/linear.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
using doctest::Contains;

namespace {

Var<double> randn_leaf(const Shape& shape, gan::Rng& rng) { return Var<double>(gan::randn<double>(shape, rng), true); }

void expect_ok(const gan::GradCheckResult& r, const std::string& what) {
  INFO(what, ": ", r.checked, " entries checked, max error ", r.max_abs_error, ", worst ", r.worst);
  CHECK(r.checked > 0);
  CHECK(r.ok);
}

}  // namespace

TEST_CASE("conv2d gradients match finite differences") {
  gan::Rng rng(21);
  struct Case {
    Shape x, w;
    gan::Conv2dParams p;
    const char* name;
  };
  const Case cases[] = {
      {{2, 3, 7, 5}, {4, 3, 3, 3}, {2, 1}, "k3 s2 p1, odd input"},
      {{1, 1, 5, 5}, {1, 1, 4, 4}, {2, 0}, "batch 1, 1 channel, k4 s2 p0"},
      {{2, 2, 6, 7}, {3, 2, 3, 3}, {1, 2, 2}, "dilation 2"},
      {{2, 5, 3, 4}, {3, 5, 1, 1}, {}, "pointwise"},
      {{1, 2, 6, 5}, {2, 2, 3, 2}, {{2, 1}, {1, 0}}, "per-axis stride and padding"},
  };
  for (const Case& c : cases) {
    Var<double> x = randn_leaf(c.x, rng), w = randn_leaf(c.w, rng), b = randn_leaf(Shape{c.w[0]}, rng);
    expect_ok(gan::grad_check([&] { return gan::conv2d(x, w, b, c.p); }, {x, w, b}), std::string(c.name) + ", bias");
    expect_ok(gan::grad_check([&] { return gan::conv2d(x, w, Var<double>(), c.p); }, {x, w}),
              std::string(c.name) + ", no bias");
  }
}

TEST_CASE("conv_transpose2d gradients match finite differences") {
  gan::Rng rng(22);
  struct Case {
    Shape x, w;
    gan::ConvTranspose2dParams p;
    const char* name;
  };
  const Case cases[] = {
      {{2, 3, 3, 5}, {3, 2, 4, 4}, {2, 1}, "k4 s2 p1"},
      {{1, 2, 1, 1}, {2, 3, 4, 4}, {}, "1x1 -> 4x4"},
      {{2, 2, 3, 4}, {2, 2, 3, 3}, {2, 1, 1}, "output_padding 1"},
      {{1, 2, 4, 3}, {2, 1, 3, 3}, {1, 1, 1, 2}, "output_padding 1 with dilation 2"},
      {{2, 3, 3, 3}, {3, 2, 1, 1}, {}, "pointwise"},
  };
  for (const Case& c : cases) {
    Var<double> x = randn_leaf(c.x, rng), w = randn_leaf(c.w, rng), b = randn_leaf(Shape{c.w[1]}, rng);
    expect_ok(gan::grad_check([&] { return gan::conv_transpose2d(x, w, b, c.p); }, {x, w, b}),
              std::string(c.name) + ", bias");
    expect_ok(gan::grad_check([&] { return gan::conv_transpose2d(x, w, Var<double>(), c.p); }, {x, w}),
              std::string(c.name) + ", no bias");
  }
}

TEST_CASE("linear gradients match finite differences") {
  gan::Rng rng(23);
  for (const Shape& xs : {Shape{3, 5}, Shape{1, 7}, Shape{2, 3, 4}}) {
    const std::int64_t in = xs.dim(-1);
    Var<double> x = randn_leaf(xs, rng), w = randn_leaf(Shape{3, in}, rng), b = randn_leaf(Shape{3}, rng);
    expect_ok(gan::grad_check([&] { return gan::linear(x, w, b); }, {x, w, b}), "linear " + xs.to_string());
    expect_ok(gan::grad_check([&] { return gan::linear(x, w); }, {x, w}), "linear, no bias " + xs.to_string());
  }
}

TEST_CASE("linear computes x w^T + b") {
  Var<double> x(Tensor<double>::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6}));
  Var<double> w(Tensor<double>::from(Shape{2, 3}, {1, 0, -1, 0.5, 0.5, 0.5}));
  Var<double> b(Tensor<double>::from(Shape{2}, {10, 20}));
  Var<double> y = gan::linear(x, w, b);
  CHECK(y.shape() == Shape{2, 2});
  CHECK(y.value().to_vector() == std::vector<double>{8, 23, 8, 27.5});
}

TEST_CASE("conv2d forward agrees with the reference and records a node only when needed") {
  gan::Rng rng(24);
  Var<float> x(gan::randn<float>(Shape{2, 3, 9, 8}, rng)), w(gan::randn<float>(Shape{4, 3, 3, 3}, rng));
  Var<float> y = gan::conv2d(x, w, Var<float>(), {2, 1});
  CHECK(y.shape() == Shape{2, 4, 5, 4});
  CHECK(y.is_leaf());  // nothing requires grad
  Tensor<float> want = Tensor<float>::empty(y.shape());
  gan::kernels::reference::conv2d_forward(want.data(), x.value().data(), w.value().data(),
                                          static_cast<const float*>(nullptr), gan::kernels::conv_shape(x.shape(), 4, 3, 2, 1));
  for (std::int64_t i = 0; i < want.numel(); ++i) REQUIRE(y.value()[i] == doctest::Approx(want[i]).epsilon(1e-5));
  w.set_requires_grad(true);
  CHECK(gan::conv2d(x, w, Var<float>(), {2, 1}).op() == "conv2d");
}

TEST_CASE("conv ops report both shapes on a mismatch") {
  Var<float> x(Tensor<float>::zeros(Shape{8, 1, 28, 28}));
  Var<float> w(Tensor<float>::zeros(Shape{64, 3, 4, 4}));
  CHECK_THROWS_WITH_AS(gan::conv2d(x, w), Contains("conv2d: input (8, 1, 28, 28) has 1 channels but weight (64, 3, 4, 4)"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(gan::conv2d(Var<float>(Tensor<float>::zeros(Shape{8, 28, 28})), w),
                       Contains("conv2d: input (8, 28, 28) must have rank 4"), gan::Error);
  Var<float> w1(Tensor<float>::zeros(Shape{64, 1, 4, 4}));
  CHECK_THROWS_WITH_AS(gan::conv2d(x, w1, Var<float>(Tensor<float>::zeros(Shape{3}))),
                       Contains("conv2d: bias (3) does not match weight (64, 1, 4, 4)"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::conv2d(x, w1, Var<float>(), {0}), Contains("conv2d: stride must be >= 1"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::conv2d(Var<float>(Tensor<float>::zeros(Shape{1, 1, 2, 2})), w1),
                       Contains("conv2d: input (1, 1, 2, 2) is too small"), gan::Error);

  Var<float> wt(Tensor<float>::zeros(Shape{3, 64, 4, 4}));
  CHECK_THROWS_WITH_AS(gan::conv_transpose2d(x, wt),
                       Contains("conv_transpose2d: input (8, 1, 28, 28) has 1 channels but weight (3, 64, 4, 4) expects 3"),
                       gan::Error);
  Var<float> wt1(Tensor<float>::zeros(Shape{1, 64, 4, 4}));
  CHECK_THROWS_WITH_AS(gan::conv_transpose2d(x, wt1, Var<float>(), {2, 1, 2}),
                       Contains("output_padding (2) must be smaller than either stride (2) or dilation (1)"), gan::Error);

  Var<float> xl(Tensor<float>::zeros(Shape{8, 100}));
  Var<float> wl(Tensor<float>::zeros(Shape{1, 128}));
  CHECK_THROWS_WITH_AS(gan::linear(xl, wl),
                       Contains("linear: input (8, 100) has last dimension 100 but weight (1, 128) expects 128"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(gan::linear(xl, Var<float>(Tensor<float>::zeros(Shape{100}))),
                       Contains("linear: weight (100) must have rank 2"), gan::Error);
}
