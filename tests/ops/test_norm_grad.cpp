#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/autograd/grad_check.hpp"
#include "gan/core/random.hpp"
#include "gan/ops/batch_norm.hpp"
#include "gan/ops/instance_norm.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;

namespace {

// Normalisation's Jacobian is well conditioned for unit-scale inputs; the slack over the
// defaults covers the sum-over-the-batch terms of the finite differences.
const gan::GradCheckOptions kNormCheck = [] {
  gan::GradCheckOptions o;
  o.eps = 1e-5;
  o.atol = 1e-6;
  o.rtol = 1e-5;
  return o;
}();

Var<double> normal_leaf(const Shape& s, std::uint64_t seed, double scale = 1.0, double offset = 0.0) {
  gan::Rng rng(seed);
  Tensor<double> t = gan::randn<double>(s, rng);
  for (double& v : t) v = v * scale + offset;
  return Var<double>(t, true);
}

const std::vector<Shape> kBatchShapes = {Shape{5, 3},       Shape{2, 1},       Shape{2, 3, 5},   Shape{1, 2, 3, 5},
                                         Shape{3, 2, 3, 3}, Shape{2, 3, 1, 1}, Shape{1, 1, 1, 7}};

}  // namespace

TEST_CASE("batch_norm with batch statistics passes the gradient check") {
  for (const Shape& s : kBatchShapes) {
    for (bool affine : {true, false}) {
      CAPTURE(s);
      CAPTURE(affine);
      Var<double> x = normal_leaf(s, 1, 1.5, 0.3);
      Var<double> gamma = affine ? normal_leaf(Shape{s[1]}, 2, 0.3, 1.0) : Var<double>();
      Var<double> beta = affine ? normal_leaf(Shape{s[1]}, 3) : Var<double>();
      std::vector<Var<double>> inputs{x};
      if (affine) inputs.insert(inputs.end(), {gamma, beta});
      // Undefined running tensors: the check calls f() many times, which must not drift.
      auto f = [&] { return gan::batch_norm(x, gamma, beta, Tensor<double>(), Tensor<double>()); };
      auto r = gan::grad_check(f, inputs, kNormCheck);
      CHECK_MESSAGE(r.ok, r.worst);
    }
  }
}

TEST_CASE("batch_norm with running statistics is affine and passes the gradient check") {
  for (const Shape& s : kBatchShapes) {
    CAPTURE(s);
    Var<double> x = normal_leaf(s, 4);
    Var<double> gamma = normal_leaf(Shape{s[1]}, 5, 0.3, 1.0), beta = normal_leaf(Shape{s[1]}, 6);
    Tensor<double> rm = gan::randn<double>(Shape{s[1]});
    Tensor<double> rv = gan::rand<double>(Shape{s[1]}, 0.5, 2.0);
    const Tensor<double> rm0 = rm.clone(), rv0 = rv.clone();
    gan::BatchNormParams p;
    p.use_batch_stats = false;
    auto f = [&] { return gan::batch_norm(x, gamma, beta, rm, rv, p); };
    auto r = gan::grad_check(f, {x, gamma, beta}, kNormCheck);
    CHECK_MESSAGE(r.ok, r.worst);
    // Eval mode reads the running statistics and never writes them.
    for (std::int64_t c = 0; c < s[1]; ++c) {
      CHECK(rm[c] == rm0[c]);
      CHECK(rv[c] == rv0[c]);
    }
    Var<double> y = f();
    const std::int64_t spatial = s.numel() / (s[0] * s[1]);
    for (std::int64_t i = 0; i < s.numel(); ++i) {
      const std::int64_t c = (i / spatial) % s[1];
      const double want = (x.value()[i] - rm[c]) / std::sqrt(rv[c] + 1e-5) * gamma.value()[c] + beta.value()[c];
      REQUIRE(y.value()[i] == doctest::Approx(want).epsilon(1e-12));
    }
  }
}

TEST_CASE_TEMPLATE("batch_norm output has zero mean and unit variance per channel", T, float, double) {
  gan::Rng rng(9);
  Tensor<T> xt = gan::randn<T>(Shape{4, 3, 5, 5}, rng);
  for (T& v : xt) v = v * T(3) + T(7);
  Var<T> x(xt, false);
  Tensor<T> rm = Tensor<T>::zeros(Shape{3}), rv = Tensor<T>::ones(Shape{3});
  Var<T> y = gan::batch_norm(x, Var<T>(), Var<T>(), rm, rv);
  for (std::int64_t c = 0; c < 3; ++c) {
    double sum = 0, sq = 0;
    for (std::int64_t n = 0; n < 4; ++n)
      for (std::int64_t i = 0; i < 25; ++i) sum += y.value()[(n * 3 + c) * 25 + i];
    for (std::int64_t n = 0; n < 4; ++n)
      for (std::int64_t i = 0; i < 25; ++i) sq += std::pow(y.value()[(n * 3 + c) * 25 + i] - sum / 100, 2);
    CHECK(std::abs(sum / 100) < 1e-5);
    CHECK(sq / 100 == doctest::Approx(1.0).epsilon(1e-4));  // biased variance, up to eps
    CHECK(rm[c] != T(0));  // the running statistics were updated
    CHECK(rv[c] != T(1));
  }
}

