#pragma once
// Differentiable elementwise arithmetic on Vars of the SAME shape. There is no implicit
// broadcasting: in a GAN a silent (N,1) + (N) broadcast is a bug far more often than an
// intent, so shapes must match and the error names the op and both shapes. Per-channel
// biases go through the layers' own ops.

#include <cstddef>

#include "gan/autograd/variable.hpp"
#include "gan/kernels/elementwise.hpp"

namespace gan {
namespace detail {

template <class T>
std::size_t flat_size(const Tensor<T>& t) {
  return static_cast<std::size_t>(t.numel());
}

template <class T>
void check_same_operands(const char* op, const Var<T>& a, const Var<T>& b) {
  check(a.defined() && b.defined(), op, ": undefined operand");
  check(a.shape() == b.shape(), op, ": shapes ", a.shape(), " and ", b.shape(),
        " differ (elementwise ops do not broadcast)");
}

}  // namespace detail

// a + b
template <class T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  detail::check_same_operands("add", a, b);
  Tensor<T> y = Tensor<T>::empty(a.shape());
  kernels::add(y.data(), a.value().data(), b.value().data(), detail::flat_size(y));
  return make_result(std::move(y), "add", {a, b}, [](const Tensor<T>& dy, GradSlots<T>& g) {
    for (std::size_t i = 0; i < 2; ++i)
      if (g.needs(i)) kernels::axpy(g[i].data(), T(1), dy.data(), detail::flat_size(dy));
  });
}

// a - b
template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  detail::check_same_operands("sub", a, b);
  Tensor<T> y = Tensor<T>::empty(a.shape());
  kernels::sub(y.data(), a.value().data(), b.value().data(), detail::flat_size(y));
  return make_result(std::move(y), "sub", {a, b}, [](const Tensor<T>& dy, GradSlots<T>& g) {
    if (g.needs(0)) kernels::axpy(g[0].data(), T(1), dy.data(), detail::flat_size(dy));
    if (g.needs(1)) kernels::axpy(g[1].data(), T(-1), dy.data(), detail::flat_size(dy));
  });
}

// a * b (elementwise). Saves both operands' values.
template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  detail::check_same_operands("mul", a, b);
  Tensor<T> y = Tensor<T>::empty(a.shape());
  kernels::mul(y.data(), a.value().data(), b.value().data(), detail::flat_size(y));
  Tensor<T> av = a.value(), bv = b.value();
  return make_result(std::move(y), "mul", {a, b}, [av, bv](const Tensor<T>& dy, GradSlots<T>& g) {
    const std::size_t n = detail::flat_size(dy);
    if (g.needs(0)) kernels::mul_add(g[0].data(), dy.data(), bv.data(), n);
    if (g.needs(1)) kernels::mul_add(g[1].data(), dy.data(), av.data(), n);
  });
}

// s * x
template <class T>
Var<T> scale(const Var<T>& x, double s) {
  check(x.defined(), "scale: undefined operand");
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const T st = static_cast<T>(s);
  kernels::scale(y.data(), st, x.value().data(), detail::flat_size(y));
  return make_result(std::move(y), "scale", {x}, [st](const Tensor<T>& dy, GradSlots<T>& g) {
    kernels::axpy(g[0].data(), st, dy.data(), detail::flat_size(dy));
  });
}

// x + s
template <class T>
Var<T> add_scalar(const Var<T>& x, double s) {
  check(x.defined(), "add_scalar: undefined operand");
  Tensor<T> y = Tensor<T>::empty(x.shape());
  kernels::add_scalar(y.data(), x.value().data(), static_cast<T>(s), detail::flat_size(y));
  return make_result(std::move(y), "add_scalar", {x}, [](const Tensor<T>& dy, GradSlots<T>& g) {
    kernels::axpy(g[0].data(), T(1), dy.data(), detail::flat_size(dy));
  });
}

// -x
template <class T>
Var<T> neg(const Var<T>& x) {
  check(x.defined(), "neg: undefined operand");
  Tensor<T> y = Tensor<T>::empty(x.shape());
  kernels::scale(y.data(), T(-1), x.value().data(), detail::flat_size(y));
  return make_result(std::move(y), "neg", {x}, [](const Tensor<T>& dy, GradSlots<T>& g) {
    kernels::axpy(g[0].data(), T(-1), dy.data(), detail::flat_size(dy));
  });
}

// Operators, found by ADL on gan::Var. A scalar operand is a double so `x * 0.5` works
// for Var<float> without a cast.
template <class T>
Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }
template <class T>
Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
template <class T>
Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
template <class T>
Var<T> operator*(const Var<T>& x, double s) { return scale(x, s); }
template <class T>
Var<T> operator*(double s, const Var<T>& x) { return scale(x, s); }
template <class T>
Var<T> operator+(const Var<T>& x, double s) { return add_scalar(x, s); }
template <class T>
Var<T> operator+(double s, const Var<T>& x) { return add_scalar(x, s); }
template <class T>
Var<T> operator-(const Var<T>& x, double s) { return add_scalar(x, -s); }
template <class T>
Var<T> operator-(double s, const Var<T>& x) { return add_scalar(neg(x), s); }
template <class T>
Var<T> operator-(const Var<T>& x) { return neg(x); }

}  // namespace gan
