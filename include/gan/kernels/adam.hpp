#pragma once
// The Adam / AdamW parameter update on flat arrays (optim/adam.hpp holds the formula and
// the per-step coefficients). One generic body runs on vectors and on the scalar tail, so
// both round alike; chunks start at multiples of kChunk, so every element takes the same
// path whatever the thread count, and a resumed run stays bit-identical.

#include <algorithm>
#include <cstdint>

#include "gan/core/parallel.hpp"
#include "gan/kernels/simd.hpp"

namespace gan {
namespace kernels {

template <class T>
struct AdamCoefficients {
  T l2 = 0;             // L2 weight decay added to the gradient (Adam)
  T shrink = 1;         // 1 - lr * wd (AdamW), else 1
  T w = 0;              // 1 - beta1: the lerp weight of m towards g
  bool lerp_from_end = false;  // torch's lerp formula switch (w >= 0.5)
  T beta2 = 0, one_minus_beta2 = 0;
  T neg_step_size = 0;  // -lr / (1 - beta1^t)
  T bias_correction2_sqrt = 1;
  T eps = 0;
  bool amsgrad = false;
};

// V is T or a batch of T; vmax is read and written only with amsgrad.
template <class V, class T>
inline void adam_element(V& p, V g, V& m, V& v, V& vmax, const AdamCoefficients<T>& c) {
  g = g + V(c.l2) * p;
  p = p * V(c.shrink);
  m = c.lerp_from_end ? g - (g - m) * V(T(1) - c.w) : m + V(c.w) * (g - m);
  v = V(c.beta2) * v + V(c.one_minus_beta2) * g * g;
  V denom_v = v;
  if (c.amsgrad) denom_v = vmax = simd::max(vmax, v);
  const V denom = simd::sqrt(denom_v) / V(c.bias_correction2_sqrt) + V(c.eps);
  p = p + V(c.neg_step_size) * m / denom;
}

// p, m, v (and vmax with amsgrad) updated in place from g; n elements each.
template <class T>
void adam_update(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t n, const AdamCoefficients<T>& c) {
  using B = simd::simd_batch<T>;
  constexpr std::int64_t lanes = static_cast<std::int64_t>(B::size), chunk = static_cast<std::int64_t>(simd::kChunk);
  parallel_for((n + chunk - 1) / chunk, chunk * 8, [&](std::int64_t ci) {
    const std::int64_t lo = ci * chunk, hi = std::min(n, lo + chunk);
    std::int64_t i = lo;
    for (; i + lanes <= hi; i += lanes) {
      B pi = simd::load(p + i), mi = simd::load(m + i), vi = simd::load(v + i);
      B vmi = c.amsgrad ? simd::load(vmax + i) : B(T(0));
      adam_element(pi, simd::load(g + i), mi, vi, vmi, c);
      simd::store(p + i, pi), simd::store(m + i, mi), simd::store(v + i, vi);
      if (c.amsgrad) simd::store(vmax + i, vmi);
    }
    for (; i < hi; ++i) {
      T vmi = c.amsgrad ? vmax[i] : T(0);
      adam_element(p[i], g[i], m[i], v[i], vmi, c);
      if (c.amsgrad) vmax[i] = vmi;
    }
  });
}

}  // namespace kernels
}  // namespace gan
