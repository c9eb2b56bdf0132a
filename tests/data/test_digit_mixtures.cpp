// The E4 data recipe (gan/data/digit_mixtures.hpp): the mixing formula, the training stream
// and the fixed test mixtures, on hand-made batches and on tests/data/tiny-mnist.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "gan/data/digit_mixtures.hpp"

#ifndef GAN_TEST_DATA_DIR  // set by tests/CMakeLists.txt; the fallback works from the repo root
#define GAN_TEST_DATA_DIR "tests"
#endif

using gan::Shape;
using gan::Tensor;
namespace data = gan::data;

namespace {
const std::string kTiny = std::string(GAN_TEST_DATA_DIR) + "/data/tiny-mnist";

data::MnistDataset tiny(data::Split split) { return data::MnistDataset(kTiny, split, data::PixelRange::ZeroOne); }

bool same(const Tensor<float>& x, const Tensor<float>& y) {
  return x.shape() == y.shape() && std::equal(x.data(), x.data() + x.numel(), y.data());
}
// Row i of an (N, ...) tensor equals row j of another.
bool same_row(const Tensor<float>& x, std::int64_t i, const Tensor<float>& y, std::int64_t j) {
  const std::int64_t per = x.numel() / x.dim(0);
  return std::equal(x.data() + i * per, x.data() + (i + 1) * per, y.data() + j * per);
}
// The index of the train image equal to row i of `images`, or -1.
std::int64_t find_image(const Tensor<float>& images, std::int64_t i, const data::MnistDataset& d) {
  for (std::int64_t j = 0; j < d.size(); ++j)
    if (same_row(images, i, d.images(), j)) return j;
  return -1;
}
}  // namespace

TEST_CASE("mix_digits: u = min(a gt + b ref + noise, 1), ref channel and target scaled, labels kept") {
  data::Batch gt, ref;
  gt.images = Tensor<float>::zeros(Shape{2, 1, 2, 2});
  ref.images = Tensor<float>::zeros(Shape{2, 1, 2, 2});
  Tensor<float> noise = Tensor<float>::zeros(Shape{2, 1, 2, 2});
  for (std::int64_t i = 0; i < 8; ++i) gt.images[i] = 0.125f * float(i), ref.images[i] = 1.0f - 0.125f * float(i), noise[i] = 0.25f;
  gt.labels = {3, 7}, ref.labels = {1, 7};
  const data::Mixture m = data::mix_digits(gt, ref, 0.5, 0.75, 0.5, 0.25, noise);
  for (std::int64_t i = 0; i < 8; ++i) {
    CAPTURE(i);
    CHECK(m.input[i] == doctest::Approx(std::min(0.5 * gt.images[i] + 0.75 * ref.images[i] + 0.25, 1.0)));
    CHECK(m.ref[i] == doctest::Approx(0.5 * ref.images[i]));
    CHECK(m.target[i] == doctest::Approx(0.25 * gt.images[i]));
  }
  CHECK(m.input[0] == doctest::Approx(1.0));  // 0.75 + 0.25 = 1: at the clamp
  CHECK(m.input[7] == doctest::Approx(0.25 + 0.4375 + 0.09375));
  CHECK(same(m.gt, gt.images));
  CHECK(same(m.ref_raw, ref.images));
  CHECK(m.gt_labels == std::vector<std::int64_t>{3, 7});
  CHECK(m.ref_labels == std::vector<std::int64_t>{1, 7});
  // A bright mixture is clamped at 1 everywhere.
  const data::Mixture bright = data::mix_digits(gt, ref, 1.0, 1.0, 1.0, 1.0, noise);
  for (std::int64_t i = 0; i < 8; ++i) CHECK(bright.input[i] == 1.0f);
  data::Batch small;
  small.images = Tensor<float>::zeros(Shape{1, 1, 2, 2});
  CHECK_THROWS_AS(data::mix_digits(gt, small, 0.5, 0.5, 1, 1, noise), gan::Error);
}

TEST_CASE("rows: a copy of rows [begin, end); out-of-range rows throw") {
  Tensor<float> t = Tensor<float>::zeros(Shape{4, 1, 1, 3});
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = float(i);
  const Tensor<float> r = data::rows(t, 1, 3);
  CHECK(r.shape() == Shape{2, 1, 1, 3});
  CHECK(r[0] == 3.0f);
  CHECK(r[5] == 8.0f);
  t[3] = -1.0f;
  CHECK(r[0] == 3.0f);  // a copy, not a view
  CHECK(data::rows(t, 2, 2).numel() == 0);
  CHECK_THROWS_AS(data::rows(t, 3, 5), gan::Error);
  CHECK_THROWS_AS(data::rows(t, 2, 1), gan::Error);
}

