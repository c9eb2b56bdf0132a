#pragma once
// 2-D convolution (groups = 1). float takes the direct, channel-blocked kernels of
// kernels/conv_direct.hpp for every shape they cover (all but pointwise / one-output-pixel
// shapes, and strides > 2 in the forward pass), the forward pass of a few-channel image into
// many channels takes kernels/conv_forward_panel.hpp, and the forward and data gradient of a
// 4x4 stride-2 or 3x3 stride-1 conv between many channels take Winograd (F(4x4, 2x2), F(2x2, 3x3))
// from kernels/conv_winograd.hpp where it pays (use_winograd); double and the other shapes use
// im2col + GEMM per image, OpenMP over the batch, described below. These three functions (and
// their transposed twins, built from them) are the whole interface ops/ and nn/ use, so a
// faster implementation can replace the bodies alone.
//
//   x: (N, IC, H, W)   w: (OC, IC, KH, KW)   b: (OC) or null   y: (N, OC, OH, OW)
//
// Per image: y_n (OC, OH*OW) = w (OC, IC*KH*KW) * col_n (IC*KH*KW, OH*OW) with
// col_n = im2col(x_n); the data gradient is col2im(w^T dy_n) and the weight gradient
// sum_n dy_n col_n^T. When im2col is the identity (ConvShape::columns_are_input) x_n is col_n.
// Scratch (column buffers, per-thread partial sums) is allocated once per call, before
// the parallel loop, from the caching allocator: steady-state training allocates nothing new.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "gan/config.hpp"
#include "gan/core/parallel.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_direct.hpp"
#include "gan/kernels/conv_winograd.hpp"
#include "gan/kernels/conv_winograd_wgrad.hpp"
#include "gan/kernels/conv_wgrad_taps.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/gemm.hpp"
#include "gan/kernels/im2col.hpp"

namespace gan {
namespace kernels {

namespace detail {

// Threads for a loop over n images. One inside an enclosing parallel region (no nested
// teams) and for a single image, where Eigen's own GEMM threading takes over instead.
inline int image_threads(std::int64_t n) {
#if GAN_HAS_OPENMP
  if (omp_in_parallel()) return 1;
#endif
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(max_threads(), n)));
}

// body(image, thread) for image in [0, n), statically split so per-thread partial sums
// (and hence results) are the same from run to run for a given thread count.
template <class Body>
void for_each_image(std::int64_t n, int threads, Body&& body) {
#if GAN_HAS_OPENMP
  if (threads > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) body(i, omp_get_thread_num());
    return;
  }
#endif
  (void)threads;
  for (std::int64_t i = 0; i < n; ++i) body(i, 0);
}

// When each image has a single output pixel (DCGAN's 4x4 -> 1x1 last conv of D, and the
// 1x1 -> 4x4 / 7x7 first transposed conv of G) a per-image GEMM degenerates to a
// matrix-vector product. Stacking the images' (K x 1) columns as the rows of one (N x K)
// matrix turns the batch into one GEMM, and y (N, OC, 1, 1) is already that product's
// row-major (N x OC) layout. Returns the stacked columns (x itself when im2col is the identity).
template <class T>
const T* stacked_columns(Tensor<T>& buf, const T* x, const ConvShape& s, int threads) {
  if (s.columns_are_input()) return x;
  const std::int64_t k = s.in_c * s.kernel_h * s.kernel_w, x_image = s.in_c * s.in_h * s.in_w;
  buf = Tensor<T>::empty(Shape{s.n, k});
  T* cols = buf.data();
  for_each_image(s.n, threads, [&](std::int64_t i, int) { im2col(cols + i * k, x + i * x_image, s, 1, 1); });
  return cols;
}

// The float fast path (kernels/conv_direct.hpp) takes every shape with more than one output
// pixel except the pointwise ones, where im2col is the identity and one GEMM is as good;
// double (gradient checks) stays on im2col + GEMM.
template <class T>
bool use_direct(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  return std::is_same_v<T, float> && s.n > 0 && oh * ow > 1 && !s.columns_are_input();
}

