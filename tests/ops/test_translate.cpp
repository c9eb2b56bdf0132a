#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "gan/autograd/grad_check.hpp"
#include "gan/ops/elementwise.hpp"
#include "gan/ops/reduce.hpp"
#include "gan/ops/translate.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;

TEST_CASE("translate moves each image by its own offset and fills what comes in") {
  Var<double> x(Tensor<double>::from(Shape{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), true);
  Var<double> y = gan::translate(x, {1}, {-1}, -1.0);  // one row down, one column left
  const std::vector<double> want = {-1, -1, -1, 2, 3, -1, 5, 6, -1};
  for (std::int64_t i = 0; i < 9; ++i) CHECK(y.value()[i] == want[static_cast<std::size_t>(i)]);
  gan::sum(y).backward();  // only the pixels that stayed in the image get a gradient
  const std::vector<double> used = {0, 1, 1, 0, 1, 1, 0, 0, 0};
  for (std::int64_t i = 0; i < 9; ++i) CHECK(x.grad()[i] == used[static_cast<std::size_t>(i)]);
}

TEST_CASE("translate matches the plain definition on odd shapes, shifts past the border included") {
  const std::int64_t n = 5, c = 2, h = 5, w = 4;
  gan::Rng rng(3);
  const Tensor<double> x = gan::rand<double>(Shape{n, c, h, w}, -1, 1, rng);
  const std::vector<std::int64_t> sy = {0, 2, -3, 6, -1}, sx = {0, -1, 3, 0, -4};
  const Tensor<double> y = gan::translate(Var<double>(x), sy, sx, 0.5).value();
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t k = 0; k < c; ++k)
      for (std::int64_t r = 0; r < h; ++r)
        for (std::int64_t q = 0; q < w; ++q) {
          const std::int64_t src_r = r - sy[static_cast<std::size_t>(b)], src_q = q - sx[static_cast<std::size_t>(b)];
          const bool inside = src_r >= 0 && src_r < h && src_q >= 0 && src_q < w;
          CAPTURE(b);
          CAPTURE(r);
          CAPTURE(q);
          CHECK(y[((b * c + k) * h + r) * w + q] == (inside ? x[((b * c + k) * h + src_r) * w + src_q] : 0.5));
        }
}

TEST_CASE("translate passes the finite-difference gradient check") {
  gan::Rng rng(7);
  Var<double> x(gan::rand<double>(Shape{3, 2, 4, 5}, -2, 2, rng), true);
  Var<double> weights(gan::rand<double>(Shape{3, 2, 4, 5}, -1, 1, rng), false);
  auto f = [&] { return gan::sum(gan::translate(x, {1, 0, -2}, {-1, 3, 2}, 0.3) * weights); };
  auto r = gan::grad_check(f, {x});
  CHECK_MESSAGE(r.ok, r.worst);
}

TEST_CASE("random_translate draws every offset in range and nothing outside it") {
  // One bright pixel in the middle of each 9x9 image: where it lands is the offset drawn.
  const std::int64_t n = 400;
  Tensor<float> x = Tensor<float>::zeros(Shape{n, 1, 9, 9});
  for (std::int64_t b = 0; b < n; ++b) x[b * 81 + 4 * 9 + 4] = 1;
  gan::Rng rng(11);
  const Tensor<float> y = gan::random_translate(Var<float>(x), 2, rng).value();
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t i = 0; i < 81; ++i)
      if (y[b * 81 + i] == 1) seen.insert({i / 9 - 4, i % 9 - 4});
  CHECK(seen.size() == 25);  // all of [-2, 2] x [-2, 2], each pixel found once per image
  for (auto [dy, dx] : seen) CHECK((dy >= -2 && dy <= 2 && dx >= -2 && dx <= 2));
  gan::Rng same(11);
  CHECK(gan::random_translate(Var<float>(x), 0, same).value()[4 * 9 + 4] == 1);  // 0: identity
}

TEST_CASE("translate errors name the input shape") {
  Var<float> x(Tensor<float>::zeros(Shape{2, 1, 3, 3}));
  CHECK_THROWS_WITH(gan::translate(x, {1}, {1}), doctest::Contains("1 / 1 shifts for a batch of 2 (input (2, 1, 3, 3))"));
  CHECK_THROWS_WITH(gan::translate(Var<float>(Tensor<float>::zeros(Shape{4, 3})), {0}, {0}),
                    doctest::Contains("input must be (N, C, H, W), got (4, 3)"));
  gan::Rng rng(1);
  CHECK_THROWS_WITH(gan::random_translate(x, -1, rng), doctest::Contains("max_shift must be >= 0"));
}
