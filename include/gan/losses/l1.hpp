#pragma once
// l1_loss: mean (or sum) of |input - target|, pix2pix's reconstruction term.

#include <cmath>

#include "gan/losses/reduction.hpp"

namespace gan {

// Same shapes. Gradient sign(input - target) to the input and its negative to the target
// (when it requires grad); the subgradient at input == target is 0, as in PyTorch.
template <class T>
Var<T> l1_loss(const Var<T>& input, const Var<T>& target, Reduction reduction = Reduction::mean) {
  auto sign = [](double d) { return d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0); };
  return detail::pointwise_loss(
      "l1_loss", input, target, reduction, [](double x, double t) { return std::abs(x - t); },
      [sign](double x, double t) { return sign(x - t); }, [sign](double x, double t) { return -sign(x - t); });
}

template <class T>
Var<T> l1_loss(const Var<T>& input, const Tensor<T>& target, Reduction reduction = Reduction::mean) {
  return l1_loss(input, Var<T>(target, false), reduction);
}

}  // namespace gan