// Winograd (kernels/conv_winograd.hpp) takes the 4x4 stride-2 and 3x3 stride-1 convs where it pays,
// unless GAN_NO_WINOGRAD is set in the environment (for comparisons, and for the last bits of
// fp32 agreement with a direct sum).
inline bool winograd_off() {
  static const bool off = std::getenv("GAN_NO_WINOGRAD") != nullptr;
  return off;
}

template <class T>
bool use_winograd(const ConvShape& s, std::int64_t oh, std::int64_t ow, bool backward_data) {
  return !winograd_off() && use_direct<T>(s, oh, ow) && direct::winograd_supported(s, oh, ow) &&
         direct::winograd_pays(s, oh, ow, backward_data, direct::team_size());
}

// And the weight gradient (kernels/conv_winograd_wgrad.hpp), F(4x4, 2x2) only.
template <class T>
bool use_winograd_wgrad(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  return !winograd_off() && use_direct<T>(s, oh, ow) && direct::winograd_supported(s, oh, ow) &&
         direct::winograd_wgrad_pays(s, oh, ow);
}

// The kernels below take the output extent (oh, ow) explicitly; see ConvShape::as_conv()
// for why the transposed conv needs that. `accumulate` makes the forward add into y.

template <class T>
void conv2d_forward_impl(T* y, const T* x, const T* w, const T* b, const ConvShape& s, std::int64_t oh,
                         std::int64_t ow, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_winograd<T>(s, oh, ow, false)) return direct::conv_forward_winograd(y, x, w, b, s, oh, ow, accumulate);
    if (use_direct<T>(s, oh, ow) && direct::forward_supported(s))
      return direct::conv_forward(y, x, w, b, s, oh, ow, accumulate);
  }
  const std::int64_t plane = oh * ow, k = s.in_c * s.kernel_h * s.kernel_w;
  const std::int64_t x_image = s.in_c * s.in_h * s.in_w, y_image = s.out_c * plane;
  const bool no_im2col = s.columns_are_input();
  const int threads = image_threads(s.n);
  if (plane == 1) {  // Y (N x OC) = cols (N x K) * w^T, with the bias rows first
    Tensor<T> buf;
    const T* cols = stacked_columns(buf, x, s, threads);
    if (b)
      for (std::int64_t i = 0; i < s.n; ++i)
        for (std::int64_t oc = 0; oc < s.out_c; ++oc) {
          T& out = y[i * s.out_c + oc];
          out = (accumulate ? out : T(0)) + b[oc];
        }
    gemm(Op::none, Op::transpose, s.n, s.out_c, k, T(1), cols, w, (accumulate || b) ? T(1) : T(0), y);
    return;
  }
  Tensor<T> cols = no_im2col ? Tensor<T>() : Tensor<T>::empty(Shape{threads, k * plane});
  for_each_image(s.n, threads, [&](std::int64_t i, int t) {
    T* yi = y + i * y_image;
    const T* col = x + i * x_image;
    if (!no_im2col) {
      T* buf = cols.data() + t * k * plane;
      im2col(buf, col, s, oh, ow);
      col = buf;
    }
    T beta = accumulate ? T(1) : T(0);
    if (b) {  // bias first, then the product adds onto it (saves a pass over y)
      for (std::int64_t oc = 0; oc < s.out_c; ++oc) {
        T* row = yi + oc * plane;
        if (accumulate) for (std::int64_t p = 0; p < plane; ++p) row[p] += b[oc];
        else std::fill(row, row + plane, b[oc]);
      }
      beta = T(1);
    }
    gemm(Op::none, Op::none, s.out_c, plane, k, T(1), w, col, beta, yi);
  });
}

