#pragma once
// Differentiable spatial resampling of (N, C, H, W) maps, matching
// torch.nn.functional.interpolate with align_corners=False: nearest, bilinear and bicubic.
// The tables and loops are in kernels/resample.hpp.

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/core/parallel.hpp"
#include "gan/kernels/resample.hpp"

namespace gan {
namespace detail {

template <class T>
Var<T> resample(const char* op, const Var<T>& x, std::int64_t out_h, std::int64_t out_w, InterpAxis ah,
                InterpAxis aw) {
  const std::int64_t n = x.dim(0), c = x.dim(1), ih = x.dim(2), iw = x.dim(3);
  Tensor<T> y = Tensor<T>::empty(Shape{n, c, out_h, out_w});
  interp_forward(y.data(), x.value().data(), n * c, ih, iw, ah, aw);
  return make_result(std::move(y), op, {x},
                     [n, c, ih, iw, ah = std::move(ah), aw = std::move(aw)](const Tensor<T>& dy, GradSlots<T>& g) {
                       interp_backward(g[0].data(), dy.data(), n * c, ih, iw, ah, aw);
                     });
}

template <class T>
void check_resample(const char* op, const Var<T>& x, std::int64_t out_h, std::int64_t out_w) {
  check(x.defined() && x.shape().rank() == 4, op, ": input must be (N, C, H, W), got ",
        x.defined() ? x.shape().to_string() : std::string("undefined"));
  check(x.dim(2) > 0 && x.dim(3) > 0, op, ": input ", x.shape(), " has an empty spatial extent");
  check(out_h > 0 && out_w > 0, op, ": output size ", out_h, "x", out_w, " must be positive (input ", x.shape(),
        ")");
}

}  // namespace detail

// Repeats each pixel scale x scale times: (N, C, H, W) -> (N, C, H*scale, W*scale).
template <class T>
Var<T> upsample_nearest(const Var<T>& x, std::int64_t scale) {
  check(scale >= 1, "upsample_nearest: scale must be >= 1, got ", scale);
  detail::check_resample("upsample_nearest", x, 1, 1);
  const std::int64_t oh = x.dim(2) * scale, ow = x.dim(3) * scale;
  return detail::resample("upsample_nearest", x, oh, ow, detail::nearest_axis(x.dim(2), oh, scale),
                          detail::nearest_axis(x.dim(3), ow, scale));
}

// Nearest to an explicit output size (F.interpolate(size=..., mode="nearest")).
template <class T>
Var<T> upsample_nearest(const Var<T>& x, std::int64_t out_h, std::int64_t out_w) {
  detail::check_resample("upsample_nearest", x, out_h, out_w);
  return detail::resample("upsample_nearest", x, out_h, out_w, detail::nearest_axis(x.dim(2), out_h, 0),
                          detail::nearest_axis(x.dim(3), out_w, 0));
}

// Bilinear to (out_h, out_w), align_corners=False; also downsamples (without antialias).
template <class T>
Var<T> upsample_bilinear(const Var<T>& x, std::int64_t out_h, std::int64_t out_w) {
  detail::check_resample("upsample_bilinear", x, out_h, out_w);
  return detail::resample("upsample_bilinear", x, out_h, out_w, detail::linear_axis(x.dim(2), out_h),
                          detail::linear_axis(x.dim(3), out_w));
}

// Bicubic to (out_h, out_w), align_corners=False, A = -0.75. Output may overshoot the
// input range (no clamping, as in PyTorch).
template <class T>
Var<T> upsample_bicubic(const Var<T>& x, std::int64_t out_h, std::int64_t out_w) {
  detail::check_resample("upsample_bicubic", x, out_h, out_w);
  return detail::resample("upsample_bicubic", x, out_h, out_w, detail::cubic_axis(x.dim(2), out_h),
                          detail::cubic_axis(x.dim(3), out_w));
}

}  // namespace gan
