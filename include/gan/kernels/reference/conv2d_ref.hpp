#pragma once
// Naive 2-D convolution straight from the definition: the oracle the fast kernels in
// kernels/conv2d.hpp are tested against. Written for obviousness, not speed; it shares no
// code with the fast path (no im2col, no GEMM), so a bug there cannot hide here.
//
//   y[n, oc, oh, ow] = b[oc] + sum_{ic, kh, kw} x[n, ic, oh*s - p + kh*d, ow*s - p + kw*d] * w[oc, ic, kh, kw]
//
// with x read as 0 outside the image (zero padding). Shapes as in conv2d.hpp.

#include <cstdint>

#include "gan/kernels/conv_geometry.hpp"

namespace gan {
namespace kernels {
namespace reference {

namespace detail {
// Visits every (image, filter, output pixel, tap) that lands inside the input, with flat
// indices into x (N, IC, H, W), w (OC, IC, KH, KW) and y (N, OC, OH, OW).
template <class Visit>
void for_each_conv_tap(const ConvShape& s, Visit&& visit) {
  const std::int64_t oh_n = s.out_h(), ow_n = s.out_w();
  for (std::int64_t n = 0; n < s.n; ++n)
    for (std::int64_t oc = 0; oc < s.out_c; ++oc)
      for (std::int64_t oh = 0; oh < oh_n; ++oh)
        for (std::int64_t ow = 0; ow < ow_n; ++ow) {
          const std::int64_t yi = ((n * s.out_c + oc) * oh_n + oh) * ow_n + ow;
          for (std::int64_t ic = 0; ic < s.in_c; ++ic)
            for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
              for (std::int64_t kw = 0; kw < s.kernel_w; ++kw) {
                const std::int64_t ih = oh * s.stride_h - s.pad_h + kh * s.dilation_h;
                const std::int64_t iw = ow * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w) continue;
                const std::int64_t xi = ((n * s.in_c + ic) * s.in_h + ih) * s.in_w + iw;
                const std::int64_t wi = ((oc * s.in_c + ic) * s.kernel_h + kh) * s.kernel_w + kw;
                visit(yi, xi, wi);
              }
        }
}

// y[n, oc, :, :] = b[oc] (0 when b is null) over the (N, OC, OH, OW) output of s; also
// used by the transposed reference, whose output has the same layout.
template <class T>
void fill_bias(T* y, const T* b, const ConvShape& s) {
  const std::int64_t plane = s.out_h() * s.out_w();
  for (std::int64_t n = 0; n < s.n; ++n)
    for (std::int64_t oc = 0; oc < s.out_c; ++oc)
      for (std::int64_t i = 0; i < plane; ++i) y[(n * s.out_c + oc) * plane + i] = b ? b[oc] : T(0);
}

// db[oc] += the sum of dy[n, oc, :, :] over images and output pixels.
template <class T>
void add_bias_grad(T* db, const T* dy, const ConvShape& s) {
  const std::int64_t plane = s.out_h() * s.out_w();
  for (std::int64_t n = 0; n < s.n; ++n)
    for (std::int64_t oc = 0; oc < s.out_c; ++oc)
      for (std::int64_t i = 0; i < plane; ++i) db[oc] += dy[(n * s.out_c + oc) * plane + i];
}
}  // namespace detail

// y = conv(x, w) + b; y is overwritten. b may be null.
template <class T>
void conv2d_forward(T* y, const T* x, const T* w, const T* b, const ConvShape& s) {
  detail::fill_bias(y, b, s);
  detail::for_each_conv_tap(s, [&](std::int64_t yi, std::int64_t xi, std::int64_t wi) { y[yi] += x[xi] * w[wi]; });
}

// dx += dL/dx given dy = dL/dy.
template <class T>
void conv2d_backward_data(T* dx, const T* dy, const T* w, const ConvShape& s) {
  detail::for_each_conv_tap(s, [&](std::int64_t yi, std::int64_t xi, std::int64_t wi) { dx[xi] += dy[yi] * w[wi]; });
}

// dw += dL/dw, db += dL/db (db may be null).
template <class T>
void conv2d_backward_weight(T* dw, T* db, const T* dy, const T* x, const ConvShape& s) {
  detail::for_each_conv_tap(s, [&](std::int64_t yi, std::int64_t xi, std::int64_t wi) { dw[wi] += dy[yi] * x[xi]; });
  if (db) detail::add_bias_grad(db, dy, s);
}

}  // namespace reference
}  // namespace kernels
}  // namespace gan
