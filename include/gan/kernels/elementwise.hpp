#pragma once
// Elementwise kernels on flat arrays of n elements: activations forward/backward and the
// small BLAS-1 helpers the ops need. Outputs first. *_backward accumulate into dx (+=), or
// overwrite it when `accumulate` is false (the first contribution to a gradient).
// Every array may alias every other one (each element is read before it is written).
//
// Each kernel is one generic body `f` applied by map1/map2/map3: xsimd's functor-on-Arch
// shape (test/doc/sum.hpp) with a vector loop and a scalar tail that run the same `f`,
// so the tail is also the scalar reference the tests compare against.

#include <cstddef>
#include <type_traits>

#include "gan/kernels/simd.hpp"

namespace gan {
namespace kernels {

// Rough flops per element, for deciding when to wake the thread team.
inline constexpr std::int64_t kCheapOp = 1;
inline constexpr std::int64_t kTranscendentalOp = 20;

// y[i] = f(a[i])
template <class Arch>
struct map1_kernel {
  template <class T, class F>
  void operator()(Arch, T* y, const T* a, std::size_t n, const F& f) const {
    using batch = xsimd::batch<T, Arch>;
    const std::size_t vec_end = n - n % batch::size;
    std::size_t i = 0;
    for (; i < vec_end; i += batch::size) simd::store(y + i, f(simd::load<T, Arch>(a + i)));
    for (; i < n; ++i) y[i] = f(a[i]);
  }
};

// y[i] = f(a[i], b[i])
template <class Arch>
struct map2_kernel {
  template <class T, class F>
  void operator()(Arch, T* y, const T* a, const T* b, std::size_t n, const F& f) const {
    using batch = xsimd::batch<T, Arch>;
    const std::size_t vec_end = n - n % batch::size;
    std::size_t i = 0;
    for (; i < vec_end; i += batch::size)
      simd::store(y + i, f(simd::load<T, Arch>(a + i), simd::load<T, Arch>(b + i)));
    for (; i < n; ++i) y[i] = f(a[i], b[i]);
  }
};

// y[i] = f(a[i], b[i], c[i]); backward kernels pass y == a == dx to accumulate.
template <class Arch>
struct map3_kernel {
  template <class T, class F>
  void operator()(Arch, T* y, const T* a, const T* b, const T* c, std::size_t n, const F& f) const {
    using batch = xsimd::batch<T, Arch>;
    const std::size_t vec_end = n - n % batch::size;
    std::size_t i = 0;
    for (; i < vec_end; i += batch::size)
      simd::store(y + i, f(simd::load<T, Arch>(a + i), simd::load<T, Arch>(b + i), simd::load<T, Arch>(c + i)));
    for (; i < n; ++i) y[i] = f(a[i], b[i], c[i]);
  }
};

template <class T, class F>
void map1(T* y, const T* a, std::size_t n, std::int64_t cost, const F& f) {
  static_assert(std::is_floating_point_v<T>, "elementwise kernels are for float/double");
  simd::for_chunks(n, cost, [&](std::size_t s, std::size_t e) {
    map1_kernel<simd::default_arch>{}(simd::default_arch{}, y + s, a + s, e - s, f);
  });
}
template <class T, class F>
void map2(T* y, const T* a, const T* b, std::size_t n, std::int64_t cost, const F& f) {
  static_assert(std::is_floating_point_v<T>, "elementwise kernels are for float/double");
  simd::for_chunks(n, cost, [&](std::size_t s, std::size_t e) {
    map2_kernel<simd::default_arch>{}(simd::default_arch{}, y + s, a + s, b + s, e - s, f);
  });
}
template <class T, class F>
void map3(T* y, const T* a, const T* b, const T* c, std::size_t n, std::int64_t cost, const F& f) {
  static_assert(std::is_floating_point_v<T>, "elementwise kernels are for float/double");
  simd::for_chunks(n, cost, [&](std::size_t s, std::size_t e) {
    map3_kernel<simd::default_arch>{}(simd::default_arch{}, y + s, a + s, b + s, c + s, e - s, f);
  });
}

// dx += f(dy, saved), or dx = f(dy, saved): the backward of a unary op from its saved
// input or output.
template <class T, class F>
void unary_grad(T* dx, const T* dy, const T* saved, std::size_t n, std::int64_t cost, bool accumulate, const F& f) {
  if (accumulate)
    map3(dx, dx, dy, saved, n, cost, [&f](auto acc, auto g, auto v) { return acc + f(g, v); });
  else
    map2(dx, dy, saved, n, cost, f);
}

// ---- activations ----
// `x < 0 ? 0 : x` (not `x > 0 ? x : 0`) so a NaN input stays NaN and divergence shows.
template <class T>
void relu_forward(T* y, const T* x, std::size_t n) {
  map1(y, x, n, kCheapOp, [](auto v) {
    using V = decltype(v);
    return simd::select(v < simd::constant<V>(0), simd::constant<V>(0), v);
  });
}
// dx += dy * (x > 0): the gradient at exactly 0 is 0, as in PyTorch.
template <class T>
void relu_backward(T* dx, const T* dy, const T* x, std::size_t n, bool accumulate = true) {
  unary_grad(dx, dy, x, n, kCheapOp, accumulate, [](auto g, auto v) {
    using V = decltype(v);
    return simd::select(v > simd::constant<V>(0), g, simd::constant<V>(0));
  });
}

// The LeakyReLU bodies, also applied row by row by the norm kernels' fused activation.
template <class T>
struct LeakyReluForward {
  T slope;
  template <class V>
  V operator()(V v) const { return simd::select(v < simd::constant<V>(0), V(slope) * v, v); }
};
template <class T>
struct LeakyReluBackward {  // g: the gradient at the output, v: the input (or, for a slope > 0, the output)
  T slope;
  template <class V>
  V operator()(V g, V v) const { return simd::select(v > simd::constant<V>(0), g, V(slope) * g); }
};

template <class T>
void leaky_relu_forward(T* y, const T* x, std::size_t n, T slope) {
  map1(y, x, n, kCheapOp, LeakyReluForward<T>{slope});
}
// dx += dy * (x > 0 ? 1 : slope)
template <class T>
void leaky_relu_backward(T* dx, const T* dy, const T* x, std::size_t n, T slope, bool accumulate = true) {
  unary_grad(dx, dy, x, n, kCheapOp, accumulate, LeakyReluBackward<T>{slope});
}

// y = x > 0 ? x : alpha * (exp(x) - 1); expm1 keeps precision for small |x|, and min()
// keeps exp() of large positive x (whose branch is discarded) from overflowing.
template <class T>
void elu_forward(T* y, const T* x, std::size_t n, T alpha) {
  map1(y, x, n, kTranscendentalOp, [alpha](auto v) {
    using V = decltype(v);
    return simd::select(v > simd::constant<V>(0), v, V(alpha) * simd::expm1(simd::min(v, simd::constant<V>(0))));
  });
}
// dx += dy * (x > 0 ? 1 : alpha * exp(x))
template <class T>
void elu_backward(T* dx, const T* dy, const T* x, std::size_t n, T alpha, bool accumulate = true) {
  unary_grad(dx, dy, x, n, kTranscendentalOp, accumulate, [alpha](auto g, auto v) {
    using V = decltype(v);
    return simd::select(v > simd::constant<V>(0), g, g * V(alpha) * simd::exp(simd::min(v, simd::constant<V>(0))));
  });
}

// xsimd::tanh and std::tanh saturate to +-1 for large |x| (no exp overflow to inf/inf).
template <class T>
void tanh_forward(T* y, const T* x, std::size_t n) {
  map1(y, x, n, kTranscendentalOp, [](auto v) { return simd::tanh(v); });
}
// dx += dy * (1 - y^2), from the saved output y.
template <class T>
void tanh_backward(T* dx, const T* dy, const T* y, std::size_t n, bool accumulate = true) {
  unary_grad(dx, dy, y, n, kCheapOp, accumulate, [](auto g, auto t) {
    using V = decltype(t);
    return g * (simd::constant<V>(1) - t * t);
  });
}

// sigmoid via e = exp(-|x|) <= 1: 1/(1+e) for x >= 0, e/(1+e) for x < 0. Never overflows,
// and keeps full relative precision of tiny outputs for very negative x.
template <class T>
void sigmoid_forward(T* y, const T* x, std::size_t n) {
  map1(y, x, n, kTranscendentalOp, [](auto v) {
    using V = decltype(v);
    const V one = simd::constant<V>(1);
    const V e = simd::exp(-simd::abs(v));
    const V r = one / (one + e);
    return simd::select(v < simd::constant<V>(0), e * r, r);
  });
}
// dx += dy * y * (1 - y), from the saved output y.
template <class T>
void sigmoid_backward(T* dx, const T* dy, const T* y, std::size_t n, bool accumulate = true) {
  unary_grad(dx, dy, y, n, kCheapOp, accumulate, [](auto g, auto s) {
    using V = decltype(s);
    return g * s * (simd::constant<V>(1) - s);
  });
}

// ---- BLAS-1 style helpers ----
// y += a * x
template <class T>
void axpy(T* y, T a, const T* x, std::size_t n) {
  map2(y, y, x, n, kCheapOp, [a](auto acc, auto v) { return acc + decltype(v)(a) * v; });
}
// y = a * x
template <class T>
void scale(T* y, T a, const T* x, std::size_t n) {
  map1(y, x, n, kCheapOp, [a](auto v) { return decltype(v)(a) * v; });
}
// y = x + s
template <class T>
void add_scalar(T* y, const T* x, T s, std::size_t n) {
  map1(y, x, n, kCheapOp, [s](auto v) { return v + decltype(v)(s); });
}
// y = a + b
template <class T>
void add(T* y, const T* a, const T* b, std::size_t n) {
  map2(y, a, b, n, kCheapOp, [](auto u, auto v) { return u + v; });
}
// y = a - b
template <class T>
void sub(T* y, const T* a, const T* b, std::size_t n) {
  map2(y, a, b, n, kCheapOp, [](auto u, auto v) { return u - v; });
}
// y = a * b
template <class T>
void mul(T* y, const T* a, const T* b, std::size_t n) {
  map2(y, a, b, n, kCheapOp, [](auto u, auto v) { return u * v; });
}
// y += a * b (the backward of mul)
template <class T>
void mul_add(T* y, const T* a, const T* b, std::size_t n) {
  map3(y, y, a, b, n, kCheapOp, [](auto acc, auto u, auto v) { return acc + u * v; });
}

}  // namespace kernels
}  // namespace gan
