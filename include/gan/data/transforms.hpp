#pragma once
// Image transforms for datasets: pixel scaling, resize, crop, flip, and the pix2pix
// "random jitter" (resize to load_size, random crop to crop_size, random horizontal flip)
// applied with one draw to every image of a pair, so input and target stay aligned.
//
//   gan::data::JitterOptions j{/*load*/ 286, /*crop*/ 256, /*flip*/ true};
//   gan::data::JitterDraw d = gan::data::draw_jitter(j, rng);
//   Tensor<float> a = gan::data::apply_jitter(input, j, d), b = gan::data::apply_jitter(target, j, d);
//
// Images are (C, H, W) float tensors. Resizing matches torch.nn.functional.interpolate with
// align_corners=False (kernels/resample.hpp); bicubic results are clamped to the input's
// value range, as PIL clamps to 0..255.

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gan/core/error.hpp"
#include "gan/core/parallel.hpp"
#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/resample.hpp"

namespace gan::data {

// How bytes 0..255 map to floats: [0, 1] (v / 255) or [-1, 1] (v / 127.5 - 1, the range of
// a tanh generator, hence the default).
enum class PixelRange { ZeroOne, MinusOneOne };

// Converts u8 pixels to floats in `range`. One correctly rounded division per value, so 0
// and 255 map exactly to the ends of the range and 127.5 would map to 0.
inline void pixels_to_float(float* dst, const std::uint8_t* src, std::int64_t n, PixelRange range) {
  if (range == PixelRange::ZeroOne)
    parallel_for(n, 4, [&](std::int64_t i) { dst[i] = static_cast<float>(src[i]) / 255.0f; });
  else
    parallel_for(n, 4, [&](std::int64_t i) { dst[i] = static_cast<float>(2 * src[i] - 255) / 255.0f; });
}

enum class Interpolation { Nearest, Bilinear, Bicubic };

namespace detail {
inline void check_image(const Tensor<float>& img, const char* who) {
  check(img.defined() && img.rank() == 3 && img.numel() > 0, who, ": expected a non-empty (C, H, W) image, got ",
        img.defined() ? img.shape().to_string() : std::string("an undefined tensor"));
}
}  // namespace detail

// (C, H, W) -> (C, h, w).
inline Tensor<float> resize(const Tensor<float>& img, std::int64_t h, std::int64_t w,
                            Interpolation mode = Interpolation::Bicubic) {
  detail::check_image(img, "resize");
  check(h > 0 && w > 0, "resize: target size ", h, "x", w, ", expected positive");
  const std::int64_t c = img.dim(0), ih = img.dim(1), iw = img.dim(2);
  auto axis = [mode](std::int64_t in, std::int64_t out) {
    switch (mode) {
      case Interpolation::Nearest: return gan::detail::nearest_axis(in, out, 0);
      case Interpolation::Bilinear: return gan::detail::linear_axis(in, out);
      default: return gan::detail::cubic_axis(in, out);
    }
  };
  Tensor<float> out = Tensor<float>::empty(Shape{c, h, w});
  gan::detail::interp_forward(out.data(), img.data(), c, ih, iw, axis(ih, h), axis(iw, w));
  if (mode == Interpolation::Bicubic) {
    const auto [lo, hi] = std::minmax_element(img.data(), img.data() + img.numel());
    const float a = *lo, b = *hi;
    for (float& v : out) v = std::min(std::max(v, a), b);
  }
  return out;
}

// The h x w window of (C, H, W) whose top-left corner is (top, left).
inline Tensor<float> crop(const Tensor<float>& img, std::int64_t top, std::int64_t left, std::int64_t h,
                          std::int64_t w) {
  detail::check_image(img, "crop");
  const std::int64_t c = img.dim(0), ih = img.dim(1), iw = img.dim(2);
  check(h > 0 && w > 0 && top >= 0 && left >= 0 && top + h <= ih && left + w <= iw, "crop: window ", h, "x", w,
        " at (", top, ", ", left, ") does not fit a ", ih, "x", iw, " image");
  Tensor<float> out = Tensor<float>::empty(Shape{c, h, w});
  for (std::int64_t ch = 0; ch < c; ++ch)
    for (std::int64_t y = 0; y < h; ++y)
      std::memcpy(out.data() + (ch * h + y) * w, img.data() + (ch * ih + top + y) * iw + left,
                  static_cast<std::size_t>(w) * sizeof(float));
  return out;
}

// Mirror left-right.
inline Tensor<float> hflip(const Tensor<float>& img) {
  detail::check_image(img, "hflip");
  Tensor<float> out = img.clone();
  const std::int64_t rows = img.dim(0) * img.dim(1), w = img.dim(2);
  for (std::int64_t r = 0; r < rows; ++r) std::reverse(out.data() + r * w, out.data() + (r + 1) * w);
  return out;
}

// pix2pix jitter. load_size 0 keeps the size; crop_size 0 keeps the (loaded) size.
struct JitterOptions {
  std::int64_t load_size = 0;
  std::int64_t crop_size = 0;
  bool flip = true;
  Interpolation interpolation = Interpolation::Bicubic;
};

// One random draw: where to crop (as a fraction of the free range, so it does not depend
// on the image size) and whether to flip. Shared by both images of a pair.
struct JitterDraw {
  double top = 0.5, left = 0.5;  // 0.5, 0.5, no flip: the deterministic centre crop for testing
  bool flip = false;
};

inline JitterDraw draw_jitter(const JitterOptions& o, Rng& rng) {
  JitterDraw d;
  d.top = rng.uniform();
  d.left = rng.uniform();
  d.flip = o.flip && rng.uniform() < 0.5;
  return d;
}

inline Tensor<float> apply_jitter(const Tensor<float>& img, const JitterOptions& o, const JitterDraw& d) {
  detail::check_image(img, "apply_jitter");
  Tensor<float> out = o.load_size > 0 ? resize(img, o.load_size, o.load_size, o.interpolation) : img;
  if (o.crop_size > 0) {
    const std::int64_t free_h = out.dim(1) - o.crop_size, free_w = out.dim(2) - o.crop_size;
    check(free_h >= 0 && free_w >= 0, "apply_jitter: crop_size ", o.crop_size, " is larger than the ", out.dim(1), "x",
          out.dim(2), " image");
    const auto top = std::min(free_h, static_cast<std::int64_t>(d.top * double(free_h + 1)));
    const auto left = std::min(free_w, static_cast<std::int64_t>(d.left * double(free_w + 1)));
    out = crop(out, top, left, o.crop_size, o.crop_size);
  }
  return d.flip ? hflip(out) : out;
}

}  // namespace gan::data
