#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gan/core/random.hpp"
#include "gan/kernels/elementwise.hpp"
#include "gan/kernels/reduce.hpp"

namespace {
// Plain scalar twins of the SIMD kernels: written independently of the kernel bodies
// (no shared lambdas), so a wrong vector path cannot hide behind the same wrong tail.
namespace scalar {
double relu(double x) { return x > 0 ? x : 0; }
double relu_grad(double x) { return x > 0 ? 1 : 0; }
double leaky(double x, double s) { return x > 0 ? x : s * x; }
double leaky_grad(double x, double s) { return x > 0 ? 1 : s; }
double elu(double x, double a) { return x > 0 ? x : a * (std::exp(x) - 1); }
double elu_grad(double x, double a) { return x > 0 ? 1 : a * std::exp(x); }
double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
}  // namespace scalar

template <class T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed, double lo = -4, double hi = 4) {
  gan::Rng rng(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(rng.uniform(lo, hi));
  return v;
}

template <class T>
double tol() { return std::is_same_v<T, float> ? 2e-6 : 1e-13; }

const std::size_t kSizes[] = {0, 1, 15, 16, 17, 33, 1000, 40000};  // 40000: several parallel chunks
}  // namespace

TEST_CASE_TEMPLATE("activation forward kernels match the scalar reference", T, float, double) {
  for (std::size_t n : kSizes) {
    CAPTURE(n);
    auto x = random_values<T>(n, 1 + n);
    if (n > 3) x[3] = T(0);
    std::vector<T> y(n, T(-7));
    auto expect = [&](auto f, double scale) {
      for (std::size_t i = 0; i < n; ++i) {
        double want = f(static_cast<double>(x[i]));
        REQUIRE(std::abs(y[i] - want) <= tol<T>() * scale * (1 + std::abs(want)));
      }
    };
    gan::kernels::relu_forward(y.data(), x.data(), n);
    expect(scalar::relu, 1);
    gan::kernels::leaky_relu_forward(y.data(), x.data(), n, T(0.2));
    expect([](double v) { return scalar::leaky(v, 0.2); }, 1);
    gan::kernels::elu_forward(y.data(), x.data(), n, T(1.5));
    expect([](double v) { return scalar::elu(v, 1.5); }, 4);
    gan::kernels::tanh_forward(y.data(), x.data(), n);
    expect([](double v) { return std::tanh(v); }, 4);
    gan::kernels::sigmoid_forward(y.data(), x.data(), n);
    expect(scalar::sigmoid, 4);
  }
}

TEST_CASE_TEMPLATE("activation backward kernels accumulate or overwrite the right gradient", T, float, double) {
  for (std::size_t n : kSizes)
    for (bool accumulate : {true, false}) {
      CAPTURE(n);
      CAPTURE(accumulate);
      auto x = random_values<T>(n, 7 + n);
      auto dy = random_values<T>(n, 9 + n, -1, 1);
      // Accumulate onto non-zero values; overwrite NaN (an uninitialised buffer's worst case).
      std::vector<T> dx0 = accumulate ? random_values<T>(n, 11 + n, -1, 1)
                                      : std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
      auto check = [&](auto kernel, auto local_grad, double scale) {
        std::vector<T> dx = dx0;
        kernel(dx.data());
        for (std::size_t i = 0; i < n; ++i) {
          double want = (accumulate ? dx0[i] : 0.0) + dy[i] * local_grad(static_cast<double>(x[i]));
          REQUIRE(std::abs(dx[i] - want) <= tol<T>() * scale * (1 + std::abs(want)));
        }
      };
      check([&](T* dx) { gan::kernels::relu_backward(dx, dy.data(), x.data(), n, accumulate); }, scalar::relu_grad, 1);
      check([&](T* dx) { gan::kernels::leaky_relu_backward(dx, dy.data(), x.data(), n, T(0.01), accumulate); },
            [](double v) { return scalar::leaky_grad(v, 0.01); }, 1);
      check([&](T* dx) { gan::kernels::elu_backward(dx, dy.data(), x.data(), n, T(0.7), accumulate); },
            [](double v) { return scalar::elu_grad(v, 0.7); }, 4);
      // tanh / sigmoid backward take the saved output y
      std::vector<T> y(n);
      for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<T>(std::tanh(static_cast<double>(x[i])));
      check([&](T* dx) { gan::kernels::tanh_backward(dx, dy.data(), y.data(), n, accumulate); },
            [](double v) { double t = std::tanh(v); return 1 - t * t; }, 4);
      for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<T>(scalar::sigmoid(static_cast<double>(x[i])));
      check([&](T* dx) { gan::kernels::sigmoid_backward(dx, dy.data(), y.data(), n, accumulate); },
            [](double v) { double s = scalar::sigmoid(v); return s * (1 - s); }, 4);
    }
}

