#include <doctest/doctest.h>

#include "gan/autograd/grad_check.hpp"
#include "gan/autograd/variable.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;

namespace {
// Minimal ops for exercising the tape alone (the real ops live in gan/ops).
Var<double> times(const Var<double>& a, const Var<double>& b) {
  Tensor<double> y = Tensor<double>::empty(a.shape());
  for (std::int64_t i = 0; i < y.numel(); ++i) y[i] = a.value()[i] * b.value()[i];
  Tensor<double> av = a.value(), bv = b.value();
  return gan::make_result(y, "times", {a, b}, [av, bv](const Tensor<double>& dy, gan::GradSlots<double>& g) {
    if (g.needs(0)) for (std::int64_t i = 0; i < dy.numel(); ++i) g[0][i] += dy[i] * bv[i];
    if (g.needs(1)) for (std::int64_t i = 0; i < dy.numel(); ++i) g[1][i] += dy[i] * av[i];
  });
}
Var<double> total(const Var<double>& a) {
  Tensor<double> y = Tensor<double>::scalar(a.value().vec().sum());
  return gan::make_result(y, "total", {a}, [](const Tensor<double>& dy, gan::GradSlots<double>& g) {
    g[0].vec().array() += dy[0];
  });
}
}  // namespace

TEST_CASE("backward through a reused variable sums both paths") {
  Var<double> x(Tensor<double>::from(Shape{3}, {1, 2, 3}), true);
  Var<double> y = total(times(x, x));  // sum x^2 -> grad 2x
  y.backward();
  CHECK(x.grad()[0] == doctest::Approx(2));
  CHECK(x.grad()[2] == doctest::Approx(6));
}

TEST_CASE("gradients accumulate across passes until zero_grad") {
  Var<double> x(Tensor<double>::from(Shape{2}, {1, 2}), true);
  total(times(x, x)).backward();
  total(times(x, x)).backward();
  CHECK(x.grad()[1] == doctest::Approx(8));
  x.zero_grad();
  CHECK(x.grad()[1] == 0);
}

TEST_CASE("detach and no_grad stop the graph") {
  Var<double> x(Tensor<double>::from(Shape{2}, {1, 2}), true);
  Var<double> d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.value().shares_storage_with(x.value()));
  {
    gan::NoGradGuard no_grad;
    Var<double> y = total(times(x, x));
    CHECK(y.is_leaf());
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("does not require grad"), gan::Error);
  }
  Var<double> z = total(times(x, d));  // gradient only through the non-detached factor
  z.backward();
  CHECK(x.grad()[1] == doctest::Approx(2));
}

TEST_CASE("the graph is freed after backward unless retained") {
  Var<double> x(Tensor<double>::from(Shape{2}, {1, 2}), true);
  Var<double> y = total(times(x, x));
  y.backward(/*retain_graph=*/true);
  y.backward();
  CHECK(x.grad()[0] == doctest::Approx(4));
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already released"), gan::Error);
}

TEST_CASE("backward on a non-scalar needs a seed of the same shape") {
  Var<double> x(Tensor<double>::from(Shape{2}, {1, 2}), true);
  Var<double> y = times(x, x);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("(2)"), gan::Error);
  CHECK_THROWS_WITH_AS(y.backward(Tensor<double>::ones(Shape{3})), doctest::Contains("(3)"), gan::Error);
}

TEST_CASE("grad_check accepts a right gradient and rejects a wrong one") {
  Var<double> a(Tensor<double>::from(Shape{3}, {0.5, -1.0, 2.0}), true);
  Var<double> b(Tensor<double>::from(Shape{3}, {1.5, 0.3, -0.7}), true);
  auto good = gan::grad_check([&] { return times(a, b); }, {a, b});
  CHECK_MESSAGE(good.ok, good.worst);
  auto wrong = [&] {
    Tensor<double> y = Tensor<double>::empty(a.shape());
    for (std::int64_t i = 0; i < 3; ++i) y[i] = a.value()[i] * a.value()[i];
    return gan::make_result(y, "bad_square", {a}, [](const Tensor<double>& dy, gan::GradSlots<double>& g) {
      for (std::int64_t i = 0; i < dy.numel(); ++i) g[0][i] += dy[i];  // should be 2 x dy
    });
  };
  CHECK_FALSE(gan::grad_check(wrong, {a}).ok);
}
