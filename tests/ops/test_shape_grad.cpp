#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "gan/autograd/grad_check.hpp"
#include "grad_test_util.hpp"
#include "gan/ops/activations.hpp"
#include "gan/ops/elementwise.hpp"
#include "gan/ops/one_hot.hpp"
#include "gan/ops/reduce.hpp"
#include "gan/ops/shape_ops.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
using gan_test::expect_grad_ok;
using gan_test::uniform_leaf;

namespace {
Var<float> iota(const Shape& s, float start = 0) {
  Tensor<float> t = Tensor<float>::empty(s);
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = start + static_cast<float>(i);
  return Var<float>(t);
}
}  // namespace

TEST_CASE("reshape and flatten are views with reshaped gradients") {
  Var<double> x = uniform_leaf(Shape{1, 3, 5, 7}, 1);
  Var<double> r = gan::reshape(x, {3, -1});
  CHECK(r.shape() == Shape{3, 35});
  CHECK(r.value().shares_storage_with(x.value()));
  CHECK(gan::flatten(x).shape() == Shape{1, 105});
  expect_grad_ok([&] { return gan::reshape(x, {5, 21}); }, {x});
  expect_grad_ok([&] { return gan::flatten(x); }, {x});
  // a weighting that depends on position catches a gradient that is not reshaped back
  Var<double> w = uniform_leaf(Shape{1, 105}, 2);
  expect_grad_ok([&] { return gan::mul(gan::flatten(x), w); }, {x, w});
  CHECK_THROWS_WITH_AS(gan::reshape(x, {4, -1}), doctest::Contains("(1, 3, 5, 7)"), gan::Error);
}

// Backward writes the first contribution to a gradient (reshape hands over dy itself,
// activations overwrite) and adds the later ones: every consumer order must sum them all.
TEST_CASE("a variable's gradient sums every consumer, whichever writes first") {
  Var<double> x = uniform_leaf(Shape{2, 3, 4}, 5), w = uniform_leaf(Shape{6, 4}, 6);
  expect_grad_ok([&] { return gan::mul(gan::reshape(x, {6, 4}), w); }, {x, w});
  expect_grad_ok([&] { return gan::add(gan::mul(gan::reshape(x, {6, 4}), w), gan::reshape(gan::leaky_relu(x, 0.1), {6, 4})); },
                 {x, w});
  expect_grad_ok([&] { return gan::add(gan::reshape(gan::tanh(x), {6, 4}), gan::reshape(gan::relu(x), {6, 4})); }, {x});
  expect_grad_ok([&] { return gan::sum(gan::add(x, gan::reshape(gan::reshape(x, {24}), {2, 3, 4}))); }, {x});
}

TEST_CASE("a gradient handed over by reshape keeps accumulating across passes") {
  Var<double> x = uniform_leaf(Shape{3, 4}, 7), w = uniform_leaf(Shape{12}, 8);
  auto loss = [&] { return gan::sum(gan::mul(gan::reshape(x, {12}), w)); };  // d/dx = w
  loss().backward();
  for (std::int64_t i = 0; i < 12; ++i) REQUIRE(x.grad()[i] == w.value()[i]);
  loss().backward();
  for (std::int64_t i = 0; i < 12; ++i) REQUIRE(x.grad()[i] == 2 * w.value()[i]);
  x.zero_grad();
  loss().backward();
  for (std::int64_t i = 0; i < 12; ++i) REQUIRE(x.grad()[i] == w.value()[i]);
  CHECK(!x.grad().shares_storage_with(w.grad()));
}

TEST_CASE("concat on the channel axis: values") {
  Var<float> a = iota(Shape{2, 1, 1, 2}, 0);     // n0: 0 1   n1: 2 3
  Var<float> b = iota(Shape{2, 2, 1, 2}, 10);    // n0: 10 11 12 13   n1: 14 15 16 17
  Var<float> y = gan::concat(std::vector<Var<float>>{a, b}, 1);
  CHECK(y.shape() == Shape{2, 3, 1, 2});
  CHECK(y.value().to_vector() == std::vector<float>{0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17});
}

