#pragma once
// im2col / col2im: the data movement that turns a convolution of one image into a GEMM.
// Row r = (c*KH + kh)*KW + kw of the column matrix holds, for every output pixel
// (oh, ow), the input value under tap (kh, kw) of channel c, or 0 in the padding:
//
//   col[r, oh*OW + ow] = x[c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw]
//
// so y (OC, OH*OW) = w (OC, C*KH*KW) * col. col2im is the adjoint (scatter-add), used for
// the data gradient. The output extent (oh, ow) is passed in because transposed convs run
// these with an output extent that output_padding can make differ from s.out_h().

#include <algorithm>
#include <cstdint>

#include "gan/kernels/conv_geometry.hpp"

namespace gan {
namespace kernels {

namespace detail {
struct Range {
  std::int64_t lo, hi;  // [lo, hi)
};
// Output positions o in [0, out) whose input index o*stride - pad + offset is in [0, in):
// computing the bounds once keeps the padding test out of the inner loop.
inline Range valid_outputs(std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t pad,
                           std::int64_t offset) {
  const std::int64_t first = pad - offset;  // o*stride >= first
  std::int64_t lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const std::int64_t last = in - 1 + pad - offset;  // o*stride <= last
  std::int64_t hi = last < 0 ? 0 : last / stride + 1;
  lo = std::min(lo, out);
  hi = std::max(lo, std::min(hi, out));
  return {lo, hi};
}
}  // namespace detail

// x: (C, H, W) = one image of s (C = s.in_c); col: (C*KH*KW, oh*ow), overwritten.
template <class T>
void im2col(T* col, const T* x, const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  const std::int64_t plane = oh * ow;
  for (std::int64_t c = 0; c < s.in_c; ++c)
    for (std::int64_t kh = 0; kh < s.kernel_h; ++kh) {
      const detail::Range rows = detail::valid_outputs(s.in_h, oh, s.stride_h, s.pad_h, kh * s.dilation_h);
      for (std::int64_t kw = 0; kw < s.kernel_w; ++kw) {
        const detail::Range cols = detail::valid_outputs(s.in_w, ow, s.stride_w, s.pad_w, kw * s.dilation_w);
        T* dst = col + ((c * s.kernel_h + kh) * s.kernel_w + kw) * plane;
        std::fill(dst, dst + rows.lo * ow, T(0));
        std::fill(dst + rows.hi * ow, dst + plane, T(0));
        for (std::int64_t r = rows.lo; r < rows.hi; ++r) {
          T* d = dst + r * ow;
          std::fill(d, d + cols.lo, T(0));
          std::fill(d + cols.hi, d + ow, T(0));
          if (cols.hi == cols.lo) continue;  // no pointer into x may be formed then
          const std::int64_t ih = r * s.stride_h - s.pad_h + kh * s.dilation_h;
          const T* src = x + (c * s.in_h + ih) * s.in_w + (cols.lo * s.stride_w - s.pad_w + kw * s.dilation_w);
          if (s.stride_w == 1) {
            std::copy(src, src + (cols.hi - cols.lo), d + cols.lo);
          } else {
            for (std::int64_t q = cols.lo; q < cols.hi; ++q) d[q] = src[(q - cols.lo) * s.stride_w];
          }
        }
      }
    }
}

template <class T>
void im2col(T* col, const T* x, const ConvShape& s) {
  im2col(col, x, s, s.out_h(), s.out_w());
}

// The adjoint of im2col: x (C, H, W) += scatter of col (C*KH*KW, oh*ow). Accumulates.
template <class T>
void col2im(T* x, const T* col, const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  const std::int64_t plane = oh * ow;
  for (std::int64_t c = 0; c < s.in_c; ++c)
    for (std::int64_t kh = 0; kh < s.kernel_h; ++kh) {
      const detail::Range rows = detail::valid_outputs(s.in_h, oh, s.stride_h, s.pad_h, kh * s.dilation_h);
      for (std::int64_t kw = 0; kw < s.kernel_w; ++kw) {
        const detail::Range cols = detail::valid_outputs(s.in_w, ow, s.stride_w, s.pad_w, kw * s.dilation_w);
        if (cols.hi == cols.lo) continue;
        const T* src = col + ((c * s.kernel_h + kh) * s.kernel_w + kw) * plane;
        for (std::int64_t r = rows.lo; r < rows.hi; ++r) {
          const std::int64_t ih = r * s.stride_h - s.pad_h + kh * s.dilation_h;
          T* d = x + (c * s.in_h + ih) * s.in_w + (cols.lo * s.stride_w - s.pad_w + kw * s.dilation_w);
          const T* v = src + r * ow;
          if (s.stride_w == 1) {
            for (std::int64_t q = cols.lo; q < cols.hi; ++q) d[q - cols.lo] += v[q];
          } else {
            for (std::int64_t q = cols.lo; q < cols.hi; ++q) d[(q - cols.lo) * s.stride_w] += v[q];
          }
        }
      }
    }
}

template <class T>
void col2im(T* x, const T* col, const ConvShape& s) {
  col2im(x, col, s, s.out_h(), s.out_w());
}

}  // namespace kernels
}  // namespace gan
