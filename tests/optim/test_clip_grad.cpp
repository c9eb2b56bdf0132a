#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "gan/optim/clip_grad.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
using gan::optim::clip_grad_norm;
using gan::optim::clip_grad_value;
using gan::optim::grad_norm;

namespace {

template <class T>
Var<T> param_with_grad(const std::vector<T>& grad) {
  Var<T> p = gan::parameter(Tensor<T>::zeros(Shape{static_cast<std::int64_t>(grad.size())}));
  p.grad() = Tensor<T>::from(p.shape(), grad);
  return p;
}

}  // namespace

TEST_CASE_TEMPLATE("clip_grad_norm rescales all gradients together", T, float, double) {
  // Gradients (3, 4) and (12): joint L2 norm sqrt(9 + 16 + 144) = 13.
  Var<T> a = param_with_grad<T>({3, 4}), b = param_with_grad<T>({12});
  Var<T> no_grad = gan::parameter(Tensor<T>::ones(Shape{5}));
  std::vector<Var<T>> params{a, no_grad, b};

  SUBCASE("above max_norm: scaled by max_norm / (norm + 1e-6)") {
    const double norm = clip_grad_norm(params, 6.5);
    CHECK(norm == doctest::Approx(13.0));
    const double scale = 6.5 / (13.0 + 1e-6);
    CHECK(static_cast<double>(a.grad()[0]) == doctest::Approx(3 * scale));
    CHECK(static_cast<double>(a.grad()[1]) == doctest::Approx(4 * scale));
    CHECK(static_cast<double>(b.grad()[0]) == doctest::Approx(12 * scale));
    CHECK(grad_norm(params) == doctest::Approx(6.5));
    CHECK_FALSE(no_grad.grad().defined());
  }
  SUBCASE("exactly at max_norm: shrunk by 13 / (13 + 1e-6), as PyTorch") {
    clip_grad_norm(params, 13.0);
    const double scale = 13.0 / (13.0 + 1e-6);
    const double tight = std::is_same_v<T, double> ? 1e-14 : 1e-7;
    CHECK(static_cast<double>(b.grad()[0]) == doctest::Approx(12 * scale).epsilon(tight));
    CHECK(static_cast<double>(a.grad()[1]) == doctest::Approx(4 * scale).epsilon(tight));
  }
  SUBCASE("below max_norm: untouched") {
    CHECK(clip_grad_norm(params, 20.0) == doctest::Approx(13.0));
    CHECK(a.grad()[0] == T(3));
    CHECK(b.grad()[0] == T(12));
  }
  SUBCASE("L1 and infinity norms") {
    CHECK(grad_norm(params, 1.0) == doctest::Approx(19.0));
    const double inf_norm = clip_grad_norm(params, 6.0, std::numeric_limits<double>::infinity());
    CHECK(inf_norm == doctest::Approx(12.0));
    CHECK(static_cast<double>(b.grad()[0]) == doctest::Approx(12 * 6.0 / (12.0 + 1e-6)));
    CHECK(static_cast<double>(a.grad()[0]) == doctest::Approx(3 * 6.0 / (12.0 + 1e-6)));
  }
  SUBCASE("zero gradients stay zero") {
    a.grad().zero();
    b.grad().zero();
    CHECK(clip_grad_norm(params, 1.0) == 0.0);
    CHECK(a.grad()[1] == T(0));
  }
}

TEST_CASE("clip_grad_norm returns a non-finite norm so the caller can skip the step") {
  Var<float> a = param_with_grad<float>({1, std::numeric_limits<float>::quiet_NaN()});
  CHECK(std::isnan(clip_grad_norm(std::vector<Var<float>>{a}, 1.0)));
  CHECK_THROWS_WITH_AS(clip_grad_norm(std::vector<Var<float>>{a}, -1.0), doctest::Contains("max_norm"), gan::Error);
  CHECK_THROWS_WITH_AS(grad_norm(std::vector<Var<float>>{a}, 0.0), doctest::Contains("norm_type"), gan::Error);
}

TEST_CASE_TEMPLATE("clip_grad_value clamps each element", T, float, double) {
  Var<T> a = param_with_grad<T>({T(-3), T(0.5), T(2), T(-0.25)});
  Var<T> no_grad = gan::parameter(Tensor<T>::ones(Shape{2}));
  clip_grad_value(std::vector<Var<T>>{a, no_grad}, 1.0);
  CHECK(a.grad().to_vector() == std::vector<T>{T(-1), T(0.5), T(1), T(-0.25)});
  CHECK_FALSE(no_grad.grad().defined());
  CHECK_THROWS_WITH_AS(clip_grad_value(std::vector<Var<T>>{a}, -1.0), doctest::Contains("clip_value"), gan::Error);
}
