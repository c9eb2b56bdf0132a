#pragma once
// Differentiable activations. relu / leaky_relu / elu save their input (their gradient
// depends on its sign); tanh / sigmoid save their output (y' is a function of y, which
// saves the exp in backward).

#include <cmath>
#include <utility>

#include "gan/autograd/variable.hpp"
#include "gan/kernels/elementwise.hpp"

namespace gan {

// gan::tanh(Var) would otherwise hide ::tanh / std::tanh from unqualified calls on
// doubles inside namespace gan (name lookup stops at the first scope that declares
// `tanh`). Re-declaring std's overloads here keeps `tanh(0.5)` in gan code meaning the
// scalar function; overload resolution picks the Var template only for Vars.
using std::tanh;

namespace detail {

// y = forward(x); the closure calls backward(dx, dy, saved, n, accumulate) with saved = x
// or y, overwriting dx when it is the first contribution to x's gradient.
template <class T, class Forward, class Backward>
Var<T> unary_activation(const char* op, const Var<T>& x, bool save_output, Forward&& forward, Backward&& backward) {
  check(x.defined(), op, ": undefined input");
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const auto n = static_cast<std::size_t>(y.numel());
  forward(y.data(), x.value().data(), n);
  Tensor<T> saved = save_output ? y : x.value();
  return make_result(std::move(y), op, {x},
                     [saved, backward = std::forward<Backward>(backward)](const Tensor<T>& dy, GradSlots<T>& g) {
                       bool assign = false;
                       T* dx = g.for_write(0, assign).data();
                       backward(dx, dy.data(), saved.data(), static_cast<std::size_t>(dy.numel()), !assign);
                     });
}

}  // namespace detail

// max(x, 0); gradient 0 at x == 0, as in PyTorch.
template <class T>
Var<T> relu(const Var<T>& x) {
  return detail::unary_activation(
      "relu", x, false, [](T* y, const T* in, std::size_t n) { kernels::relu_forward(y, in, n); },
      [](T* dx, const T* dy, const T* in, std::size_t n, bool acc) {
        kernels::relu_backward(dx, dy, in, n, acc);
      });
}

// x > 0 ? x : slope * x
template <class T>
Var<T> leaky_relu(const Var<T>& x, double slope) {
  const T s = static_cast<T>(slope);
  return detail::unary_activation(
      "leaky_relu", x, false, [s](T* y, const T* in, std::size_t n) { kernels::leaky_relu_forward(y, in, n, s); },
      [s](T* dx, const T* dy, const T* in, std::size_t n, bool acc) {
        kernels::leaky_relu_backward(dx, dy, in, n, s, acc);
      });
}

// x > 0 ? x : alpha * (exp(x) - 1)
template <class T>
Var<T> elu(const Var<T>& x, double alpha = 1.0) {
  const T a = static_cast<T>(alpha);
  return detail::unary_activation(
      "elu", x, false, [a](T* y, const T* in, std::size_t n) { kernels::elu_forward(y, in, n, a); },
      [a](T* dx, const T* dy, const T* in, std::size_t n, bool acc) {
        kernels::elu_backward(dx, dy, in, n, a, acc);
      });
}

template <class T>
Var<T> tanh(const Var<T>& x) {
  return detail::unary_activation(
      "tanh", x, true, [](T* y, const T* in, std::size_t n) { kernels::tanh_forward(y, in, n); },
      [](T* dx, const T* dy, const T* out, std::size_t n, bool acc) {
        kernels::tanh_backward(dx, dy, out, n, acc);
      });
}

// 1 / (1 + exp(-x)), overflow-free for any x.
template <class T>
Var<T> sigmoid(const Var<T>& x) {
  return detail::unary_activation(
      "sigmoid", x, true, [](T* y, const T* in, std::size_t n) { kernels::sigmoid_forward(y, in, n); },
      [](T* dx, const T* dy, const T* out, std::size_t n, bool acc) {
        kernels::sigmoid_backward(dx, dy, out, n, acc);
      });
}

}  // namespace gan
