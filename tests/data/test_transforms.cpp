#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../matchers.hpp"
#include "gan/data/transforms.hpp"

using gan::Shape;
using gan::Tensor;
namespace data = gan::data;

using gan_test::has;

static Tensor<float> ramp(std::int64_t c, std::int64_t h, std::int64_t w) {
  Tensor<float> t = Tensor<float>::empty(Shape{c, h, w});
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data()[i] = float(i);
  return t;
}

TEST_CASE("resize: nearest doubles pixels, bilinear keeps constants, same size is the identity") {
  Tensor<float> x = ramp(1, 2, 2);
  Tensor<float> n = data::resize(x, 4, 4, data::Interpolation::Nearest);
  const std::vector<float> expected = {0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3};
  CHECK(std::vector<float>(n.begin(), n.end()) == expected);

  Tensor<float> flat = Tensor<float>::full(Shape{3, 5, 7}, 0.25f);
  for (auto mode : {data::Interpolation::Bilinear, data::Interpolation::Bicubic}) {
    Tensor<float> r = data::resize(flat, 9, 4, mode);
    CHECK(r.shape() == Shape{3, 9, 4});
    for (float v : r) CHECK(v == doctest::Approx(0.25f));
  }
  Tensor<float> x2 = ramp(2, 5, 3);
  Tensor<float> same = data::resize(x2, 5, 3, data::Interpolation::Bilinear);
  for (std::int64_t i = 0; i < x2.numel(); ++i) CHECK(same.data()[i] == doctest::Approx(x2.data()[i]));
}

TEST_CASE("resize: bicubic overshoot is clamped to the input's range") {
  Tensor<float> step = Tensor<float>::zeros(Shape{1, 1, 8});
  for (std::int64_t i = 4; i < 8; ++i) step.data()[i] = 1.0f;  // a hard edge rings under bicubic
  Tensor<float> r = data::resize(step, 1, 29, data::Interpolation::Bicubic);
  for (float v : r) {
    CHECK(v >= 0.0f);
    CHECK(v <= 1.0f);
  }
  CHECK_THROWS_WITH_AS(data::resize(step, 0, 3), has("target size 0x3"), gan::Error);
}

TEST_CASE("crop and hflip") {
  Tensor<float> x = ramp(2, 4, 5);
  Tensor<float> c = data::crop(x, 1, 2, 2, 3);
  const std::vector<float> expected = {7, 8, 9, 12, 13, 14, 27, 28, 29, 32, 33, 34};
  CHECK(std::vector<float>(c.begin(), c.end()) == expected);
  CHECK_THROWS_WITH_AS(data::crop(x, 3, 0, 2, 2), has("does not fit a 4x5 image"), gan::Error);
  CHECK_THROWS_WITH_AS(data::crop(Tensor<float>::zeros(Shape{4, 5}), 0, 0, 1, 1), has("(C, H, W)"), gan::Error);

  Tensor<float> f = data::hflip(x);
  CHECK(f.data()[0] == 4);
  CHECK(f.data()[4] == 0);
  Tensor<float> ff = data::hflip(f);
  CHECK(std::vector<float>(ff.begin(), ff.end()) == std::vector<float>(x.begin(), x.end()));
}

TEST_CASE("jitter: centre crop by default; random draws cover the free range and flip about half the time") {
  data::JitterOptions o;
  o.load_size = 8, o.crop_size = 6, o.flip = true, o.interpolation = data::Interpolation::Nearest;
  Tensor<float> x = ramp(1, 4, 4);
  Tensor<float> centre = data::apply_jitter(x, o, {});
  CHECK(centre.shape() == Shape{1, 6, 6});
  Tensor<float> loaded = data::resize(x, 8, 8, data::Interpolation::Nearest);
  Tensor<float> expected = data::crop(loaded, 1, 1, 6, 6);
  CHECK(std::vector<float>(centre.begin(), centre.end()) == std::vector<float>(expected.begin(), expected.end()));

  gan::Rng rng(4);
  int flips = 0, at_zero = 0, at_max = 0;
  for (int i = 0; i < 400; ++i) {
    data::JitterDraw d = data::draw_jitter(o, rng);
    flips += d.flip;
    const auto top = std::int64_t(d.top * 3);  // free range 2: positions 0, 1, 2
    at_zero += top == 0;
    at_max += top == 2;
  }
  CHECK(flips > 150);
  CHECK(flips < 250);
  CHECK(at_zero > 80);
  CHECK(at_max > 80);
  data::JitterDraw corner{1.0, 1.0, true};  // the largest draw must still fit
  CHECK(data::apply_jitter(x, o, corner).shape() == Shape{1, 6, 6});
  o.crop_size = 9;
  CHECK_THROWS_WITH_AS(data::apply_jitter(x, o, {}), has("crop_size 9 is larger than the 8x8 image"), gan::Error);
}
