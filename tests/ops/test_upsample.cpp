#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../reference/fixture.hpp"
#include "grad_test_util.hpp"
#include "gan/autograd/grad_check.hpp"
#include "gan/ops/reduce.hpp"
#include "gan/ops/upsample.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
using gan_test::expect_grad_ok;
using gan_test::uniform_leaf;

namespace {
Var<double> values(const Shape& s, const std::vector<double>& v) {
  return Var<double>(Tensor<double>::from(s, v), true);
}
void check_values(const Tensor<double>& got, const std::vector<double>& want) {
  REQUIRE(static_cast<std::size_t>(got.numel()) == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(got[static_cast<std::int64_t>(i)] == doctest::Approx(want[i]).epsilon(1e-12));
  }
}
}  // namespace

TEST_CASE("upsample_nearest repeats pixels and sums gradients over each block") {
  Var<double> x = values(Shape{1, 1, 2, 2}, {1, 2, 3, 4});
  Var<double> y = gan::upsample_nearest(x, 2);
  CHECK(y.shape() == Shape{1, 1, 4, 4});
  check_values(y.value(), {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  gan::sum(y).backward();
  check_values(x.grad(), {4, 4, 4, 4});
  check_values(gan::upsample_nearest(values(Shape{1, 1, 1, 2}, {5, 6}), 3).value(),
               {5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6});
  // to a size: src = floor(dst * in / out); 3 -> 2 picks 0, 1; 2 -> 5 picks 0 0 0 1 1
  check_values(gan::upsample_nearest(values(Shape{1, 1, 1, 3}, {7, 8, 9}), 1, 2).value(), {7, 8});
  check_values(gan::upsample_nearest(values(Shape{1, 1, 1, 2}, {7, 8}), 1, 5).value(), {7, 7, 7, 8, 8});
}

TEST_CASE("upsample_bilinear: hand-computed 2x2 -> 4x4 and 1x4 -> 1x2") {
  // align_corners=False: src = (dst + 0.5) / 2 - 0.5, clamped at 0: weights 1 | .75 .25 | .25 .75 | 1
  Var<double> x = values(Shape{1, 1, 2, 2}, {1, 2, 3, 4});
  Var<double> y = gan::upsample_bilinear(x, 4, 4);
  check_values(y.value(), {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  gan::sum(y).backward();
  check_values(x.grad(), {4, 4, 4, 4});  // each axis spreads weight 1 + .75 + .25 = 2
  check_values(gan::upsample_bilinear(values(Shape{1, 1, 1, 4}, {1, 2, 3, 4}), 1, 2).value(), {1.5, 3.5});
}

TEST_CASE("upsample_bicubic: hand-computed 1x2 -> 1x4 with border clamp") {
  // dst 0: src -0.25, t = 0.75, taps at -2..1 clamp to 0 0 0 1 with Keys weights
  // (-0.03515625, 0.26171875, 0.87890625, -0.10546875) -> 1.10546875 - 0.2109375.
  Var<double> x = values(Shape{1, 1, 1, 2}, {1, 2});
  Var<double> y = gan::upsample_bicubic(x, 1, 4);
  check_values(y.value(), {0.89453125, 1.2265625, 1.7734375, 2.10546875});
  // same size is the identity (t = 0: weights 0 1 0 0)
  Var<double> z = uniform_leaf(Shape{1, 2, 3, 5}, 9);
  check_values(gan::upsample_bicubic(z, 3, 5).value(), z.value().to_vector());
  check_values(gan::upsample_bilinear(z, 3, 5).value(), z.value().to_vector());
}

TEST_CASE("upsample gradients on odd shapes, up and down") {
  Var<double> x = uniform_leaf(Shape{1, 1, 5, 7}, 1), b = uniform_leaf(Shape{2, 3, 3, 5}, 2);
  expect_grad_ok([&] { return gan::upsample_nearest(x, 2); }, {x});
  expect_grad_ok([&] { return gan::upsample_nearest(b, 3); }, {b});
  expect_grad_ok([&] { return gan::upsample_nearest(x, 3, 4); }, {x});
  expect_grad_ok([&] { return gan::upsample_bilinear(x, 9, 13); }, {x});
  expect_grad_ok([&] { return gan::upsample_bilinear(x, 3, 4); }, {x});
  expect_grad_ok([&] { return gan::upsample_bilinear(b, 1, 1); }, {b});
  expect_grad_ok([&] { return gan::upsample_bicubic(x, 11, 9); }, {x});
  expect_grad_ok([&] { return gan::upsample_bicubic(x, 3, 4); }, {x});
  expect_grad_ok([&] { return gan::upsample_bicubic(b, 7, 2); }, {b});
}

TEST_CASE("upsample errors name the op and the shape") {
  Var<float> x(Tensor<float>::zeros(Shape{2, 3, 4}));
  CHECK_THROWS_WITH_AS(gan::upsample_bilinear(x, 8, 8), doctest::Contains("(2, 3, 4)"), gan::Error);
  Var<float> y(Tensor<float>::zeros(Shape{1, 1, 4, 4}));
  CHECK_THROWS_WITH_AS(gan::upsample_bicubic(y, 0, 8), doctest::Contains("upsample_bicubic"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::upsample_nearest(y, 0), doctest::Contains("scale"), gan::Error);
}

TEST_CASE("upsampling matches PyTorch F.interpolate (align_corners=False)") {
  const char* cases[] = {"upsample_nearest2",      "upsample_nearest_9x11",  "upsample_nearest_3x4",
                         "upsample_bilinear_10x14", "upsample_bilinear_9x13", "upsample_bilinear_3x4",
                         "upsample_bicubic_11x9",  "upsample_bicubic_3x4"};
  for (const std::string name : cases) {
    CAPTURE(name);
    auto ref = gan::test::load_ref(name);
    Var<float> x(ref["x"], true);
    const Shape out = ref["y"].shape();
    Var<float> y = name == "upsample_nearest2"               ? gan::upsample_nearest(x, 2)
                   : name.find("nearest") != std::string::npos ? gan::upsample_nearest(x, out[2], out[3])
                   : name.find("bilinear") != std::string::npos ? gan::upsample_bilinear(x, out[2], out[3])
                                                                : gan::upsample_bicubic(x, out[2], out[3]);
    gan::test::check_close(name + ".y", y.value(), ref["y"], 1e-5, 1e-6);
    y.backward(ref["gy"]);
    gan::test::check_close(name + ".gx", x.grad(), ref["gx"], 1e-5, 1e-5);
  }
}