TEST_CASE("batch_norm gives gamma and beta gradients when x needs none") {
  Var<double> x(gan::randn<double>(Shape{3, 2, 4}), false);
  Var<double> gamma = normal_leaf(Shape{2}, 7, 0.2, 1.0), beta = normal_leaf(Shape{2}, 8);
  auto f = [&] { return gan::batch_norm(x, gamma, beta, Tensor<double>(), Tensor<double>()); };
  auto r = gan::grad_check(f, {gamma, beta}, kNormCheck);
  CHECK_MESSAGE(r.ok, r.worst);
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("batch_norm rejects bad shapes and a single value per channel") {
  Var<float> x(Tensor<float>::zeros(Shape{2, 3, 4, 4}), false);
  Var<float> g3(Tensor<float>::ones(Shape{3}), true), g4(Tensor<float>::ones(Shape{4}), true);
  CHECK_THROWS_WITH_AS(gan::batch_norm(x, g4, Var<float>(), Tensor<float>(), Tensor<float>()),
                       doctest::Contains("(2, 3, 4, 4)"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::batch_norm(x, g4, Var<float>(), Tensor<float>(), Tensor<float>()),
                       doctest::Contains("weight has shape (4)"), gan::Error);
  CHECK_THROWS_WITH_AS(
      gan::batch_norm(x, g3, Var<float>(), Tensor<float>::zeros(Shape{2}), Tensor<float>::ones(Shape{2})),
      doctest::Contains("running_mean"), gan::Error);
  CHECK_THROWS_AS(gan::batch_norm(x, g3, Var<float>(), Tensor<float>::zeros(Shape{3}), Tensor<float>()), gan::Error);
  Var<float> one(Tensor<float>::zeros(Shape{1, 3, 1, 1}), false);
  CHECK_THROWS_WITH_AS(gan::batch_norm(one, g3, Var<float>(), Tensor<float>(), Tensor<float>()),
                       doctest::Contains("more than 1 value per channel"), gan::Error);
  Var<float> vec(Tensor<float>::zeros(Shape{6}), false);
  CHECK_THROWS_WITH_AS(gan::batch_norm(vec, g3, Var<float>(), Tensor<float>(), Tensor<float>()),
                       doctest::Contains("(6)"), gan::Error);
  gan::BatchNormParams eval;
  eval.use_batch_stats = false;
  CHECK_THROWS_WITH_AS(gan::batch_norm(x, g3, Var<float>(), Tensor<float>(), Tensor<float>(), eval),
                       doctest::Contains("needs running_mean"), gan::Error);
  // A single value per channel is fine with running statistics.
  CHECK_NOTHROW(gan::batch_norm(one, g3, Var<float>(), Tensor<float>::zeros(Shape{3}), Tensor<float>::ones(Shape{3}),
                                eval));
}

TEST_CASE("instance_norm passes the gradient check, affine or not") {
  for (const Shape& s : {Shape{1, 1, 3, 3}, Shape{2, 3, 4, 5}, Shape{2, 3, 7}, Shape{3, 2, 1, 2}}) {
    for (bool affine : {false, true}) {
      CAPTURE(s);
      CAPTURE(affine);
      Var<double> x = normal_leaf(s, 10, 2.0, -0.4);
      Var<double> gamma = affine ? normal_leaf(Shape{s[1]}, 11, 0.3, 1.0) : Var<double>();
      Var<double> beta = affine ? normal_leaf(Shape{s[1]}, 12) : Var<double>();
      std::vector<Var<double>> inputs{x};
      if (affine) inputs.insert(inputs.end(), {gamma, beta});
      auto r = gan::grad_check([&] { return gan::instance_norm(x, gamma, beta); }, inputs, kNormCheck);
      CHECK_MESSAGE(r.ok, r.worst);
    }
  }
}

TEST_CASE("instance_norm normalises every (sample, channel) on its own") {
  Tensor<double> xt = gan::randn<double>(Shape{2, 2, 3, 3});
  for (std::int64_t i = 0; i < 9; ++i) xt[i] = 100 + 5 * xt[i];  // only (0, 0) is shifted
  Var<double> y = gan::instance_norm(Var<double>(xt, false));
  for (std::int64_t g = 0; g < 4; ++g) {
    double sum = 0, sq = 0;
    for (std::int64_t i = 0; i < 9; ++i) sum += y.value()[g * 9 + i];
    for (std::int64_t i = 0; i < 9; ++i) sq += std::pow(y.value()[g * 9 + i], 2);
    CHECK(std::abs(sum) < 1e-9);
    CHECK(sq / 9 == doctest::Approx(1.0).epsilon(1e-3));
  }
}

TEST_CASE("instance_norm rejects rank 2 and a single spatial element") {
  CHECK_THROWS_WITH_AS(gan::instance_norm(Var<float>(Tensor<float>::zeros(Shape{4, 3}), false)),
                       doctest::Contains("(4, 3)"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::instance_norm(Var<float>(Tensor<float>::zeros(Shape{4, 3, 1, 1}), false)),
                       doctest::Contains("more than 1 spatial element"), gan::Error);
}
