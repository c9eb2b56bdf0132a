#pragma once
// Full-reference image quality: PSNR and SSIM of a batch of images against targets.
//
//   auto q = gan::metrics::psnr_per_image(output, target);        // (N, C, H, W), data range 1
//   double s = gan::metrics::ssim(output, target);                // mean SSIM over the batch
//
// PSNR = 10 log10(L^2 / MSE), L the data range (1 for [0, 1] pixels); identical images give
// +inf. SSIM is Wang et al. (2004) with their constants K1 = 0.01, K2 = 0.03 and an 11x11
// Gaussian window (sigma 1.5), computed at every position where the window fits ("valid")
// and averaged; per channel, then averaged over channels. That equals
// skimage.metrics.structural_similarity(x, y, data_range=L, gaussian_weights=True,
// sigma=1.5, use_sample_covariance=False) and MATLAB's ssim_index without downsampling.
// Images smaller than the window use a window truncated to the image (radius shrinks).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/tensor.hpp"

namespace gan {
namespace metrics {

namespace detail {
template <class T>
void check_pair(const Tensor<T>& x, const Tensor<T>& y, const char* who) {
  check(x.defined() && y.defined() && x.rank() == 4 && x.shape() == y.shape() && x.numel() > 0, who,
        ": expected two equal non-empty (N, C, H, W) shapes, got ", x.defined() ? x.shape().to_string() : "undefined",
        " and ", y.defined() ? y.shape().to_string() : "undefined");
}
}  // namespace detail

// Mean squared error of each image (over C, H, W).
template <class T>
std::vector<double> mse_per_image(const Tensor<T>& x, const Tensor<T>& y) {
  detail::check_pair(x, y, "mse_per_image");
  const std::int64_t n = x.dim(0), per = x.numel() / n;
  std::vector<double> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (std::int64_t k = 0; k < per; ++k) {
      const double d = double(x.data()[i * per + k]) - double(y.data()[i * per + k]);
      s += d * d;
    }
    out[static_cast<std::size_t>(i)] = s / double(per);
  }
  return out;
}

// PSNR in dB of each image; +inf where the image equals its target.
template <class T>
std::vector<double> psnr_per_image(const Tensor<T>& x, const Tensor<T>& y, double data_range = 1.0) {
  check(data_range > 0, "psnr_per_image: data_range must be positive, got ", data_range);
  std::vector<double> out = mse_per_image(x, y);
  for (double& m : out)
    m = m == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(data_range * data_range / m);
  return out;
}

struct SsimOptions {
  double data_range = 1.0;
  int window = 11;     // odd; clipped to the image size
  double sigma = 1.5;  // of the Gaussian window
  double k1 = 0.01, k2 = 0.03;
};

namespace detail {
// Normalised 1-D Gaussian of `size` taps (odd).
inline std::vector<double> gaussian_taps(int size, double sigma) {
  std::vector<double> g(static_cast<std::size_t>(size));
  const int r = size / 2;
  double s = 0;
  for (int i = 0; i < size; ++i) s += g[std::size_t(i)] = std::exp(-0.5 * double((i - r) * (i - r)) / (sigma * sigma));
  for (double& v : g) v /= s;
  return g;
}

// Valid separable filtering of an h x w plane with `g` (size k): (h-k+1) x (w-k+1).
inline std::vector<double> filter_valid(const std::vector<double>& a, int h, int w, const std::vector<double>& g) {
  const int k = int(g.size()), oh = h - k + 1, ow = w - k + 1;
  std::vector<double> rows(std::size_t(h) * std::size_t(ow)), out(std::size_t(oh) * std::size_t(ow));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < ow; ++x) {
      double s = 0;
      for (int t = 0; t < k; ++t) s += g[std::size_t(t)] * a[std::size_t(y * w + x + t)];
      rows[std::size_t(y * ow + x)] = s;
    }
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      double s = 0;
      for (int t = 0; t < k; ++t) s += g[std::size_t(t)] * rows[std::size_t((y + t) * ow + x)];
      out[std::size_t(y * ow + x)] = s;
    }
  return out;
}

// Mean SSIM of one h x w plane pair.
template <class T>
double ssim_plane(const T* px, const T* py, int h, int w, const SsimOptions& o) {
  const int k = std::min({o.window, h - (1 - h % 2), w - (1 - w % 2)});  // odd and fits
  const std::vector<double> g = gaussian_taps(k, o.sigma);
  const std::size_t n = std::size_t(h) * std::size_t(w);
  std::vector<double> x(n), y(n), xx(n), yy(n), xy(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = double(px[i]), y[i] = double(py[i]);
    xx[i] = x[i] * x[i], yy[i] = y[i] * y[i], xy[i] = x[i] * y[i];
  }
  const auto mx = filter_valid(x, h, w, g), my = filter_valid(y, h, w, g);
  const auto sxx = filter_valid(xx, h, w, g), syy = filter_valid(yy, h, w, g), sxy = filter_valid(xy, h, w, g);
  const double c1 = (o.k1 * o.data_range) * (o.k1 * o.data_range), c2 = (o.k2 * o.data_range) * (o.k2 * o.data_range);
  double total = 0;
  for (std::size_t i = 0; i < mx.size(); ++i) {
    const double vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cxy = sxy[i] - mx[i] * my[i];
    total += ((2 * mx[i] * my[i] + c1) * (2 * cxy + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
  }
  return total / double(mx.size());
}
}  // namespace detail

// Mean SSIM of each image (averaged over its channels).
template <class T>
std::vector<double> ssim_per_image(const Tensor<T>& x, const Tensor<T>& y, const SsimOptions& o = {}) {
  detail::check_pair(x, y, "ssim_per_image");
  check(o.data_range > 0 && o.window > 0 && o.window % 2 == 1 && o.sigma > 0, "ssim_per_image: data_range ",
        o.data_range, ", window ", o.window, ", sigma ", o.sigma, ": expected positive values and an odd window");
  const std::int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  std::vector<double> out(static_cast<std::size_t>(n), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const std::int64_t off = (i * c + ch) * h * w;
      out[std::size_t(i)] += detail::ssim_plane(x.data() + off, y.data() + off, int(h), int(w), o) / double(c);
    }
  return out;
}

namespace detail {
inline double image_quality_mean(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += e;
  return v.empty() ? 0.0 : s / double(v.size());
}
}  // namespace detail

// Batch means of the per-image values.
template <class T>
double psnr(const Tensor<T>& x, const Tensor<T>& y, double data_range = 1.0) {
  return detail::image_quality_mean(psnr_per_image(x, y, data_range));
}
template <class T>
double ssim(const Tensor<T>& x, const Tensor<T>& y, const SsimOptions& o = {}) {
  return detail::image_quality_mean(ssim_per_image(x, y, o));
}

}  // namespace metrics
}  // namespace gan
