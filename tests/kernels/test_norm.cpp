#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gan/core/random.hpp"
#include "gan/kernels/norm.hpp"

using gan::Shape;
using gan::Tensor;
using gan::kernels::NormShape;

namespace {

// Plain double reference: statistics, forward, and the textbook backward through
// dvar and dmean (Ioffe & Szegedy eq. for dL/dx), a different route from the kernel's
// closed form, so an algebra slip in either shows up.
struct Ref {
  NormShape s;
  std::int64_t group(std::int64_t n, std::int64_t c) const { return s.per_instance ? n * s.c + c : c; }
  std::int64_t idx(std::int64_t n, std::int64_t c, std::int64_t i) const { return (n * s.c + c) * s.s + i; }

  void stats(std::vector<double>& mean, std::vector<double>& var, const std::vector<double>& x) const {
    const auto g = static_cast<std::size_t>(s.groups());
    const double count = static_cast<double>(s.group_size());
    mean.assign(g, 0.0);
    var.assign(g, 0.0);
    for (std::int64_t n = 0; n < s.n; ++n)
      for (std::int64_t c = 0; c < s.c; ++c)
        for (std::int64_t i = 0; i < s.s; ++i) mean[group(n, c)] += x[idx(n, c, i)] / count;
    for (std::int64_t n = 0; n < s.n; ++n)
      for (std::int64_t c = 0; c < s.c; ++c)
        for (std::int64_t i = 0; i < s.s; ++i) {
          const double d = x[idx(n, c, i)] - mean[group(n, c)];
          var[group(n, c)] += d * d / count;
        }
  }

  // dx, dgamma, dbeta are overwritten (the kernel's accumulation is tested separately).
  void backward(std::vector<double>& dx, std::vector<double>& dgamma, std::vector<double>& dbeta,
                const std::vector<double>& dy, const std::vector<double>& x, const std::vector<double>& gamma,
                double eps, bool through_stats) const {
    std::vector<double> mean, var;
    stats(mean, var, x);
    const double m = static_cast<double>(s.group_size());
    std::vector<double> dvar(mean.size(), 0.0), dmean(mean.size(), 0.0), sum_dev(mean.size(), 0.0);
    dx.assign(x.size(), 0.0);
    dgamma.assign(static_cast<std::size_t>(s.c), 0.0);
    dbeta.assign(static_cast<std::size_t>(s.c), 0.0);
    for (std::int64_t n = 0; n < s.n; ++n)
      for (std::int64_t c = 0; c < s.c; ++c)
        for (std::int64_t i = 0; i < s.s; ++i) {
          const auto g = group(n, c);
          const double inv = 1 / std::sqrt(var[g] + eps), dev = x[idx(n, c, i)] - mean[g];
          const double dxhat = dy[idx(n, c, i)] * gamma[c];
          dvar[g] += dxhat * dev * -0.5 * std::pow(var[g] + eps, -1.5);
          dmean[g] += -dxhat * inv;
          sum_dev[g] += -2 * dev;
          dgamma[c] += dy[idx(n, c, i)] * dev * inv;
          dbeta[c] += dy[idx(n, c, i)];
        }
    for (std::int64_t n = 0; n < s.n; ++n)
      for (std::int64_t c = 0; c < s.c; ++c)
        for (std::int64_t i = 0; i < s.s; ++i) {
          const auto g = group(n, c);
          const double inv = 1 / std::sqrt(var[g] + eps), dev = x[idx(n, c, i)] - mean[g];
          const double dxhat = dy[idx(n, c, i)] * gamma[c];
          dx[idx(n, c, i)] = through_stats
                                 ? dxhat * inv + dvar[g] * 2 * dev / m + (dmean[g] + dvar[g] * sum_dev[g] / m) / m
                                 : dxhat * inv;
        }
  }
};

template <class T>
std::vector<double> as_double(const T* p, std::int64_t n) {
  return std::vector<double>(p, p + n);
}

// max |a - b| / (1 + |b|), with the first mismatch in the failure message.
template <class T>
void check_close(const T* got, const std::vector<double>& want, double tol, const char* what) {
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double e = std::abs(static_cast<double>(got[i]) - want[i]) / (1 + std::abs(want[i]));
    if (!(e <= worst)) worst = std::isnan(e) ? std::numeric_limits<double>::infinity() : e, at = i;  // NaN fails
  }
  INFO(what << ": maxdiff " << worst << " at [" << at << "] got " << static_cast<double>(got[at]) << " want "
            << want[at]);
  CHECK(worst <= tol);
}