TEST_CASE_TEMPLATE("tanh, sigmoid and elu stay finite for huge inputs", T, float, double) {
  std::vector<T> x = {T(-1e4), T(-800), T(-100), T(-30), T(30), T(100), T(800), T(1e4),
                      std::numeric_limits<T>::max(), std::numeric_limits<T>::lowest(), T(-20), T(20),
                      T(-50), T(50), T(-60), T(60), T(-88), T(88)};
  const std::size_t n = x.size();
  std::vector<T> y(n);
  gan::kernels::tanh_forward(y.data(), x.data(), n);
  for (std::size_t i = 0; i < n; ++i) CHECK(y[i] == doctest::Approx(x[i] > 0 ? 1 : -1));
  gan::kernels::sigmoid_forward(y.data(), x.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(std::isfinite(y[i]));
    CHECK(y[i] >= 0);
    CHECK(y[i] <= 1);
    CHECK(y[i] == doctest::Approx(x[i] > 0 ? 1 : 0));
  }
  T tiny = T(-30);  // exp(-30) ~ 9.4e-14: must keep relative precision, not round to 0
  gan::kernels::sigmoid_forward(y.data(), &tiny, 1);
  CHECK(y[0] == doctest::Approx(scalar::sigmoid(-30)).epsilon(1e-5));
  gan::kernels::elu_forward(y.data(), x.data(), n, T(1));
  for (std::size_t i = 0; i < n; ++i) CHECK(std::isfinite(y[i]));
}

TEST_CASE("relu propagates NaN instead of hiding it") {
  std::vector<float> x(17, std::numeric_limits<float>::quiet_NaN()), y(17);
  gan::kernels::relu_forward(y.data(), x.data(), x.size());
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[16]));
}

TEST_CASE_TEMPLATE("blas-1 helpers match scalar loops", T, float, double) {
  for (std::size_t n : kSizes) {
    CAPTURE(n);
    auto a = random_values<T>(n, 3 + n), b = random_values<T>(n, 5 + n);
    std::vector<T> y(n);
    gan::kernels::add(y.data(), a.data(), b.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(y[i] == a[i] + b[i]);
    gan::kernels::sub(y.data(), a.data(), b.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(y[i] == a[i] - b[i]);
    gan::kernels::mul(y.data(), a.data(), b.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(y[i] == a[i] * b[i]);
    gan::kernels::scale(y.data(), T(-2.5), a.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(y[i] == T(-2.5) * a[i]);
    gan::kernels::add_scalar(y.data(), a.data(), T(0.5), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(y[i] == a[i] + T(0.5));
    std::vector<T> acc = b;
    gan::kernels::axpy(acc.data(), T(3), a.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(acc[i] == doctest::Approx(b[i] + 3 * a[i]));
    acc = b;
    gan::kernels::mul_add(acc.data(), a.data(), b.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(acc[i] == doctest::Approx(b[i] + a[i] * b[i]));
    // in place: y aliases an input
    acc = a;
    gan::kernels::add(acc.data(), acc.data(), b.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(acc[i] == a[i] + b[i]);
  }
}

TEST_CASE_TEMPLATE("sum, axis_sum and channel_sums match plain loops", T, float, double) {
  for (std::size_t n : kSizes) {
    auto x = random_values<T>(n, 13 + n);
    double want = 0, magnitude = 0;
    for (T v : x) want += v, magnitude += std::abs(v);
    CHECK(std::abs(gan::kernels::sum(x.data(), n) - want) <= tol<T>() * magnitude);
  }
  // float over many elements: block accumulation in double keeps the mean exact-ish
  std::vector<float> ones(3000017, 0.1f);
  CHECK(gan::kernels::mean(ones.data(), ones.size()) == doctest::Approx(0.1).epsilon(1e-6));

  for (auto [outer, len, inner] : {std::array<std::size_t, 3>{1, 1, 1}, {2, 3, 1}, {3, 5, 17}, {1, 33, 16}}) {
    auto x = random_values<T>(outer * len * inner, 17);
    std::vector<T> out(outer * inner, T(1));
    gan::kernels::axis_sum(out.data(), x.data(), outer, len, inner);
    for (std::size_t o = 0; o < outer; ++o)
      for (std::size_t i = 0; i < inner; ++i) {
        double s = 1;
        for (std::size_t k = 0; k < len; ++k) s += x[(o * len + k) * inner + i];
        REQUIRE(out[o * inner + i] == doctest::Approx(s).epsilon(1e-5));
      }
  }
  for (auto [n, c, hw] : {std::array<std::size_t, 3>{1, 1, 1}, {3, 17, 1}, {2, 3, 25}, {1, 5, 33}}) {
    auto x = random_values<T>(n * c * hw, 19);
    std::vector<T> out(c, T(2));
    gan::kernels::channel_sums(out.data(), x.data(), n, c, hw);
    for (std::size_t ch = 0; ch < c; ++ch) {
      double s = 2;
      for (std::size_t b = 0; b < n; ++b)
        for (std::size_t k = 0; k < hw; ++k) s += x[(b * c + ch) * hw + k];
      REQUIRE(out[ch] == doctest::Approx(s).epsilon(1e-5));
    }
  }
}
