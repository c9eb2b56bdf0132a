#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include "gan/autograd/grad_check.hpp"
#include "grad_test_util.hpp"
#include "gan/ops/activations.hpp"
#include "gan/ops/dropout.hpp"
#include "gan/ops/elementwise.hpp"
#include "gan/ops/reduce.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
using gan_test::expect_grad_ok;
using gan_test::uniform_leaf;

namespace {
// Values in +-[0.1, 2]: finite differences with eps 1e-6 never straddle the kink at 0.
Var<double> leaf_away_from_zero(const Shape& s, std::uint64_t seed) {
  Var<double> v = uniform_leaf(s, seed, 0.1, 2);
  gan::Rng signs(seed + 99);
  for (double& x : v.value()) x = signs.uniform() < 0.5 ? -x : x;
  return v;
}
const Shape kOdd{1, 3, 5, 7};
}  // namespace

// Unqualified scalar tanh inside namespace gan must still mean the scalar function once
// gan::tanh(Var) is declared (activations.hpp re-declares std::tanh in gan for this).
namespace gan {
namespace test_scalar_lookup {
inline double unqualified(double x) { return tanh(x); }
inline float unqualified_float(float x) { return tanh(x); }
inline double qualified(double x) { return std::tanh(x); }
}  // namespace test_scalar_lookup
}  // namespace gan

TEST_CASE("gan::tanh does not hide the scalar tanh inside namespace gan") {
  CHECK(gan::test_scalar_lookup::unqualified(0.5) == std::tanh(0.5));
  CHECK(gan::test_scalar_lookup::unqualified_float(0.5f) == std::tanh(0.5f));
  CHECK(gan::test_scalar_lookup::qualified(-0.25) == std::tanh(-0.25));
  Var<double> x(Tensor<double>::from(Shape{2}, {0.5, -1}), false);
  CHECK(gan::tanh(x).value()[1] == doctest::Approx(std::tanh(-1.0)));
}

TEST_CASE("add, sub, mul, scale, add_scalar, neg: forward values") {
  Var<float> a(Tensor<float>::from(Shape{3}, {1, 2, 3}));
  Var<float> b(Tensor<float>::from(Shape{3}, {4, -5, 6}));
  CHECK((a + b).value().to_vector() == std::vector<float>{5, -3, 9});
  CHECK((a - b).value().to_vector() == std::vector<float>{-3, 7, -3});
  CHECK((a * b).value().to_vector() == std::vector<float>{4, -10, 18});
  CHECK((a * 2.0).value().to_vector() == std::vector<float>{2, 4, 6});
  CHECK((0.5 * a).value().to_vector() == std::vector<float>{0.5f, 1, 1.5f});
  CHECK((a + 1.0).value().to_vector() == std::vector<float>{2, 3, 4});
  CHECK((1.0 - a).value().to_vector() == std::vector<float>{0, -1, -2});
  CHECK((a - 1.0).value().to_vector() == std::vector<float>{0, 1, 2});
  CHECK((-a).value().to_vector() == std::vector<float>{-1, -2, -3});
}

