#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/core/parallel.hpp"
#include "gan/core/random.hpp"
#include "gan/optim/ema.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;

namespace {
Var<double> random_param(const Shape& s, std::uint64_t seed) {
  gan::Rng rng(seed);
  return gan::parameter(gan::randn<double>(s, rng));
}
}  // namespace

TEST_CASE("ExponentialMovingAverage starts as a copy and follows the update rule on every element") {
  const int initial_threads = gan::max_threads();
  // 20,011 elements: five 4096-element chunks, the last one ragged (enough work for the threaded path), on 1 and 2 threads.
  for (int threads : {1, 2}) {
    gan::set_num_threads(threads);
    std::vector<Var<double>> current = {random_param(Shape{3}, 1), random_param(Shape{20011}, 2)};
    std::vector<Var<double>> average = {random_param(Shape{3}, 3), random_param(Shape{20011}, 4)};
    gan::optim::ExponentialMovingAverage<double> ema(average, current);
    for (std::size_t p = 0; p < 2; ++p)
      for (std::int64_t k = 0; k < current[p].numel(); ++k) REQUIRE(average[p].value()[k] == current[p].value()[k]);

    std::vector<Tensor<double>> want = {average[0].value().clone(), average[1].value().clone()};
    for (int step = 0; step < 3; ++step) {
      for (std::size_t p = 0; p < 2; ++p) {
        Tensor<double> moved = random_param(current[p].shape(), 10 + step).value();
        current[p].value().copy_from(moved);
        for (std::int64_t k = 0; k < moved.numel(); ++k) want[p][k] = 0.9 * want[p][k] + 0.1 * moved[k];
      }
      ema.update(0.9);
    }
    double worst = 0;
    for (std::size_t p = 0; p < 2; ++p)
      for (std::int64_t k = 0; k < want[p].numel(); ++k) worst = std::max(worst, std::abs(average[p].value()[k] - want[p][k]));
    CHECK(worst < 1e-14);

    ema.update(1.0);  // decay 1 freezes the average
    CHECK(average[1].value()[5] == doctest::Approx(want[1][5]).epsilon(1e-14));
  }
  gan::set_num_threads(initial_threads);
}

TEST_CASE("ExponentialMovingAverage names mismatched parameters and bad decays") {
  std::vector<Var<float>> a = {gan::parameter(Tensor<float>::zeros(Shape{2, 3}))};
  std::vector<Var<float>> b = {gan::parameter(Tensor<float>::zeros(Shape{3, 2}))};
  CHECK_THROWS_WITH(gan::optim::ExponentialMovingAverage<float>(a, b),
                    doctest::Contains("parameter 0 has shape (2, 3) in the average and (3, 2) in the model"));
  CHECK_THROWS_WITH(gan::optim::ExponentialMovingAverage<float>(a, {}), doctest::Contains("1 averaged parameters for 0 current"));
  gan::optim::ExponentialMovingAverage<float> ema(a, a);
  CHECK_THROWS_WITH(ema.update(1.5), doctest::Contains("decay must be in [0, 1], got 1.5"));
}
