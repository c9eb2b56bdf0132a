#pragma once
// Transposed 2-D convolution (groups = 1), expressed through the conv2d pieces: it is the
// adjoint of the conv described by ConvShape::as_conv(), so
//
//   forward        = conv backward-data  (x plays the conv's dy, y the conv's dx)
//   backward-data  = conv forward        (dy plays the conv's x, dx the conv's y)
//   backward-weight = conv backward-weight with x and dy swapped
//
// and the weight needs no reshuffle: (IC, OC, KH, KW) here is the conv's (out, in, KH, KW).
//
//   x: (N, IC, H, W)   w: (IC, OC, KH, KW)   b: (OC) or null   y: (N, OC, OH, OW)
//   OH = (H - 1)*sh - 2*ph + dh*(KH - 1) + output_padding_h + 1   (s.transposed must be true)

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "gan/core/error.hpp"
#include "gan/kernels/conv2d.hpp"
#include "gan/kernels/conv_geometry.hpp"

namespace gan {
namespace kernels {

namespace detail {
inline void check_transposed(const ConvShape& s, const char* who) {
  check(s.transposed, who, ": got a non-transposed ConvShape; use the conv2d kernels");
}
}  // namespace detail

// y = conv_transpose(x, w) + b, overwriting y. b may be null.
template <class T>
void conv_transpose2d_forward(T* y, const T* x, const T* w, const T* b, const ConvShape& s) {
  detail::check_transposed(s, "conv_transpose2d_forward");
  detail::conv2d_backward_data_impl(y, x, w, s.as_conv(), s.in_h, s.in_w, b, false);
}

// dx += dL/dx for dy = dL/dy, or dx = dL/dx without `accumulate` (dx may be uninitialised).
template <class T>
void conv_transpose2d_backward_data(T* dx, const T* dy, const T* w, const ConvShape& s, bool accumulate = true) {
  detail::check_transposed(s, "conv_transpose2d_backward_data");
  detail::conv2d_forward_impl(dx, dy, w, static_cast<const T*>(nullptr), s.as_conv(), s.in_h, s.in_w, accumulate);
}

// dw += dL/dw and db += dL/db for dy = dL/dy. Accumulates; either output may be null.
template <class T>
void conv_transpose2d_backward_weight(T* dw, T* db, const T* dy, const T* x, const ConvShape& s) {
  detail::check_transposed(s, "conv_transpose2d_backward_weight");
  if (dw) detail::conv2d_backward_weight_impl(dw, static_cast<T*>(nullptr), x, dy, s.as_conv(), s.in_h, s.in_w);
  if (!db) return;
  // The conv's bias gradient would sum x; ours sums dy over batch and pixels.
  const std::int64_t plane = s.out_h() * s.out_w();
  if constexpr (std::is_same_v<T, float>) return direct::bias_grad(db, dy, s.n, s.out_c, plane);
  for (std::int64_t n = 0; n < s.n; ++n)
    for (std::int64_t oc = 0; oc < s.out_c; ++oc) {
      const T* row = dy + (n * s.out_c + oc) * plane;
      T sum = 0;
      for (std::int64_t p = 0; p < plane; ++p) sum += row[p];
      db[oc] += sum;
    }
}

}  // namespace kernels
}  // namespace gan