const std::vector<NormShape> kShapes = {{1, 1, 2}, {2, 3, 1}, {1, 3, 7}, {3, 5, 9}, {4, 17, 33}, {8, 3, 1024}};

}  // namespace

TEST_CASE_TEMPLATE("norm kernels match the double reference", T, float, double) {
  const double tol = sizeof(T) == 4 ? 2e-4 : 1e-10;
  const double eps = 1e-5;
  for (NormShape s : kShapes) {
    for (bool per_instance : {false, true}) {
      s.per_instance = per_instance;
      if (s.group_size() < 2) continue;
      CAPTURE(s.n);
      CAPTURE(s.c);
      CAPTURE(s.s);
      CAPTURE(per_instance);
      gan::Rng rng(11);
      auto x = gan::randn<T>(Shape{s.n * s.c * s.s}, rng);
      for (T& v : x) v = v * T(2) + T(0.5);  // mean away from 0 so the mean paths matter
      auto dy = gan::randn<T>(x.shape(), rng);
      auto gamma = gan::rand<T>(Shape{s.c}, 0.5, 1.5, rng);
      auto beta = gan::randn<T>(Shape{s.c}, rng);
      Ref ref{s};

      std::vector<T> mean(static_cast<std::size_t>(s.groups())), var(mean.size()), invstd(mean.size());
      gan::kernels::norm_statistics(mean.data(), var.data(), x.data(), s);
      std::vector<double> rmean, rvar;
      ref.stats(rmean, rvar, as_double(x.data(), x.numel()));
      check_close(mean.data(), rmean, tol, "mean");
      check_close(var.data(), rvar, tol, "var");

      gan::kernels::norm_inverse_std(invstd.data(), var.data(), s.groups(), eps);
      auto y = Tensor<T>::empty(x.shape());
      gan::kernels::norm_forward(y.data(), x.data(), mean.data(), invstd.data(), gamma.data(), beta.data(), s);
      std::vector<double> ry(static_cast<std::size_t>(x.numel()));
      for (std::int64_t n = 0; n < s.n; ++n)
        for (std::int64_t c = 0; c < s.c; ++c)
          for (std::int64_t i = 0; i < s.s; ++i) {
            const auto g = ref.group(n, c), k = ref.idx(n, c, i);
            ry[k] = (x[k] - rmean[g]) / std::sqrt(rvar[g] + eps) * gamma[c] + beta[c];
          }
      check_close(y.data(), ry, tol, "y");

      for (bool through : {true, false}) {
        CAPTURE(through);
        // Prefilled gradients: the kernel must add, not overwrite.
        auto dx = Tensor<T>::full(x.shape(), T(1));
        auto dgamma = Tensor<T>::full(Shape{s.c}, T(2));
        auto dbeta = Tensor<T>::full(Shape{s.c}, T(-3));
        gan::kernels::norm_backward(dx.data(), dgamma.data(), dbeta.data(), dy.data(), x.data(), mean.data(),
                                    invstd.data(), gamma.data(), s, through);
        std::vector<double> rdx, rdg, rdb;
        ref.backward(rdx, rdg, rdb, as_double(dy.data(), dy.numel()), as_double(x.data(), x.numel()),
                     as_double(gamma.data(), s.c), eps, through);
        for (double& v : rdx) v += 1;
        for (double& v : rdg) v += 2;
        for (double& v : rdb) v -= 3;
        check_close(dx.data(), rdx, 10 * tol, "dx");
        check_close(dgamma.data(), rdg, 10 * tol, "dgamma");
        check_close(dbeta.data(), rdb, 10 * tol, "dbeta");
        // Overwriting dx (its first contribution) ignores what was there, even NaN.
        auto dx_new = Tensor<T>::full(x.shape(), std::numeric_limits<T>::quiet_NaN());
        gan::kernels::norm_backward(dx_new.data(), static_cast<T*>(nullptr), static_cast<T*>(nullptr), dy.data(),
                                    x.data(), mean.data(), invstd.data(), gamma.data(), s, through, false);
        for (double& v : rdx) v -= 1;
        check_close(dx_new.data(), rdx, 10 * tol, "dx overwritten");
      }
    }
  }
}

