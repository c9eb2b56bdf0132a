#pragma once
// Binary cross-entropy, the GAN discriminator / non-saturating generator loss.
// Prefer bce_with_logits: it never forms sigmoid(x), so it stays finite and keeps its
// gradient where sigmoid saturates (|x| of a few tens in float).

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "gan/losses/reduction.hpp"

namespace gan {

// Per element max(x, 0) - x * t + log1p(exp(-|x|)) = -[t log s(x) + (1 - t) log(1 - s(x))],
// reduced by mean (default) or sum. d/dx = sigmoid(x) - t, d/dt = -x.
// logits and targets have the same shape; targets get a gradient only if they require it.
template <class T>
Var<T> bce_with_logits(const Var<T>& logits, const Var<T>& targets, Reduction reduction = Reduction::mean) {
  return detail::pointwise_loss(
      "bce_with_logits", logits, targets, reduction,
      [](double x, double t) { return std::max(x, 0.0) - x * t + std::log1p(std::exp(-std::abs(x))); },
      [](double x, double t) {
        // sigmoid written so that exp never overflows
        const double s = x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
        return s - t;
      },
      [](double x, double) { return -x; });
}

// Targets as a plain tensor: constants.
template <class T>
Var<T> bce_with_logits(const Var<T>& logits, const Tensor<T>& targets, Reduction reduction = Reduction::mean) {
  return bce_with_logits(logits, Var<T>(targets, false), reduction);
}

// Every target equal to target_value: 1 for "real", 0 for "fake" in a GAN step.
template <class T>
Var<T> bce_with_logits(const Var<T>& logits, double target_value, Reduction reduction = Reduction::mean) {
  check(logits.defined(), "bce_with_logits: input is undefined");
  return bce_with_logits(logits, Tensor<T>::full(logits.shape(), static_cast<T>(target_value)), reduction);
}

// -[t log(p + eps) + (1 - t) log(1 - p + eps)] per element, p = probabilities in [0, 1].
// eps keeps log finite at p = 0 or 1: a wrong certain prediction costs -log(eps) (27.6 for
// 1e-12) where PyTorch clamps the log at -100, so values differ from torch only there.
// d/dp = -t / (p + eps) + (1 - t) / (1 - p + eps), d/dt = log(1 - p + eps) - log(p + eps).
template <class T>
Var<T> bce(const Var<T>& probs, const Var<T>& targets, double eps = 1e-12, Reduction reduction = Reduction::mean) {
  check(probs.defined(), "bce: input is undefined");
  check(eps >= 0, "bce: eps must be >= 0, got ", eps);
  for (std::int64_t i = 0; i < probs.numel(); ++i) {
    const T p = probs.value()[i];
    check(p >= T(0) && p <= T(1), "bce: probabilities must be in [0, 1], got ", p, " at index ", i,
          " of input ", probs.shape(), " (use bce_with_logits on logits)");
  }
  return detail::pointwise_loss(
      "bce", probs, targets, reduction,
      [eps](double p, double t) { return -(t * std::log(p + eps) + (1 - t) * std::log(1 - p + eps)); },
      [eps](double p, double t) { return -t / (p + eps) + (1 - t) / (1 - p + eps); },
      [eps](double p, double) { return std::log(1 - p + eps) - std::log(p + eps); });
}

template <class T>
Var<T> bce(const Var<T>& probs, const Tensor<T>& targets, double eps = 1e-12, Reduction reduction = Reduction::mean) {
  return bce(probs, Var<T>(targets, false), eps, reduction);
}

}  // namespace gan
