// The E4 evaluation (gan/metrics/denoise_quality.hpp): NCC, the classifier's view of the
// outputs, the quality numbers on outputs with known answers, and the chunked eval pass.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/metrics/denoise_quality.hpp"
#include "gan/models/denoise_filter.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
namespace data = gan::data;
namespace metrics = gan::metrics;

namespace {
// Three 28x28 mixtures whose gt and ref are different strokes, with labels.
data::Mixture three_mixtures() {
  data::Batch gt, ref;
  gt.images = Tensor<float>::zeros(Shape{3, 1, 28, 28});
  ref.images = Tensor<float>::zeros(Shape{3, 1, 28, 28});
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t k = 0; k < 28; ++k) {
      gt.images[i * 784 + k * 28 + 10 + i] = 1.0f;  // a vertical stroke
      ref.images[i * 784 + (5 + i) * 28 + k] = 1.0f;  // a horizontal stroke
    }
  gt.labels = {1, 4, 7}, ref.labels = {2, 4, 9};
  gan::Rng rng(11);
  const Tensor<float> noise = gan::rand<float>(gt.images.shape(), 0.0, 1.0, rng);
  return data::mix_digits(gt, ref, 0.5, 0.7, 1.0, 0.5, noise);
}

// Records what it was given; image i gets digit (i + shift) % 10.
struct FakeClassifier {
  Tensor<float> seen;
  std::int64_t shift = 0;
  Var<float> operator()(const Var<float>& x) {
    seen = x.value().clone();
    Tensor<float> logits = Tensor<float>::zeros(Shape{x.value().dim(0), 10});
    for (std::int64_t i = 0; i < x.value().dim(0); ++i) logits[i * 10 + (i + shift) % 10] = 5.0f;
    return Var<float>(logits);
  }
};
}  // namespace

TEST_CASE("ncc: 1 for an image with itself or a scaled copy, -1 for its negative, 0 against a flat image") {
  std::vector<float> x(784), scaled(784), negative(784), flat(784, 0.3f);
  for (int k = 0; k < 784; ++k) x[std::size_t(k)] = float((k * 37) % 11) / 10.0f;
  for (int k = 0; k < 784; ++k) scaled[std::size_t(k)] = 0.5f * x[std::size_t(k)] + 0.1f, negative[std::size_t(k)] = -x[std::size_t(k)];
  CHECK(metrics::ncc(x.data(), x.data(), 784) == doctest::Approx(1.0));
  CHECK(metrics::ncc(x.data(), scaled.data(), 784) == doctest::Approx(1.0));
  CHECK(metrics::ncc(x.data(), negative.data(), 784) == doctest::Approx(-1.0));
  CHECK(metrics::ncc(x.data(), flat.data(), 784) == doctest::Approx(0.0));
}

TEST_CASE("predict_digits: each image scaled to its own maximum, then to [-1, 1]; argmax of the logits") {
  Tensor<float> images = Tensor<float>::zeros(Shape{12, 1, 28, 28});
  for (std::int64_t i = 0; i < 12; ++i) images[i * 784 + 100] = 0.1f * float(i + 1), images[i * 784 + 200] = 0.05f * float(i + 1);
  FakeClassifier fake;
  fake.shift = 3;
  const std::vector<std::int64_t> digits = metrics::predict_digits(fake, images);
  REQUIRE(digits.size() == 12);
  for (std::int64_t i = 0; i < 12; ++i) {
    CAPTURE(i);
    CHECK(digits[std::size_t(i)] == (i + 3) % 10);
    CHECK(fake.seen[i * 784 + 100] == doctest::Approx(1.0));  // the maximum -> 1
    CHECK(fake.seen[i * 784 + 200] == doctest::Approx(0.0));  // half the maximum -> 0
    CHECK(fake.seen[i * 784 + 300] == doctest::Approx(-1.0));  // 0 -> -1
  }
  CHECK(images[100] == doctest::Approx(0.1));  // the input is not changed
}