TEST_CASE("norm_backward skips null outputs and treats null gamma as 1") {
  NormShape s{3, 4, 5};
  gan::Rng rng(3);
  auto x = gan::randn<double>(Shape{60}, rng);
  auto dy = gan::randn<double>(Shape{60}, rng);
  std::vector<double> mean(4), var(4), invstd(4);
  gan::kernels::norm_statistics(mean.data(), var.data(), x.data(), s);
  gan::kernels::norm_inverse_std(invstd.data(), var.data(), 4, 1e-5);
  auto ones = Tensor<double>::ones(Shape{4});
  auto dx_full = Tensor<double>::zeros(Shape{60}), dx_null_gamma = Tensor<double>::zeros(Shape{60});
  auto dgamma = Tensor<double>::zeros(Shape{4});
  gan::kernels::norm_backward(dx_full.data(), dgamma.data(), static_cast<double*>(nullptr), dy.data(), x.data(),
                              mean.data(), invstd.data(), ones.data(), s, true);
  gan::kernels::norm_backward(dx_null_gamma.data(), static_cast<double*>(nullptr), static_cast<double*>(nullptr),
                              dy.data(), x.data(), mean.data(), invstd.data(), static_cast<const double*>(nullptr),
                              s, true);
  for (std::int64_t i = 0; i < 60; ++i) REQUIRE(dx_full[i] == doctest::Approx(dx_null_gamma[i]).epsilon(1e-12));
  auto dgamma_only = Tensor<double>::zeros(Shape{4});
  gan::kernels::norm_backward(static_cast<double*>(nullptr), dgamma_only.data(), static_cast<double*>(nullptr),
                              dy.data(), x.data(), mean.data(), invstd.data(), ones.data(), s, true);
  for (std::int64_t c = 0; c < 4; ++c) CHECK(dgamma_only[c] == doctest::Approx(dgamma[c]).epsilon(1e-12));
}

TEST_CASE("float statistics stay accurate when the mean dwarfs the spread") {
  // E[x^2] - E[x]^2 in float would lose every digit here (1e8 vs a variance of ~1e-2).
  NormShape s{16, 2, 64};
  gan::Rng rng(5);
  auto x = gan::randn<float>(Shape{s.n * s.c * s.s}, rng);
  std::vector<double> xd(static_cast<std::size_t>(x.numel()));
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    x[i] = 1e4f + 0.1f * x[i];
    xd[static_cast<std::size_t>(i)] = x[i];
  }
  float mean[2], var[2];
  gan::kernels::norm_statistics(mean, var, x.data(), s);
  std::vector<double> rmean, rvar;
  Ref{s}.stats(rmean, rvar, xd);
  for (int c = 0; c < 2; ++c) {
    CHECK(mean[c] == doctest::Approx(rmean[static_cast<std::size_t>(c)]).epsilon(1e-7));
    CHECK(var[c] == doctest::Approx(rvar[static_cast<std::size_t>(c)]).epsilon(1e-4));
  }
}

TEST_CASE("running statistics follow PyTorch's momentum with the unbiased variance") {
  double rm[2] = {0, 1}, rv[2] = {1, 2};
  const double mean[2] = {2, -1}, var[2] = {3, 0.5};
  gan::kernels::norm_update_running(rm, rv, mean, var, 2, 4, 0.1);  // count 4 -> var * 4/3
  CHECK(rm[0] == doctest::Approx(0.9 * 0 + 0.1 * 2));
  CHECK(rm[1] == doctest::Approx(0.9 * 1 + 0.1 * -1));
  CHECK(rv[0] == doctest::Approx(0.9 * 1 + 0.1 * 3 * 4.0 / 3.0));
  CHECK(rv[1] == doctest::Approx(0.9 * 2 + 0.1 * 0.5 * 4.0 / 3.0));
}
