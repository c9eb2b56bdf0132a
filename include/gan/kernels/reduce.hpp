#pragma once
// Reductions: sum of all elements, sums along one axis, per-channel sums of an NCHW
// tensor (bias gradients). Sums accumulate SIMD partial sums of short blocks into a
// double, so a float sum over 10^7 elements keeps ~7 significant digits instead of
// drifting like a single running float.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "gan/kernels/simd.hpp"

namespace gan {
namespace kernels {

// Sum of x[0..n) in T, four independent accumulators to hide the add latency.
template <class Arch>
struct sum_kernel {
  template <class T>
  T operator()(Arch, const T* x, std::size_t n) const {
    using batch = xsimd::batch<T, Arch>;
    constexpr std::size_t w = batch::size;
    batch a0(T(0)), a1(T(0)), a2(T(0)), a3(T(0));
    std::size_t i = 0;
    for (; i + 4 * w <= n; i += 4 * w) {
      a0 += simd::load<T, Arch>(x + i);
      a1 += simd::load<T, Arch>(x + i + w);
      a2 += simd::load<T, Arch>(x + i + 2 * w);
      a3 += simd::load<T, Arch>(x + i + 3 * w);
    }
    for (; i + w <= n; i += w) a0 += simd::load<T, Arch>(x + i);
    T s = simd::hsum((a0 + a1) + (a2 + a3));
    for (; i < n; ++i) s += x[i];
    return s;
  }
};

// Sum of x[0..n), accumulated in double across blocks of 1024 elements.
template <class T>
double sum(const T* x, std::size_t n) {
  static_assert(std::is_floating_point_v<T>, "reductions are for float/double");
  constexpr std::size_t kBlock = 1024;
  double total = 0;
  for (std::size_t i = 0; i < n; i += kBlock) {
    const std::size_t len = n - i < kBlock ? n - i : kBlock;
    total += static_cast<double>(sum_kernel<simd::default_arch>{}(simd::default_arch{}, x + i, len));
  }
  return total;
}

template <class T>
double mean(const T* x, std::size_t n) {
  return n ? sum(x, n) / static_cast<double>(n) : 0.0;
}

// x viewed as (outer, len, inner); out (outer, inner): out[o, i] += sum_k x[o, k, i].
// ACCUMULATES. inner == 1 sums contiguous rows; otherwise rows of `inner` are added
// lane-wise, which vectorises over i.
template <class T>
void axis_sum(T* out, const T* x, std::size_t outer, std::size_t len, std::size_t inner) {
  static_assert(std::is_floating_point_v<T>, "reductions are for float/double");
  parallel_for(static_cast<std::int64_t>(outer), static_cast<std::int64_t>(len * inner), [&](std::int64_t o_) {
    const std::size_t o = static_cast<std::size_t>(o_);
    const T* xo = x + o * len * inner;
    T* yo = out + o * inner;
    if (inner == 1) {
      yo[0] += static_cast<T>(sum(xo, len));
      return;
    }
    for (std::size_t k = 0; k < len; ++k) {
      const T* row = xo + k * inner;
      std::size_t i = 0;
      for (; i + simd::width<T> <= inner; i += simd::width<T>)
        simd::store(yo + i, simd::load(yo + i) + simd::load(row + i));
      for (; i < inner; ++i) yo[i] += row[i];
    }
  });
}

// x: (n, c, hw) (NCHW with H*W flattened, or (N, C) with hw = 1); out: (c).
// out[ch] += sum over batch and space of x[:, ch, :]. ACCUMULATES: bias gradients.
template <class T>
void channel_sums(T* out, const T* x, std::size_t n, std::size_t c, std::size_t hw) {
  static_assert(std::is_floating_point_v<T>, "reductions are for float/double");
  if (hw == 1) {  // (N, C): a column sum, vectorised over channels
    for (std::size_t b = 0; b < n; ++b) {
      const T* row = x + b * c;
      std::size_t i = 0;
      for (; i + simd::width<T> <= c; i += simd::width<T>)
        simd::store(out + i, simd::load(out + i) + simd::load(row + i));
      for (; i < c; ++i) out[i] += row[i];
    }
    return;
  }
  parallel_for(static_cast<std::int64_t>(c), static_cast<std::int64_t>(n * hw), [&](std::int64_t ch_) {
    const std::size_t ch = static_cast<std::size_t>(ch_);
    double s = 0;
    for (std::size_t b = 0; b < n; ++b) s += sum(x + (b * c + ch) * hw, hw);
    out[ch] += static_cast<T>(s);
  });
}

}  // namespace kernels
}  // namespace gan