// dx += conv^T(dy, w), or without `accumulate` dx = conv^T(dy, w) + b (b per input channel,
// may be null; dx may be uninitialised): the transposed conv's forward and a first gradient.
template <class T>
void conv2d_backward_data_impl(T* dx, const T* dy, const T* w, const ConvShape& s, std::int64_t oh,
                               std::int64_t ow, const T* b = nullptr, bool accumulate = true) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_winograd<T>(s, oh, ow, true))
      return direct::conv_backward_data_winograd(dx, dy, w, s, oh, ow, b, accumulate);
    if (use_direct<T>(s, oh, ow) && direct::backward_data_supported(s))
      return direct::conv_backward_data(dx, dy, w, s, oh, ow, b, accumulate);
  }
  if (!accumulate) {  // the paths below add into dx
    const std::int64_t x_plane = s.in_h * s.in_w;
    for (std::int64_t i = 0; i < s.n * s.in_c; ++i)
      std::fill(dx + i * x_plane, dx + (i + 1) * x_plane, b ? b[i % s.in_c] : T(0));
  }
  const std::int64_t plane = oh * ow, k = s.in_c * s.kernel_h * s.kernel_w;
  const std::int64_t x_image = s.in_c * s.in_h * s.in_w, y_image = s.out_c * plane;
  const bool no_im2col = s.columns_are_input();
  const int threads = image_threads(s.n);
  if (plane == 1) {  // cols (N x K) = dY (N x OC) * w, then scatter each image's row
    if (no_im2col) {
      gemm(Op::none, Op::none, s.n, k, s.out_c, T(1), dy, w, T(1), dx);
      return;
    }
    Tensor<T> buf = Tensor<T>::empty(Shape{s.n, k});
    T* cols = buf.data();
    gemm(Op::none, Op::none, s.n, k, s.out_c, T(1), dy, w, T(0), cols);
    for_each_image(s.n, threads, [&](std::int64_t i, int) { col2im(dx + i * x_image, cols + i * k, s, 1, 1); });
    return;
  }
  Tensor<T> cols = no_im2col ? Tensor<T>() : Tensor<T>::empty(Shape{threads, k * plane});
  for_each_image(s.n, threads, [&](std::int64_t i, int t) {
    T* dxi = dx + i * x_image;
    const T* dyi = dy + i * y_image;
    if (no_im2col) {  // dx_n (K, HW) += w^T (K, OC) * dy_n (OC, HW)
      gemm(Op::transpose, Op::none, k, plane, s.out_c, T(1), w, dyi, T(1), dxi);
      return;
    }
    T* buf = cols.data() + t * k * plane;
    gemm(Op::transpose, Op::none, k, plane, s.out_c, T(1), w, dyi, T(0), buf);
    col2im(dxi, buf, s, oh, ow);
  });
}

template <class T>
void conv2d_backward_weight_impl(T* dw, T* db, const T* dy, const T* x, const ConvShape& s, std::int64_t oh,
                                 std::int64_t ow) {
  if constexpr (std::is_same_v<T, float>)
    if (use_direct<T>(s, oh, ow) && direct::backward_weight_supported(s)) {
      if (dw && use_winograd_wgrad<T>(s, oh, ow)) direct::conv_backward_weight_winograd(dw, dy, x, s, oh, ow, db);
      else if (dw && direct::backward_weight_taps_preferred(s))
        direct::conv_backward_weight_taps(dw, dy, x, s, oh, ow, db);
      else if (dw) direct::conv_backward_weight(dw, dy, x, s, oh, ow, db);
      else if (db) direct::bias_grad(db, dy, s.n, s.out_c, oh * ow);
      return;
    }
  const std::int64_t plane = oh * ow, k = s.in_c * s.kernel_h * s.kernel_w;
  const std::int64_t x_image = s.in_c * s.in_h * s.in_w, y_image = s.out_c * plane;
  const bool no_im2col = s.columns_are_input();
  const int threads = image_threads(s.n);
  if (plane == 1) {  // dw (OC x K) += dY^T (OC x N) * cols (N x K); db += column sums of dY
    if (dw) {
      Tensor<T> buf;
      gemm(Op::transpose, Op::none, s.out_c, k, s.n, T(1), dy, stacked_columns(buf, x, s, threads), T(1), dw);
    }
    if (db)
      for (std::int64_t i = 0; i < s.n; ++i)
        for (std::int64_t oc = 0; oc < s.out_c; ++oc) db[oc] += dy[i * s.out_c + oc];
    return;
  }
  // With several threads each sums its images into a private slice, reduced in thread
  // order at the end: no atomics, and the same result on every run.
  const bool partial = threads > 1;
  Tensor<T> cols = (no_im2col || !dw) ? Tensor<T>() : Tensor<T>::empty(Shape{threads, k * plane});
  Tensor<T> dw_part = (partial && dw) ? Tensor<T>::zeros(Shape{threads, s.out_c * k}) : Tensor<T>();
  Tensor<T> db_part = (partial && db) ? Tensor<T>::zeros(Shape{threads, s.out_c}) : Tensor<T>();
  for_each_image(s.n, threads, [&](std::int64_t i, int t) {
    const T* dyi = dy + i * y_image;
    if (dw) {
      const T* col = x + i * x_image;
      if (!no_im2col) {
        T* buf = cols.data() + t * k * plane;
        im2col(buf, col, s, oh, ow);
        col = buf;
      }
      T* dwt = partial ? dw_part.data() + t * s.out_c * k : dw;
      gemm(Op::none, Op::transpose, s.out_c, k, plane, T(1), dyi, col, T(1), dwt);  // dw += dy_n col_n^T
    }
    if (db) {
      T* dbt = partial ? db_part.data() + t * s.out_c : db;
      for (std::int64_t oc = 0; oc < s.out_c; ++oc) {
        const T* row = dyi + oc * plane;
        T sum = 0;
        for (std::int64_t p = 0; p < plane; ++p) sum += row[p];
        dbt[oc] += sum;
      }
    }
  });
  if (!partial) return;
  for (int t = 0; t < threads; ++t) {
    if (dw) for (std::int64_t j = 0; j < s.out_c * k; ++j) dw[j] += dw_part.data()[t * s.out_c * k + j];
    if (db) for (std::int64_t j = 0; j < s.out_c; ++j) db[j] += db_part.data()[t * s.out_c + j];
  }
}