TEST_CASE("MixtureStream: t = a gt, u = min(a gt + b ref + noise, 1) >= t, deterministic for a seed") {
  const data::MnistDataset train = tiny(data::Split::Train);
  REQUIRE(train.size() == 512);
  data::MixtureStream s1(train, 8, 4), s2(train, 8, 4), other(train, 8, 5);
  for (int draw = 0; draw < 3; ++draw) {
    CAPTURE(draw);
    const data::Mixture m = s1.draw({}), twin = s2.draw({}), different = other.draw({});
    REQUIRE(m.input.shape() == Shape{8, 1, 28, 28});
    CHECK(same(m.input, twin.input));
    CHECK(same(m.target, twin.target));
    CHECK(!same(m.input, different.input));
    CHECK(same(m.ref, m.ref_raw));  // plain recipe: the ref channel is the ref
    CHECK(!same(m.gt, m.ref_raw));  // gt and ref are consecutive batches, not the same one
    CHECK(m.gt_labels.size() == 8);
    // One scalar a for the batch: t = a gt with a in [0.2, 1).
    const std::int64_t k = std::max_element(m.gt.data(), m.gt.data() + m.gt.numel()) - m.gt.data();
    const double a = double(m.target[k]) / double(m.gt[k]);
    CHECK(a >= 0.2);
    CHECK(a < 1.0);
    for (std::int64_t i = 0; i < m.input.numel(); ++i) {
      REQUIRE(m.target[i] == doctest::Approx(a * m.gt[i]).epsilon(1e-6));
      REQUIRE(m.input[i] <= 1.0f);
      REQUIRE(m.input[i] >= std::min(m.target[i], 1.0f));
    }
    // gt and ref are train digits with their labels.
    for (std::int64_t i = 0; i < 8; i += 7) {
      const std::int64_t g = find_image(m.gt, i, train), r = find_image(m.ref_raw, i, train);
      REQUIRE(g >= 0);
      REQUIRE(r >= 0);
      CHECK(m.gt_labels[std::size_t(i)] == train.labels()[std::size_t(g)]);
      CHECK(m.ref_labels[std::size_t(i)] == train.labels()[std::size_t(r)]);
    }
  }
}

TEST_CASE("MixtureStream options: fixed target scale, scaled ref, small-data windows") {
  const data::MnistDataset train = tiny(data::Split::Train);
  data::MixtureStream stream(train, 8, 2);
  data::MixtureOptions o;
  o.target_scale = 0.8, o.scaled_ref = true, o.small_data = true;
  for (int draw = 0; draw < 3; ++draw) {
    const data::Mixture m = stream.draw(o);
    for (std::int64_t i = 0; i < m.target.numel(); ++i) REQUIRE(m.target[i] == 0.8f * m.gt[i]);
    const std::int64_t k = std::max_element(m.ref_raw.data(), m.ref_raw.data() + m.ref_raw.numel()) - m.ref_raw.data();
    const double b_ref = double(m.ref[k]) / double(m.ref_raw[k]);
    CHECK(b_ref >= 0.2);
    CHECK(b_ref < 1.0);
    // A window: 8 consecutive train digits starting below min(1000, 512 - 8).
    const std::int64_t start = find_image(m.gt, 0, train);
    REQUIRE(start >= 0);
    CHECK(start < 504);
    for (std::int64_t i = 1; i < 8; ++i) CHECK(same_row(m.gt, i, train.images(), start + i));
  }
}

TEST_CASE("MixtureTestSet: the same fixed mixtures for a seed, gt = the first test digits, refs from the rest") {
  const data::MnistDataset test = tiny(data::Split::Test);
  REQUIRE(test.size() == 128);
  const data::MixtureTestSet a(test, 40, 5), b(test, 40, 5), c(test, 40, 6), capped(test, 1000, 5);
  CHECK(a.size() == 40);
  CHECK(capped.size() == 64);  // at most half the split, so the refs have digits to come from
  const data::Mixture m = a.mixtures(false), twin = b.mixtures(false), other = c.mixtures(false);
  CHECK(same(m.input, twin.input));
  CHECK(same(m.ref_raw, twin.ref_raw));
  CHECK(m.ref_labels == twin.ref_labels);
  CHECK(same(m.gt, other.gt));            // the digits do not depend on the seed
  CHECK(!same(m.ref_raw, other.ref_raw)); // the refs do
  CHECK(!same(m.input, other.input));
  CHECK(same(m.gt, data::rows(test.images(), 0, 40)));
  for (std::int64_t i = 0; i < 40; ++i) {
    CAPTURE(i);
    CHECK(m.gt_labels[std::size_t(i)] == test.labels()[std::size_t(i)]);
    CHECK(!same_row(m.gt, i, m.ref_raw, i));  // the ref is another digit
    bool from_rest = false;
    for (std::int64_t j = 40; j < test.size() && !from_rest; ++j) from_rest = same_row(m.ref_raw, i, test.images(), j);
    CHECK(from_rest);
  }
  // a = 0.5, b = 0.7: t = 0.5 gt and the noise u - 0.5 gt - 0.7 ref lies in [0, 1) where u < 1.
  std::int64_t below_one = 0;
  for (std::int64_t i = 0; i < m.input.numel(); ++i) {
    REQUIRE(m.target[i] == 0.5f * m.gt[i]);
    REQUIRE(m.ref[i] == m.ref_raw[i]);
    if (m.input[i] >= 1.0f) continue;
    ++below_one;
    const double noise = double(m.input[i]) - 0.5 * double(m.gt[i]) - 0.7 * double(m.ref_raw[i]);
    REQUIRE(noise > -1e-6);
    REQUIRE(noise < 1.0 + 1e-6);
  }
  CHECK(below_one > m.input.numel() / 10);
  // A variant's scales change the ref channel and the target, not the draw.
  const data::Mixture v3 = a.mixtures(true, 0.8);
  CHECK(same(v3.input, m.input));
  for (std::int64_t i = 0; i < m.input.numel(); ++i) {
    REQUIRE(v3.ref[i] == float(0.85) * m.ref_raw[i]);
    REQUIRE(v3.target[i] == float(0.8) * m.gt[i]);
  }
}
