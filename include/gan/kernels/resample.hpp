#pragma once
// Separable resampling tables and loops for (planes, H, W) maps, matching
// torch.nn.functional.interpolate with align_corners=False: nearest, bilinear and bicubic
// (A = -0.75, taps clamped at the border). Output pixel (oh, ow) is
//   sum_a sum_b wh[oh][a] * ww[ow][b] * x[ih[oh][a], iw[ow][b]]
// so each mode only builds per-axis (index, weight) tables with `taps` entries per output
// position (1, 2, 4), and one forward / one backward loop serve them all. Used by the
// differentiable ops/upsample.hpp and by the data transforms (resize for jitter).

#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/core/parallel.hpp"

namespace gan {
namespace detail {

// Source positions and weights along one axis; entry [o * taps + t].
struct InterpAxis {
  int taps = 1;
  std::vector<std::int64_t> index;
  std::vector<double> weight;
};

// PyTorch: with an integer scale factor, src = floor(dst / scale); with an output size,
// src = min(floor(dst * float(in / out)), in - 1) in float, as upsample_nearest2d does.
inline InterpAxis nearest_axis(std::int64_t in, std::int64_t out, std::int64_t scale) {
  InterpAxis a;
  const float ratio = static_cast<float>(in) / static_cast<float>(out);
  for (std::int64_t o = 0; o < out; ++o) {
    std::int64_t i = scale > 0 ? o / scale : static_cast<std::int64_t>(std::floor(static_cast<float>(o) * ratio));
    a.index.push_back(i < in - 1 ? i : in - 1);
    a.weight.push_back(1.0);
  }
  return a;
}

// Source coordinate of output pixel o for align_corners=False: pixel centres line up.
inline double source_coordinate(std::int64_t in, std::int64_t out, std::int64_t o) {
  return (static_cast<double>(o) + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5;
}

inline InterpAxis linear_axis(std::int64_t in, std::int64_t out) {
  InterpAxis a;
  a.taps = 2;
  for (std::int64_t o = 0; o < out; ++o) {
    double src = source_coordinate(in, out, o);
    if (src < 0) src = 0;  // PyTorch clamps before flooring for linear modes
    const auto i0 = static_cast<std::int64_t>(src);
    const std::int64_t i1 = i0 < in - 1 ? i0 + 1 : i0;
    const double l1 = src - static_cast<double>(i0);
    a.index.insert(a.index.end(), {i0, i1});
    a.weight.insert(a.weight.end(), {1.0 - l1, l1});
  }
  return a;
}

// Keys' cubic convolution with A = -0.75 (PyTorch, also OpenCV). Source coordinates are
// not clamped; taps outside [0, in) read the border pixel instead.
inline InterpAxis cubic_axis(std::int64_t in, std::int64_t out) {
  constexpr double A = -0.75;
  auto near = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };        // |x| <= 1
  auto far = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };  // 1 < |x| < 2
  InterpAxis a;
  a.taps = 4;
  for (std::int64_t o = 0; o < out; ++o) {
    const double src = source_coordinate(in, out, o);
    const double fl = std::floor(src);
    const double t = src - fl;
    const double w[4] = {far(t + 1), near(t), near(1 - t), far(2 - t)};
    for (int k = 0; k < 4; ++k) {
      std::int64_t i = static_cast<std::int64_t>(fl) - 1 + k;
      a.index.push_back(i < 0 ? 0 : (i > in - 1 ? in - 1 : i));
      a.weight.push_back(w[k]);
    }
  }
  return a;
}

// y (planes, OH, OW) = resample of x (planes, IH, IW).
template <class T>
void interp_forward(T* y, const T* x, std::int64_t planes, std::int64_t ih, std::int64_t iw,
                    const InterpAxis& ah, const InterpAxis& aw) {
  const auto oh = static_cast<std::int64_t>(ah.index.size()) / ah.taps;
  const auto ow = static_cast<std::int64_t>(aw.index.size()) / aw.taps;
  parallel_for(planes, oh * ow * ah.taps * aw.taps, [&](std::int64_t p) {
    const T* xp = x + p * ih * iw;
    T* yp = y + p * oh * ow;
    for (std::int64_t r = 0; r < oh; ++r)
      for (std::int64_t c = 0; c < ow; ++c) {
        double acc = 0;
        for (int a = 0; a < ah.taps; ++a) {
          const T* row = xp + ah.index[static_cast<std::size_t>(r * ah.taps + a)] * iw;
          double racc = 0;
          for (int b = 0; b < aw.taps; ++b) {
            const auto k = static_cast<std::size_t>(c * aw.taps + b);
            racc += aw.weight[k] * static_cast<double>(row[aw.index[k]]);
          }
          acc += ah.weight[static_cast<std::size_t>(r * ah.taps + a)] * racc;
        }
        yp[r * ow + c] = static_cast<T>(acc);
      }
  });
}

// dx += the transpose of interp_forward applied to dy. ACCUMULATES. Planes are disjoint,
// so the scatter within a plane needs no atomics.
template <class T>
void interp_backward(T* dx, const T* dy, std::int64_t planes, std::int64_t ih, std::int64_t iw,
                     const InterpAxis& ah, const InterpAxis& aw) {
  const auto oh = static_cast<std::int64_t>(ah.index.size()) / ah.taps;
  const auto ow = static_cast<std::int64_t>(aw.index.size()) / aw.taps;
  parallel_for(planes, oh * ow * ah.taps * aw.taps, [&](std::int64_t p) {
    T* xp = dx + p * ih * iw;
    const T* yp = dy + p * oh * ow;
    for (std::int64_t r = 0; r < oh; ++r)
      for (std::int64_t c = 0; c < ow; ++c) {
        const double g = static_cast<double>(yp[r * ow + c]);
        for (int a = 0; a < ah.taps; ++a) {
          const auto ka = static_cast<std::size_t>(r * ah.taps + a);
          T* row = xp + ah.index[ka] * iw;
          for (int b = 0; b < aw.taps; ++b) {
            const auto k = static_cast<std::size_t>(c * aw.taps + b);
            row[aw.index[k]] += static_cast<T>(g * ah.weight[ka] * aw.weight[k]);
          }
        }
      }
  });
}

}  // namespace detail
}  // namespace gan
