// PSNR and SSIM (gan/metrics/image_quality.hpp) against closed-form values and numbers
// from a numpy/scipy reference (scripts/e4_ssim_reference.py, which also checks that its
// direct computation equals the skimage recipe).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <gan/metrics/image_quality.hpp>

using gan::Shape;
using gan::Tensor;
namespace metrics = gan::metrics;

namespace {
// The images of scripts/e4_ssim_reference.py, as (1, 1, h, w) float tensors.
void reference_images(int h, int w, Tensor<float>& x, Tensor<float>& y) {
  x = Tensor<float>::zeros(Shape{1, 1, h, w});
  y = Tensor<float>::zeros(Shape{1, 1, h, w});
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j) {
      const double xv = 0.5 + 0.4 * std::sin(0.7 * i + 0.3 * j) * std::cos(0.2 * i - 0.5 * j);
      const double yv = 0.9 * xv + 0.05 + 0.1 * std::sin(1.3 * i) * std::cos(0.9 * j);
      x.data()[i * w + j] = float(xv);
      y.data()[i * w + j] = float(std::min(1.0, std::max(0.0, yv)));
    }
}
Tensor<float> filled(const Shape& s, float v) {
  Tensor<float> t = Tensor<float>::zeros(s);
  t.fill(v);
  return t;
}
}  // namespace

TEST_CASE("psnr: identical images are +inf, a constant offset has its closed form") {
  Tensor<float> x, y;
  reference_images(28, 28, x, y);
  CHECK(std::isinf(metrics::psnr(x, x)));
  // |x - (x + d)| = d everywhere: MSE = d^2, PSNR = 10 log10(L^2 / d^2) = -20 log10(d / L).
  Tensor<float> shifted = x.clone();
  for (std::int64_t i = 0; i < shifted.numel(); ++i) shifted.data()[i] += 0.125f;  // exact in float
  CHECK(metrics::psnr(x, shifted) == doctest::Approx(-20 * std::log10(0.125)).epsilon(1e-6));
  CHECK(metrics::psnr(x, shifted, 255.0) == doctest::Approx(20 * std::log10(255.0 / 0.125)).epsilon(1e-6));
  // 0 vs 0.5 everywhere: 6.0206 dB.
  CHECK(metrics::psnr(filled(Shape{2, 1, 5, 5}, 0.f), filled(Shape{2, 1, 5, 5}, 0.5f)) ==
        doctest::Approx(10 * std::log10(4.0)));
  CHECK(metrics::psnr(x, y) == doctest::Approx(25.396941561481).epsilon(1e-6));
}

TEST_CASE("psnr_per_image: one value per image, the batch mean averages them") {
  Tensor<float> a = filled(Shape{2, 1, 4, 4}, 0.f), b = filled(Shape{2, 1, 4, 4}, 0.f);
  for (int k = 0; k < 16; ++k) b.data()[k] = 0.1f, b.data()[16 + k] = 0.01f;
  auto v = metrics::psnr_per_image(a, b);
  REQUIRE(v.size() == 2);
  CHECK(v[0] == doctest::Approx(20.0).epsilon(1e-5));
  CHECK(v[1] == doctest::Approx(40.0).epsilon(1e-5));
  CHECK(metrics::psnr(a, b) == doctest::Approx(30.0).epsilon(1e-5));
}

TEST_CASE("ssim: 1 for identical images, the numpy/scipy reference values otherwise") {
  Tensor<float> x, y;
  reference_images(28, 28, x, y);
  CHECK(metrics::ssim(x, x) == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(metrics::ssim(x, y) == doctest::Approx(0.956322912471).epsilon(1e-6));
  CHECK(metrics::ssim(y, x) == doctest::Approx(0.956322912471).epsilon(1e-6));  // symmetric
  reference_images(13, 17, x, y);
  CHECK(metrics::ssim(x, y) == doctest::Approx(0.959238376365).epsilon(1e-6));
}

TEST_CASE("ssim: constant images reduce to the luminance term") {
  // Variances are 0, so SSIM = (2 a b + C1) / (a^2 + b^2 + C1), C1 = (0.01 L)^2.
  const double a = 0.2, b = 0.6, c1 = 1e-4;
  const double expected = (2 * a * b + c1) / (a * a + b * b + c1);
  CHECK(metrics::ssim(filled(Shape{3, 2, 16, 16}, float(a)), filled(Shape{3, 2, 16, 16}, float(b))) ==
        doctest::Approx(expected).epsilon(1e-6));
  // Images smaller than the window use a smaller window instead of failing.
  CHECK(metrics::ssim(filled(Shape{1, 1, 6, 6}, float(a)), filled(Shape{1, 1, 6, 6}, float(b))) ==
        doctest::Approx(expected).epsilon(1e-6));
}

TEST_CASE("image quality: mismatched shapes and bad options throw") {
  Tensor<float> a = Tensor<float>::zeros(Shape{1, 1, 8, 8}), b = Tensor<float>::zeros(Shape{1, 1, 8, 9});
  CHECK_THROWS_WITH_AS(metrics::psnr(a, b), doctest::Contains("(1, 1, 8, 9)"), gan::Error);
  CHECK_THROWS_AS(metrics::ssim(a, b), gan::Error);
  metrics::SsimOptions even;
  even.window = 10;
  CHECK_THROWS_AS(metrics::ssim(a, a, even), gan::Error);
  CHECK_THROWS_AS(metrics::psnr(a, a, 0.0), gan::Error);
}
