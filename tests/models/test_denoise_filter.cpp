// The E4 networks (gan/models/denoise_filter.hpp): shapes and parameter counts of the
// study's sizes, TF-style initialisation, the global skip, errors, finite differences.
#include <doctest/doctest.h>

#include <cmath>

#include "gan/autograd/grad_check.hpp"
#include "gan/models/conditional.hpp"
#include "gan/models/denoise_filter.hpp"

using gan::Shape;
using gan::Var;
namespace models = gan::models;

TEST_CASE("DenoiseFilter: the study's size, output shape and range") {
  models::DenoiseFilter<float> g(models::DenoiseFilterOptions{});
  // conv 2->128 (2,432) + 4 x conv 128->128 (147,584) + conv 128->2 (2,306) + conv 2->1 (19)
  // + BN scales/shifts 2 x (128 + 4 x 128 + 2) = 1,284.
  CHECK(g.parameter_count() == 2432 + 4 * 147584 + 2306 + 19 + 1284);
  gan::Rng rng(3);
  models::DenoiseFilter<float> small(models::DenoiseFilterOptions{8, 2, 1});
  models::tf_glorot_init(small, rng);
  Var<float> x(gan::rand<float>(Shape{3, 1, 28, 28}, 0, 1, rng)), ref(gan::rand<float>(Shape{3, 1, 28, 28}, 0, 1, rng));
  Var<float> y = small(x, ref);
  CHECK(y.shape() == Shape{3, 1, 28, 28});
  for (float v : y.value()) REQUIRE((v > 0.f && v < 1.f));
  small.eval();
  CHECK(small(x, ref).shape() == Shape{3, 1, 28, 28});
}

TEST_CASE("tf_glorot_init: Glorot-uniform conv weights, zero biases, unit BN scales") {
  gan::Rng rng(5);
  models::DenoiseFilter<float> g(models::DenoiseFilterOptions{16, 1, 1});
  models::tf_glorot_init(g, rng);
  for (auto& [name, p] : g.named_parameters()) {
    const auto& v = p.value();
    if (v.rank() == 4) {
      const double fan_in = double(v.dim(1) * 9), fan_out = double(v.dim(0) * 9);
      const double bound = std::sqrt(6.0 / (fan_in + fan_out));
      for (float w : v) REQUIRE(std::abs(w) <= bound);
    } else if (name.find("bias") != std::string::npos) {
      for (float b : v) REQUIRE(b == 0.f);
    } else {
      for (float s : v) REQUIRE(s == 1.f);  // BN weight
    }
  }
}

TEST_CASE("DenoiseFilter: with a zero trunk the global skip passes [x, ref] to the last conv") {
  // Zeroing every conv but the last makes each ELU(BN(0)) = 0, so the last conv sees [x, ref].
  models::DenoiseFilter<double> g(models::DenoiseFilterOptions{4, 1, 1});
  auto params = g.named_parameters();
  for (auto& [name, p] : params) p.value().zero();
  for (auto& [name, p] : params)
    if (name.rfind("stage", 0) == 0 && name.find(".1.weight") != std::string::npos) p.value().fill(1.0);  // BN scale
  for (auto& [name, p] : params)
    if (name == "out.weight") p.value()[9 + 4] = 1.0;  // (0, 1, 1, 1): centre tap of the ref channel
  gan::Rng rng(2);
  Var<double> x(gan::rand<double>(Shape{2, 1, 5, 5}, 0, 1, rng)), ref(gan::rand<double>(Shape{2, 1, 5, 5}, 0, 1, rng));
  Var<double> logits = g.logits(x, ref);
  for (std::int64_t i = 0; i < ref.numel(); ++i) REQUIRE(logits.value()[i] == doctest::Approx(ref.value()[i]));
}

TEST_CASE("DenoiseDiscriminator: the study's size, vanilla and conditional") {
  models::DenoiseDiscriminator<float> d(models::DenoiseDiscriminatorOptions{});
  // convs 1->64 k5, 64->128 k5, 128->256 k5, 256->512 k4, 512->1024 k4, 1024->2048 k4, 2048->1 k1
  const std::int64_t convs = (25 * 1 * 64 + 64) + (25 * 64 * 128 + 128) + (25 * 128 * 256 + 256) +
                             (16 * 256 * 512 + 512) + (16 * 512 * 1024 + 1024) + (16 * 1024 * 2048 + 2048) + 2049;
  CHECK(d.parameter_count() == convs + 2 * (64 + 128 + 256 + 512 + 1024));
  gan::Rng rng(4);
  models::DenoiseDiscriminator<float> small(models::DenoiseDiscriminatorOptions{1, 2});
  models::tf_glorot_init(small, rng);
  Var<float> x(gan::rand<float>(Shape{2, 1, 28, 28}, 0, 1, rng));
  CHECK(small(x).shape() == Shape{2, 1});
  CHECK_THROWS_WITH_AS(small(Var<float>(gan::rand<float>(Shape{2, 1, 32, 32}, 0, 1, rng))),
                       doctest::Contains("(2, 1, 32, 32)"), gan::Error);

  models::ConditionalDiscriminator<float> cd(
      std::make_shared<models::DenoiseDiscriminator<float>>(models::DenoiseDiscriminatorOptions{3, 2}));
  Var<float> cond(gan::rand<float>(Shape{2, 2, 28, 28}, 0, 1, rng));
  CHECK(cd(x, cond).shape() == Shape{2, 1});
}

TEST_CASE("DenoiseFilter: mismatched x and ref throw with both shapes") {
  models::DenoiseFilter<float> g(models::DenoiseFilterOptions{4, 1, 1});
  Var<float> x(gan::Tensor<float>::zeros(Shape{2, 1, 8, 8})), ref(gan::Tensor<float>::zeros(Shape{2, 1, 8, 9}));
  CHECK_THROWS_WITH_AS(g(x, ref), doctest::Contains("(2, 1, 8, 9)"), gan::Error);
}

TEST_CASE("E4 networks pass the finite-difference check (double, batch 2)") {
  gan::Rng rng(11);
  gan::GradCheckOptions check{1e-5, 1e-5, 1e-3};
  check.max_checks_per_input = 40;
  SUBCASE("DenoiseFilter, odd 7x5 images") {
    models::DenoiseFilter<double> g(models::DenoiseFilterOptions{3, 2, 1});
    models::tf_glorot_init(g, rng);
    Var<double> x(gan::rand<double>(Shape{2, 1, 7, 5}, 0, 1, rng), true), ref(gan::rand<double>(Shape{2, 1, 7, 5}, 0, 1, rng), true);
    auto inputs = g.parameters();
    inputs.push_back(x);
    inputs.push_back(ref);
    auto r = gan::grad_check([&] { return g(x, ref); }, inputs, check);
    CHECK_MESSAGE(r.ok, r.worst);
  }
  SUBCASE("DenoiseDiscriminator, width 1") {
    models::DenoiseDiscriminator<double> d(models::DenoiseDiscriminatorOptions{1, 1});
    models::tf_glorot_init(d, rng);
    Var<double> x(gan::rand<double>(Shape{2, 1, 28, 28}, 0, 1, rng), true);
    auto inputs = d.parameters();
    inputs.push_back(x);
    auto r = gan::grad_check([&] { return d(x); }, inputs, check);
    CHECK_MESSAGE(r.ok, r.worst);
  }
}
