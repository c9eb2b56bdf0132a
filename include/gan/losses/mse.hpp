#pragma once
// mse_loss: mean (or sum) of (input - target)^2; LSGAN's loss and a reconstruction term.

#include "gan/losses/reduction.hpp"

namespace gan {

// Same shapes. Gradient 2 (input - target) to the input, its negative to the target
// (when it requires grad).
template <class T>
Var<T> mse_loss(const Var<T>& input, const Var<T>& target, Reduction reduction = Reduction::mean) {
  return detail::pointwise_loss(
      "mse_loss", input, target, reduction, [](double x, double t) { return (x - t) * (x - t); },
      [](double x, double t) { return 2 * (x - t); }, [](double x, double t) { return -2 * (x - t); });
}

template <class T>
Var<T> mse_loss(const Var<T>& input, const Tensor<T>& target, Reduction reduction = Reduction::mean) {
  return mse_loss(input, Var<T>(target, false), reduction);
}

}  // namespace gan