inline void check_not_transposed(const ConvShape& s, const char* who) {
  check(!s.transposed, who, ": got a transposed ConvShape; use the conv_transpose2d kernels");
}

}  // namespace detail

// Whether float conv s's forward (or data gradient) runs on the Winograd kernels at the current
// thread count: for benchmarks, which label those rows. A transposed conv's forward is its
// conv's data gradient, and its data gradient that conv's forward.
inline bool runs_winograd(const ConvShape& s, bool data_gradient) {
  if (s.transposed) return detail::use_winograd<float>(s.as_conv(), s.in_h, s.in_w, !data_gradient);
  return detail::use_winograd<float>(s, s.out_h(), s.out_w(), data_gradient);
}

// The same for its weight gradient.
inline bool runs_winograd_wgrad(const ConvShape& s) {
  if (s.transposed) return detail::use_winograd_wgrad<float>(s.as_conv(), s.in_h, s.in_w);
  return detail::use_winograd_wgrad<float>(s, s.out_h(), s.out_w());
}

// y = conv(x, w) + b, overwriting y. b may be null. s must be valid (ConvShape::validate).
template <class T>
void conv2d_forward(T* y, const T* x, const T* w, const T* b, const ConvShape& s) {
  detail::check_not_transposed(s, "conv2d_forward");
  detail::conv2d_forward_impl(y, x, w, b, s, s.out_h(), s.out_w(), false);
}

// dx += dL/dx for dy = dL/dy, or dx = dL/dx without `accumulate` (dx may be uninitialised).
template <class T>
void conv2d_backward_data(T* dx, const T* dy, const T* w, const ConvShape& s, bool accumulate = true) {
  detail::check_not_transposed(s, "conv2d_backward_data");
  detail::conv2d_backward_data_impl(dx, dy, w, s, s.out_h(), s.out_w(), static_cast<const T*>(nullptr), accumulate);
}

// dw += dL/dw and db += dL/db for dy = dL/dy. Accumulates. Either output may be null
// (frozen weight, or no bias) and is then skipped.
template <class T>
void conv2d_backward_weight(T* dw, T* db, const T* dy, const T* x, const ConvShape& s) {
  detail::check_not_transposed(s, "conv2d_backward_weight");
  detail::conv2d_backward_weight_impl(dw, db, dy, x, s, s.out_h(), s.out_w());
}

}  // namespace kernels
}  // namespace gan
