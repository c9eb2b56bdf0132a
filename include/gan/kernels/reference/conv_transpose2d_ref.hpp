#pragma once
// Naive transposed convolution from its scatter definition: every input pixel adds a
// weighted copy of its filter into the output,
//
//   y[n, oc, ih*s - p + kh*d, iw*s - p + kw*d] += x[n, ic, ih, iw] * w[ic, oc, kh, kw]
//
// (taps that land outside the output are dropped), then y += b[oc]. The fast kernels build
// this from conv2d pieces; this oracle is written independently of them. `s.transposed`
// must be true; x: (N, IC, H, W), w: (IC, OC, KH, KW), y: (N, OC, s.out_h(), s.out_w()).

#include <cstdint>

#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/reference/conv2d_ref.hpp"  // detail::fill_bias, detail::add_bias_grad

namespace gan {
namespace kernels {
namespace reference {

namespace detail {
// Visits every (input pixel, output channel, tap) whose target lies inside the output,
// with flat indices into x, w and y.
template <class Visit>
void for_each_transposed_tap(const ConvShape& s, Visit&& visit) {
  const std::int64_t oh_n = s.out_h(), ow_n = s.out_w();
  for (std::int64_t n = 0; n < s.n; ++n)
    for (std::int64_t ic = 0; ic < s.in_c; ++ic)
      for (std::int64_t ih = 0; ih < s.in_h; ++ih)
        for (std::int64_t iw = 0; iw < s.in_w; ++iw) {
          const std::int64_t xi = ((n * s.in_c + ic) * s.in_h + ih) * s.in_w + iw;
          for (std::int64_t oc = 0; oc < s.out_c; ++oc)
            for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
              for (std::int64_t kw = 0; kw < s.kernel_w; ++kw) {
                const std::int64_t oh = ih * s.stride_h - s.pad_h + kh * s.dilation_h;
                const std::int64_t ow = iw * s.stride_w - s.pad_w + kw * s.dilation_w;
                if (oh < 0 || oh >= oh_n || ow < 0 || ow >= ow_n) continue;
                const std::int64_t yi = ((n * s.out_c + oc) * oh_n + oh) * ow_n + ow;
                const std::int64_t wi = ((ic * s.out_c + oc) * s.kernel_h + kh) * s.kernel_w + kw;
                visit(yi, xi, wi);
              }
        }
}
}  // namespace detail

// y = conv_transpose(x, w) + b; y is overwritten. b may be null.
template <class T>
void conv_transpose2d_forward(T* y, const T* x, const T* w, const T* b, const ConvShape& s) {
  detail::fill_bias(y, b, s);
  detail::for_each_transposed_tap(s, [&](std::int64_t yi, std::int64_t xi, std::int64_t wi) { y[yi] += x[xi] * w[wi]; });
}

// dx += dL/dx given dy = dL/dy.
template <class T>
void conv_transpose2d_backward_data(T* dx, const T* dy, const T* w, const ConvShape& s) {
  detail::for_each_transposed_tap(s, [&](std::int64_t yi, std::int64_t xi, std::int64_t wi) { dx[xi] += dy[yi] * w[wi]; });
}

// dw += dL/dw, db += dL/db (db may be null).
template <class T>
void conv_transpose2d_backward_weight(T* dw, T* db, const T* dy, const T* x, const ConvShape& s) {
  detail::for_each_transposed_tap(s, [&](std::int64_t yi, std::int64_t xi, std::int64_t wi) { dw[wi] += dy[yi] * x[xi]; });
  if (db) detail::add_bias_grad(db, dy, s);
}

}  // namespace reference
}  // namespace kernels
}  // namespace gan
