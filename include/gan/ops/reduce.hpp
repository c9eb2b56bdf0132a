#pragma once
// Differentiable reductions: sum / mean of all elements (losses) -> shape (1), and
// sum / mean along one axis (PyTorch's dim=, keepdim=).

#include <cstdint>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/kernels/elementwise.hpp"
#include "gan/kernels/reduce.hpp"
#include "gan/ops/shape_ops.hpp"

namespace gan {
namespace detail {

template <class T>
Var<T> scaled_total(const char* op, const Var<T>& x, bool average) {
  check(x.defined(), op, ": undefined input");
  const auto n = static_cast<std::size_t>(x.numel());
  const double total = kernels::sum(x.value().data(), n);
  const double factor = average ? (n ? 1.0 / static_cast<double>(n) : 0.0) : 1.0;
  check(!average || n > 0, op, ": mean of an empty tensor of shape ", x.shape());
  Tensor<T> y = Tensor<T>::scalar(static_cast<T>(total * factor));
  return make_result(std::move(y), op, {x}, [factor](const Tensor<T>& dy, GradSlots<T>& g) {
    Tensor<T>& gx = g[0];
    kernels::add_scalar(gx.data(), gx.data(), static_cast<T>(dy[0] * factor), static_cast<std::size_t>(gx.numel()));
  });
}

template <class T>
Var<T> axis_total(const char* op, const Var<T>& x, int axis, bool keepdim, bool average) {
  check(x.defined(), op, ": undefined input");
  const int a = normalize_axis(op, axis, x.shape());
  const std::int64_t outer = outer_size(x.shape(), a), len = x.shape()[a], inner = inner_size(x.shape(), a);
  check(!average || len > 0, op, ": mean over empty axis ", axis, " of shape ", x.shape());
  std::vector<std::int64_t> dims = x.shape().to_vector();
  if (keepdim) {
    dims[static_cast<std::size_t>(a)] = 1;
  } else {
    dims.erase(dims.begin() + a);
    if (dims.empty()) dims.push_back(1);  // a rank-1 input reduces to shape (1), not rank 0
  }
  Tensor<T> y = Tensor<T>::zeros(Shape(dims));
  kernels::axis_sum(y.data(), x.value().data(), static_cast<std::size_t>(outer), static_cast<std::size_t>(len),
                    static_cast<std::size_t>(inner));
  const T factor = average ? T(1) / static_cast<T>(len) : T(1);
  if (average) kernels::scale(y.data(), factor, y.data(), static_cast<std::size_t>(y.numel()));
  return make_result(std::move(y), op, {x}, [=](const Tensor<T>& dy, GradSlots<T>& g) {
    T* gx = g[0].data();
    parallel_for(outer, len * inner, [&](std::int64_t o) {
      for (std::int64_t k = 0; k < len; ++k)
        kernels::axpy(gx + (o * len + k) * inner, factor, dy.data() + o * inner, static_cast<std::size_t>(inner));
    });
  });
}

}  // namespace detail

// Sum of all elements -> shape (1).
template <class T>
Var<T> sum(const Var<T>& x) {
  return detail::scaled_total("sum", x, false);
}

// Mean of all elements -> shape (1).
template <class T>
Var<T> mean(const Var<T>& x) {
  return detail::scaled_total("mean", x, true);
}

// Sum along `axis`; the axis is dropped unless keepdim.
template <class T>
Var<T> sum(const Var<T>& x, int axis, bool keepdim = false) {
  return detail::axis_total("sum", x, axis, keepdim, false);
}

// Mean along `axis`; the axis is dropped unless keepdim.
template <class T>
Var<T> mean(const Var<T>& x, int axis, bool keepdim = false) {
  return detail::axis_total("mean", x, axis, keepdim, true);
}

}  // namespace gan