TEST_CASE("elementwise ops reject different shapes, naming the op and both shapes") {
  Var<float> a(Tensor<float>::zeros(Shape{2, 3}));
  Var<float> b(Tensor<float>::zeros(Shape{3, 2}));
  for (auto op : {+[](const Var<float>& x, const Var<float>& y) { return gan::add(x, y); },
                  +[](const Var<float>& x, const Var<float>& y) { return gan::sub(x, y); },
                  +[](const Var<float>& x, const Var<float>& y) { return gan::mul(x, y); }}) {
    CHECK_THROWS_WITH_AS(op(a, b), doctest::Contains("(2, 3) and (3, 2)"), gan::Error);
  }
  CHECK_THROWS_WITH_AS(gan::mul(a, b), doctest::Contains("mul"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::sub(a, b), doctest::Contains("sub"), gan::Error);
}

TEST_CASE("gradients of add, sub, mul, scale, add_scalar, neg") {
  Var<double> a = uniform_leaf(kOdd, 1), b = uniform_leaf(kOdd, 2);
  expect_grad_ok([&] { return a + b; }, {a, b});
  expect_grad_ok([&] { return a - b; }, {a, b});
  expect_grad_ok([&] { return a * b; }, {a, b});
  expect_grad_ok([&] { return a * a; }, {a});  // reuse: both slots are a's gradient
  expect_grad_ok([&] { return a * -1.5; }, {a});
  expect_grad_ok([&] { return 2.0 - a; }, {a});
  expect_grad_ok([&] { return gan::add_scalar(a, 3.0); }, {a});
  expect_grad_ok([&] { return -(a * b) + a; }, {a, b});
}

TEST_CASE("an input that does not require grad gets no gradient") {
  Var<double> a = uniform_leaf(Shape{2, 3}, 3);
  Var<double> c(Tensor<double>::ones(Shape{2, 3}), false);
  gan::sum(a * c).backward();
  CHECK_FALSE(c.grad().defined());
  CHECK(a.grad()[4] == doctest::Approx(1));
}

TEST_CASE("gradients of the activations on odd shapes") {
  Var<double> x = leaf_away_from_zero(kOdd, 4);
  expect_grad_ok([&] { return gan::relu(x); }, {x});
  expect_grad_ok([&] { return gan::leaky_relu(x, 0.2); }, {x});
  expect_grad_ok([&] { return gan::elu(x, 0.7); }, {x});
  Var<double> y = uniform_leaf(Shape{1, 1, 3, 5}, 5, -3, 3);
  expect_grad_ok([&] { return gan::tanh(y); }, {y});
  expect_grad_ok([&] { return gan::sigmoid(y); }, {y});
  expect_grad_ok([&] { return gan::sigmoid(gan::tanh(y) * y); }, {y});
}

TEST_CASE("activation forward values") {
  Var<float> x(Tensor<float>::from(Shape{4}, {-2, -0.5f, 0, 3}));
  CHECK(gan::relu(x).value().to_vector() == std::vector<float>{0, 0, 0, 3});
  CHECK(gan::leaky_relu(x, 0.1).value()[0] == doctest::Approx(-0.2));
  CHECK(gan::elu(x).value()[0] == doctest::Approx(std::exp(-2.0) - 1));
  CHECK(gan::elu(x, 2.0).value()[1] == doctest::Approx(2 * (std::exp(-0.5) - 1)));
  CHECK(gan::sigmoid(x).value()[2] == doctest::Approx(0.5));
  CHECK(gan::tanh(x).value()[3] == doctest::Approx(std::tanh(3.0)));
}

TEST_CASE("relu gradient is zero at exactly zero, as in PyTorch") {
  Var<double> x(Tensor<double>::from(Shape{3}, {-1, 0, 1}), true);
  gan::sum(gan::relu(x)).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{0, 0, 1});
}

TEST_CASE("sum and mean: values and gradients") {
  Var<double> x = uniform_leaf(kOdd, 6);
  double s = 0;
  for (double v : x.value()) s += v;
  CHECK(gan::sum(x).item() == doctest::Approx(s));
  CHECK(gan::mean(x).item() == doctest::Approx(s / 105));
  CHECK(gan::mean(x).shape() == Shape{1});
  expect_grad_ok([&] { return gan::sum(x); }, {x});
  expect_grad_ok([&] { return gan::mean(x * x); }, {x});
  for (int axis : {0, 1, 2, 3, -1}) {
    CAPTURE(axis);
    expect_grad_ok([&] { return gan::mean(x, axis); }, {x});
    expect_grad_ok([&] { return gan::sum(x, axis, true); }, {x});
  }
  CHECK(gan::mean(x, 1).shape() == Shape{1, 5, 7});
  CHECK(gan::sum(x, 3, true).shape() == Shape{1, 3, 5, 1});
  Var<float> m(Tensor<float>::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6}));
  CHECK(gan::mean(m, 0).value().to_vector() == std::vector<float>{2.5f, 3.5f, 4.5f});
  CHECK(gan::sum(m, 1).value().to_vector() == std::vector<float>{6, 15});
  CHECK_THROWS_WITH_AS(gan::mean(m, 2), doctest::Contains("(2, 3)"), gan::Error);
}

TEST_CASE("dropout: gradient through a fixed mask, scaling, and eval identity") {
  Var<double> x = uniform_leaf(kOdd, 7);
  // grad_check calls f repeatedly: a fresh Rng each call reproduces the mask.
  expect_grad_ok([&] { gan::Rng rng(42); return gan::dropout(x, 0.3, true, rng); }, {x});

  Var<float> ones(Tensor<float>::ones(Shape{4000}));
  gan::Rng rng(1);
  Tensor<float> y = gan::dropout(ones, 0.25, true, rng).value();
  std::int64_t kept = 0;
  for (float v : y) {
    REQUIRE((v == 0.0f || v == doctest::Approx(1 / 0.75)));
    kept += v != 0.0f;
  }
  CHECK(kept > 2800);  // 3000 expected; the binomial sd is ~27
  CHECK(kept < 3200);
  CHECK(gan::dropout(ones, 0.25, false, rng).id() == ones.id());
  CHECK(gan::dropout(ones, 0.0, true, rng).id() == ones.id());
  const Tensor<float> dropped = gan::dropout(ones, 1.0, true, rng).value();
  for (float v : dropped) REQUIRE(v == 0.0f);
  CHECK_THROWS_WITH_AS(gan::dropout(ones, 1.5, true, rng), doctest::Contains("[0, 1]"), gan::Error);
}
