#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/autograd/grad_check.hpp"
#include "gan/core/random.hpp"
#include "gan/losses/bce.hpp"
#include "gan/losses/cross_entropy.hpp"
#include "gan/losses/l1.hpp"
#include "gan/losses/mse.hpp"

using gan::Reduction;
using gan::Shape;
using gan::Tensor;
using gan::Var;

namespace {

Var<double> uniform_leaf(const Shape& s, std::uint64_t seed, double lo, double hi) {
  gan::Rng rng(seed);
  return Var<double>(gan::rand<double>(s, lo, hi, rng), true);
}

template <class T>
Var<T> constant(const Shape& s, T v) {
  return Var<T>(Tensor<T>::full(s, v), false);
}

const Shape kOdd{3, 1, 5};

}  // namespace

TEST_CASE("every loss passes the gradient check for input and target, mean and sum") {
  for (Reduction red : {Reduction::mean, Reduction::sum}) {
    CAPTURE(static_cast<int>(red));
    Var<double> logits = uniform_leaf(kOdd, 1, -4, 4);
    Var<double> probs = uniform_leaf(kOdd, 2, 0.05, 0.95);
    Var<double> targets = uniform_leaf(kOdd, 3, 0, 1);
    auto r1 = gan::grad_check([&] { return gan::bce_with_logits(logits, targets, red); }, {logits, targets});
    CHECK_MESSAGE(r1.ok, "bce_with_logits ", r1.worst);
    auto r2 = gan::grad_check([&] { return gan::bce(probs, targets, 1e-12, red); }, {probs, targets});
    CHECK_MESSAGE(r2.ok, "bce ", r2.worst);

    // L1 has a kink at input == target: keep every pair at least 0.1 apart.
    Var<double> a = uniform_leaf(kOdd, 4, -1, 1);
    Tensor<double> bt = a.value().clone();
    for (std::int64_t i = 0; i < bt.numel(); ++i) bt[i] += (i % 2 ? 0.3 : -0.2) + 0.01 * static_cast<double>(i);
    Var<double> b(bt, true);
    auto r3 = gan::grad_check([&] { return gan::l1_loss(a, b, red); }, {a, b});
    CHECK_MESSAGE(r3.ok, "l1 ", r3.worst);
    auto r4 = gan::grad_check([&] { return gan::mse_loss(a, b, red); }, {a, b});
    CHECK_MESSAGE(r4.ok, "mse ", r4.worst);

    Var<double> cl = uniform_leaf(Shape{4, 5}, 5, -3, 3);
    const std::vector<std::int64_t> labels{0, 4, 2, 2};
    auto r5 = gan::grad_check([&] { return gan::cross_entropy(cl, labels, red); }, {cl});
    CHECK_MESSAGE(r5.ok, "cross_entropy ", r5.worst);
    auto r6 = gan::grad_check([&] { return gan::sigmoid_cross_entropy(cl, labels, red); }, {cl});
    CHECK_MESSAGE(r6.ok, "sigmoid_cross_entropy ", r6.worst);
  }
  Var<double> one_row = uniform_leaf(Shape{1, 1}, 6, -1, 1);  // batch 1, one class
  auto r = gan::grad_check([&] { return gan::cross_entropy(one_row, {0}); }, {one_row});
  CHECK_MESSAGE(r.ok, r.worst);
}

TEST_CASE_TEMPLATE("bce_with_logits: known values and stability at |x| = 1000", T, float, double) {
  const double log2 = std::log(2.0);
  CHECK(gan::bce_with_logits(constant(kOdd, T(0)), 1.0).item() == doctest::Approx(log2));
  CHECK(gan::bce_with_logits(constant(kOdd, T(0)), 0.0).item() == doctest::Approx(log2));
  CHECK(gan::bce_with_logits(constant(kOdd, T(0)), 1.0, Reduction::sum).item() == doctest::Approx(15 * log2));
  // x = 2, t = 1: log(1 + e^-2).
  CHECK(gan::bce_with_logits(constant(Shape{2}, T(2)), 1.0).item() == doctest::Approx(std::log1p(std::exp(-2.0))));

  Tensor<T> xt = Tensor<T>::from(Shape{4}, {T(1000), T(-1000), T(1000), T(-1000)});
  Tensor<T> tt = Tensor<T>::from(Shape{4}, {T(1), T(0), T(0), T(1)});
  Var<T> x(xt, true);
  Var<T> loss = gan::bce_with_logits(x, tt);
  CHECK(std::isfinite(static_cast<double>(loss.item())));
  CHECK(loss.item() == doctest::Approx(500.0));  // two right (0) and two wrong (1000) answers
  loss.backward();
  const std::vector<double> want{0, 0, 0.25, -0.25};  // (sigmoid(x) - t) / 4
  for (std::int64_t i = 0; i < 4; ++i) {
    CHECK(std::isfinite(static_cast<double>(x.grad()[i])));
    CHECK(x.grad()[i] == doctest::Approx(want[static_cast<std::size_t>(i)]));
  }
}