TEST_CASE("concat gradients on every axis, odd shapes, three inputs") {
  for (int axis : {0, 1, 2, 3, -1}) {
    CAPTURE(axis);
    Shape sa{1, 3, 5, 7}, sb{1, 3, 5, 7}, sc{1, 3, 5, 7};
    const int a = axis < 0 ? axis + 4 : axis;
    sb[a] = 2;
    sc[a] = 1;
    Var<double> x = uniform_leaf(sa, 3), y = uniform_leaf(sb, 4), z = uniform_leaf(sc, 5);
    Var<double> out = gan::concat(std::vector<Var<double>>{x, y, z}, axis);
    CHECK(out.shape()[a] == sa[a] + 2 + 1);
    expect_grad_ok([&] { return gan::concat(std::vector<Var<double>>{x, y, z}, axis); }, {x, y, z});
  }
}

TEST_CASE("concat of a variable with itself sums both gradient blocks") {
  Var<double> x(Tensor<double>::from(Shape{1, 1, 1, 2}, {1, 2}), true);
  Var<double> w(Tensor<double>::from(Shape{1, 2, 1, 2}, {1, 2, 3, 4}), false);
  gan::sum(gan::mul(gan::concat(std::vector<Var<double>>{x, x}, 1), w)).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{4, 6});
}

TEST_CASE("concat errors name every shape") {
  Var<float> a = iota(Shape{1, 2, 3, 3}), b = iota(Shape{1, 2, 4, 3});
  CHECK_THROWS_WITH_AS(gan::concat(std::vector<Var<float>>{a, b}, 1), doctest::Contains("(1, 2, 3, 3), (1, 2, 4, 3)"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(gan::concat(std::vector<Var<float>>{a, iota(Shape{1, 2, 3})}, 1), doctest::Contains("(1, 2, 3)"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(gan::concat(std::vector<Var<float>>{a}, 4), doctest::Contains("axis 4"), gan::Error);
  CHECK_THROWS_AS(gan::concat(std::vector<Var<float>>{}, 1), gan::Error);
}

TEST_CASE("slice along batch and other axes") {
  Var<float> x = iota(Shape{3, 2});
  CHECK(gan::slice(x, 1, 3).value().to_vector() == std::vector<float>{2, 3, 4, 5});
  CHECK(gan::slice(x, 1, 2, 1).value().to_vector() == std::vector<float>{1, 3, 5});
  CHECK(gan::slice(x, 2, 2).shape() == Shape{0, 2});
  CHECK_THROWS_WITH_AS(gan::slice(x, 2, 4), doctest::Contains("(3, 2)"), gan::Error);
  Var<double> v = uniform_leaf(Shape{3, 3, 5, 7}, 6);
  expect_grad_ok([&] { return gan::slice(v, 1, 2); }, {v});
  expect_grad_ok([&] { return gan::slice(v, 1, 4, 3); }, {v});
  expect_grad_ok(
      [&] { return gan::concat(std::vector<Var<double>>{gan::slice(v, 2, 3), gan::slice(v, 0, 1)}, 0); }, {v});
}

TEST_CASE("one_hot and one_hot_maps") {
  Tensor<float> h = gan::one_hot<float>({2, 0, 1}, 3);
  CHECK(h.shape() == Shape{3, 3});
  CHECK(h.to_vector() == std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0});
  Tensor<double> m = gan::one_hot_maps<double>({1, 0}, 2, 3, 5);
  CHECK(m.shape() == Shape{2, 2, 3, 5});
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) {
      REQUIRE(m.at(0, 0, y, x) == 0);
      REQUIRE(m.at(0, 1, y, x) == 1);
      REQUIRE(m.at(1, 0, y, x) == 1);
      REQUIRE(m.at(1, 1, y, x) == 0);
    }
  CHECK_THROWS_WITH_AS(gan::one_hot<float>({0, 3}, 3), doctest::Contains("label 3 at index 1"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::one_hot<float>({-1}, 3), doctest::Contains("[0, 3)"), gan::Error);
  CHECK_THROWS_AS(gan::one_hot_maps<float>({5}, 3, 2, 2), gan::Error);
  CHECK_THROWS_AS(gan::one_hot_maps<float>({0}, 3, 0, 2), gan::Error);
  CHECK(gan::one_hot<float>({}, 4).shape() == Shape{0, 4});
}