TEST_CASE("denoise_quality: the target scores perfectly, a copy of the ref is closer to the ref") {
  const data::Mixture m = three_mixtures();
  const metrics::DenoiseQuality perfect = metrics::denoise_quality(m.target, m);
  CHECK(perfect.l1 == 0.0);
  CHECK(std::isinf(perfect.psnr));
  CHECK(perfect.ssim == doctest::Approx(1.0));
  CHECK(perfect.ref_closer == 0.0);
  CHECK(perfect.ncc_gt == doctest::Approx(1.0));
  CHECK(std::abs(perfect.ncc_ref) < 1e-6);  // two strokes crossing at one pixel: uncorrelated
  CHECK(std::isnan(perfect.digit_acc));
  CHECK(std::isnan(perfect.ref_digit));

  Tensor<float> ref_copy = m.ref_raw.clone();
  for (float& p : ref_copy) p *= 0.5f;
  const metrics::DenoiseQuality failure = metrics::denoise_quality(ref_copy, m);
  CHECK(failure.ref_closer == 1.0);
  CHECK(failure.ncc_ref == doctest::Approx(1.0));
  double l1 = 0;
  for (std::int64_t i = 0; i < m.target.numel(); ++i) l1 += std::abs(double(ref_copy[i]) - double(m.target[i]));
  CHECK(failure.l1 == doctest::Approx(l1 / double(m.target.numel())));
  CHECK(failure.psnr == doctest::Approx(metrics::psnr(ref_copy, m.target)));

  CHECK(metrics::DenoiseQuality::names().size() == perfect.values().size());
  CHECK(perfect.values()[0] == perfect.l1);
  CHECK(failure.values()[3] == failure.ref_closer);
  CHECK_THROWS_AS(metrics::denoise_quality(data::rows(m.target, 0, 2), m), gan::Error);
}

TEST_CASE("denoise_quality: the digit metrics agree with the classifier's predictions") {
  const data::Mixture m = three_mixtures();
  gan::models::MnistClassifier<float> net(gan::models::MnistClassifierOptions{4, 8});
  net.eval();
  const std::vector<std::int64_t> pred = metrics::predict_digits(net, m.target);
  double right = 0, as_ref = 0;
  for (std::size_t i = 0; i < 3; ++i) right += pred[i] == m.gt_labels[i];
  for (std::size_t i : {std::size_t(0), std::size_t(2)}) as_ref += pred[i] == m.ref_labels[i];  // image 1: same digit
  const metrics::DenoiseQuality q = metrics::denoise_quality(m.target, m, &net);
  CHECK(q.digit_acc == doctest::Approx(right / 3));
  CHECK(q.ref_digit == doctest::Approx(as_ref / 2));
  CHECK(q.l1 == 0.0);
}

TEST_CASE("filter_outputs: chunks give the one-pass eval-mode outputs; the filter's mode is restored") {
  gan::Rng rng(5);
  gan::models::DenoiseFilter<float> G(gan::models::DenoiseFilterOptions{4, 1, 1});
  gan::models::tf_glorot_init(G, rng);
  const data::Mixture m = three_mixtures();
  {  // move the batch-norm running statistics away from their initial values
    Var<float> warm = G(Var<float>(m.input), Var<float>(m.ref));
    (void)warm;
  }
  const Tensor<float> chunked = metrics::filter_outputs(G, m, 2);
  CHECK(G.is_training());
  G.eval();
  const Tensor<float> whole = G(Var<float>(m.input), Var<float>(m.ref)).value();
  const Tensor<float> again = metrics::filter_outputs(G, m);
  CHECK(!G.is_training());
  REQUIRE(chunked.shape() == whole.shape());
  for (std::int64_t i = 0; i < whole.numel(); ++i) {
    REQUIRE(chunked[i] == doctest::Approx(whole[i]).epsilon(1e-5));
    REQUIRE(again[i] == whole[i]);
  }
  CHECK_THROWS_AS(metrics::filter_outputs(G, m, 0), gan::Error);
}