TEST_CASE("bce: known values, eps at the edges, and range errors") {
  CHECK(gan::bce(constant(kOdd, 0.5), constant(kOdd, 1.0)).item() == doctest::Approx(std::log(2.0)));
  CHECK(gan::bce(constant(Shape{2}, 0.8), constant(Shape{2}, 1.0)).item() == doctest::Approx(-std::log(0.8)));
  Var<double> p(Tensor<double>::from(Shape{2}, {0.0, 1.0}), true);
  Var<double> loss = gan::bce(p, Tensor<double>::from(Shape{2}, {1.0, 0.0}));
  CHECK(loss.item() == doctest::Approx(-std::log(1e-12)));  // both certain and wrong
  loss.backward();
  CHECK(std::isfinite(p.grad()[0]));
  CHECK(p.grad()[0] < 0);
  CHECK(p.grad()[1] > 0);
  CHECK_THROWS_WITH_AS(gan::bce(constant(Shape{2}, 1.5), constant(Shape{2}, 1.0)), doctest::Contains("[0, 1]"),
                       gan::Error);
}

TEST_CASE("tensor targets are constants, Var targets get gradients") {
  Var<double> x = uniform_leaf(Shape{2, 3}, 7, -1, 1);
  Tensor<double> t = gan::rand<double>(Shape{2, 3});
  gan::mse_loss(x, t).backward();
  CHECK(x.grad().defined());
  Var<double> tv(t, true);
  x.zero_grad();
  gan::mse_loss(x, tv).backward();
  for (std::int64_t i = 0; i < 6; ++i) CHECK(tv.grad()[i] == doctest::Approx(-x.grad()[i]));
  Var<double> frozen(t, false);
  gan::l1_loss(x, frozen).backward();
  CHECK_FALSE(frozen.grad().defined());
}

TEST_CASE("l1 and mse: known values and the zero subgradient of l1") {
  Var<double> a(Tensor<double>::from(Shape{4}, {1, 2, 3, 4}), true);
  Var<double> b(Tensor<double>::from(Shape{4}, {1, 0, 4, 4}), true);
  Var<double> l1 = gan::l1_loss(a, b);
  CHECK(l1.item() == doctest::Approx((0 + 2 + 1 + 0) / 4.0));
  l1.backward();
  const std::vector<double> want{0, 0.25, -0.25, 0};
  for (std::int64_t i = 0; i < 4; ++i) {
    CHECK(a.grad()[i] == doctest::Approx(want[static_cast<std::size_t>(i)]));
    CHECK(b.grad()[i] == doctest::Approx(-want[static_cast<std::size_t>(i)]));
  }
  CHECK(gan::mse_loss(a, b).item() == doctest::Approx((0 + 4 + 1 + 0) / 4.0));
  CHECK(gan::mse_loss(a, b, Reduction::sum).item() == doctest::Approx(5.0));
  CHECK(gan::l1_loss(a, b, Reduction::sum).item() == doctest::Approx(3.0));
}

TEST_CASE_TEMPLATE("cross_entropy of uniform logits is log C; huge logits stay finite", T, float, double) {
  for (std::int64_t c : {1, 2, 10}) {
    Var<T> u(Tensor<T>::full(Shape{3, c}, T(0.7)), false);
    CHECK(gan::cross_entropy(u, {0, c - 1, 0}).item() == doctest::Approx(std::log(static_cast<double>(c))));
  }
  Var<T> big(Tensor<T>::from(Shape{2, 3}, {T(1000), T(0), T(-1000), T(0), T(1000), T(0)}), true);
  Var<T> loss = gan::cross_entropy(big, {0, 0});
  CHECK(loss.item() == doctest::Approx(500.0));  // row 0 right (0), row 1 wrong by 1000
  loss.backward();
  for (std::int64_t i = 0; i < 6; ++i) CHECK(std::isfinite(static_cast<double>(big.grad()[i])));
  CHECK(big.grad()[3] == doctest::Approx(-0.5));  // (softmax - onehot) / N
  CHECK(big.grad()[4] == doctest::Approx(0.5));

  // sigmoid_cross_entropy = bce_with_logits against one-hot rows.
  Var<T> x(Tensor<T>::from(Shape{2, 2}, {T(0.5), T(-1), T(2), T(0)}), false);
  Tensor<T> onehot = Tensor<T>::from(Shape{2, 2}, {T(0), T(1), T(1), T(0)});
  CHECK(gan::sigmoid_cross_entropy(x, {1, 0}).item() == doctest::Approx(gan::bce_with_logits(x, onehot).item()));
}

TEST_CASE("loss errors name the op and the shapes or labels") {
  Var<float> a(Tensor<float>::zeros(Shape{2, 3}), false), b(Tensor<float>::zeros(Shape{3, 2}), false);
  for (auto f : {+[](const Var<float>& x, const Var<float>& y) { return gan::mse_loss(x, y); },
                 +[](const Var<float>& x, const Var<float>& y) { return gan::l1_loss(x, y); },
                 +[](const Var<float>& x, const Var<float>& y) { return gan::bce_with_logits(x, y); }}) {
    CHECK_THROWS_WITH_AS(f(a, b), doctest::Contains("(2, 3)"), gan::Error);
    CHECK_THROWS_WITH_AS(f(a, b), doctest::Contains("(3, 2)"), gan::Error);
  }
  CHECK_THROWS_WITH_AS(gan::mse_loss(a, b), doctest::Contains("mse_loss"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::cross_entropy(a, {0, 3}), doctest::Contains("label 3 at index 1"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::cross_entropy(a, {0, -1}), doctest::Contains("out of range"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::cross_entropy(a, {0}), doctest::Contains("1 labels for logits (2, 3)"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::sigmoid_cross_entropy(a, {0, 1, 2}), doctest::Contains("sigmoid_cross_entropy"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(gan::cross_entropy(Var<float>(Tensor<float>::zeros(Shape{2, 3, 1}), false), {0, 1}),
                       doctest::Contains("(N, C)"), gan::Error);
}
