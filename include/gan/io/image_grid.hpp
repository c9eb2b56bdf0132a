#pragma once
// Tiling a batch of images into one picture, like torchvision.utils.make_grid/save_image.
//
//   gan::io::save_image_grid("out/epoch_003.png", fake);           // fake: (64, 1, 28, 28) in [-1, 1]
//   gan::io::save_panels("out/val.png", {input, output, target});  // pix2pix: one row per sample
//
// Values map linearly from [lo, hi] to [0, 255], are clamped and rounded; NaN becomes 0.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/tensor.hpp"
#include "gan/io/png.hpp"

namespace gan::io {

struct GridOptions {
  std::int64_t nrow = 8;        // images per row (torchvision's meaning)
  std::int64_t padding = 2;     // pixels between and around images
  std::uint8_t pad_value = 0;   // gray level of the padding
  float lo = -1.0f;             // value shown as 0 (black)
  float hi = 1.0f;              // value shown as 255 (white)
};

namespace detail {
inline std::uint8_t to_byte(float v, float lo, float hi) {
  if (!(v == v)) return 0;  // NaN
  float t = (v - lo) / (hi - lo) * 255.0f;
  return static_cast<std::uint8_t>(std::lround(std::clamp(t, 0.0f, 255.0f)));
}

inline void check_images(const Tensor<float>& t, const char* who) {
  check(t.defined() && t.rank() == 4 && t.dim(0) > 0 && (t.dim(1) == 1 || t.dim(1) == 3) && t.dim(2) > 0 &&
            t.dim(3) > 0,
        who, ": expected a (N, C, H, W) tensor with N > 0 and C = 1 or 3, got ",
        t.defined() ? t.shape().to_string() : std::string("an undefined tensor"));
}

// Draws image n of `t` (C = 1 or 3) with its top-left corner at (y0, x0) of `im`; a gray
// image is repeated into every channel of an RGB canvas.
inline void blit(Image& im, const Tensor<float>& t, std::int64_t n, int y0, int x0, float lo, float hi) {
  const auto c_in = t.dim(1), h = t.dim(2), w = t.dim(3);
  for (int c = 0; c < im.channels; ++c) {
    const std::int64_t src_c = c_in == 1 ? 0 : c;
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        im.at(y0 + int(y), x0 + int(x), c) = to_byte(t.at(n, src_c, y, x), lo, hi);
  }
}
}  // namespace detail

// Tiles (N, C, H, W) into ceil(N / nrow) rows of min(N, nrow) images; C = 1 gives a gray
// image, C = 3 an RGB one.
inline Image make_grid(const Tensor<float>& batch, const GridOptions& o = {}) {
  detail::check_images(batch, "make_grid");
  check(o.nrow > 0 && o.padding >= 0 && o.hi > o.lo, "make_grid: nrow ", o.nrow, ", padding ", o.padding,
        ", range [", o.lo, ", ", o.hi, "]: expected nrow > 0, padding >= 0, hi > lo");
  const std::int64_t n = batch.dim(0), h = batch.dim(2), w = batch.dim(3);
  const std::int64_t cols = std::min(n, o.nrow), rows = (n + cols - 1) / cols;
  const std::int64_t height = rows * (h + o.padding) + o.padding, width = cols * (w + o.padding) + o.padding;
  check(height * width * batch.dim(1) < (std::int64_t(1) << 31), "make_grid: ", batch.shape(),
        " with nrow ", o.nrow, " gives a ", height, "x", width, " image, too large");
  Image im(int(height), int(width), int(batch.dim(1)), o.pad_value);
  for (std::int64_t i = 0; i < n; ++i)
    detail::blit(im, batch, i, int(o.padding + (i / cols) * (h + o.padding)),
                 int(o.padding + (i % cols) * (w + o.padding)), o.lo, o.hi);
  return im;
}

// Side-by-side panels: row i shows sample i of every tensor, left to right (e.g. input |
// output | target). All tensors need the same N, H and W; if any is RGB the picture is RGB.
// o.nrow is ignored; at most `max_rows` samples are drawn.
inline Image make_panels(const std::vector<Tensor<float>>& columns, const GridOptions& o = {},
                         std::int64_t max_rows = 8) {
  check(!columns.empty(), "make_panels: no tensors given");
  check(o.padding >= 0 && o.hi > o.lo && max_rows > 0, "make_panels: padding ", o.padding, ", range [", o.lo,
        ", ", o.hi, "], max_rows ", max_rows, ": expected padding >= 0, hi > lo, max_rows > 0");
  int channels = 1;
  for (const auto& t : columns) {
    detail::check_images(t, "make_panels");
    const auto& s = t.shape();
    const auto& s0 = columns[0].shape();
    check(s[0] == s0[0] && s[2] == s0[2] && s[3] == s0[3], "make_panels: shapes ", s0, " and ", s,
          " differ in N, H or W");
    if (s[1] == 3) channels = 3;
  }
  const std::int64_t n = std::min(columns[0].dim(0), max_rows), h = columns[0].dim(2), w = columns[0].dim(3);
  const std::int64_t k = static_cast<std::int64_t>(columns.size());
  const std::int64_t height = n * (h + o.padding) + o.padding, width = k * (w + o.padding) + o.padding;
  check(height * width * channels < (std::int64_t(1) << 31), "make_panels: ", height, "x", width,
        " image is too large");
  Image im(int(height), int(width), channels, o.pad_value);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < k; ++j)
      detail::blit(im, columns[static_cast<std::size_t>(j)], i, int(o.padding + i * (h + o.padding)),
                   int(o.padding + j * (w + o.padding)), o.lo, o.hi);
  return im;
}

inline void save_image_grid(const std::string& path, const Tensor<float>& batch, const GridOptions& o = {}) {
  write_png(path, make_grid(batch, o));
}

inline void save_panels(const std::string& path, const std::vector<Tensor<float>>& columns,
                        const GridOptions& o = {}, std::int64_t max_rows = 8) {
  write_png(path, make_panels(columns, o, max_rows));
}

}  // namespace gan::io
