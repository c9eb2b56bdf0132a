#pragma once
// Gradient clipping between backward() and step(), with torch.nn.utils' semantics:
// clip_grad_value clamps each element, clip_grad_norm rescales all gradients together so
// their joint norm is at most max_norm (the direction of the update is kept).
// Parameters whose grad is undefined are ignored, as in PyTorch.

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gan/autograd/variable.hpp"

namespace gan {
namespace optim {

// Clamps every gradient element into [-clip_value, clip_value].
template <class T>
void clip_grad_value(const std::vector<Var<T>>& params, double clip_value) {
  check(clip_value >= 0, "clip_grad_value: clip_value must be >= 0, got ", clip_value);
  const T hi = static_cast<T>(clip_value);
  for (const Var<T>& p : params) {
    Tensor<T> g = p.grad();  // a handle: shares the parameter's gradient storage
    if (!g.defined()) continue;
    for (T& x : g) x = std::clamp(x, -hi, hi);
  }
}

// The norm of all gradients taken together, as if concatenated into one vector:
// (sum |g|^p)^(1/p), or max |g| for norm_type = infinity. Accumulated in double.
template <class T>
double grad_norm(const std::vector<Var<T>>& params, double norm_type = 2.0) {
  check(norm_type > 0, "grad_norm: norm_type must be > 0, got ", norm_type);
  const bool inf = std::isinf(norm_type);
  double acc = 0;
  for (const Var<T>& p : params) {
    const Tensor<T>& g = p.grad();
    if (!g.defined()) continue;
    if (inf) {
      for (T x : g) acc = std::max(acc, std::abs(static_cast<double>(x)));
    } else if (norm_type == 2.0) {
      acc += g.vec().template cast<double>().squaredNorm();
    } else {
      for (T x : g) acc += std::pow(std::abs(static_cast<double>(x)), norm_type);
    }
  }
  if (inf) return acc;
  return norm_type == 2.0 ? std::sqrt(acc) : std::pow(acc, 1.0 / norm_type);
}

// Rescales all gradients by min(1, max_norm / (norm + 1e-6)) and returns the norm before
// clipping (log it: a growing norm is an early sign of a diverging GAN). The 1e-6 keeps the
// division finite for zero gradients and, as in PyTorch, makes a norm just at max_norm
// shrink by a hair. A NaN or infinite norm is returned and propagates into the gradients,
// as PyTorch does by default; check the return value to catch it.
template <class T>
double clip_grad_norm(const std::vector<Var<T>>& params, double max_norm, double norm_type = 2.0) {
  check(max_norm >= 0, "clip_grad_norm: max_norm must be >= 0, got ", max_norm);
  const double norm = grad_norm(params, norm_type);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1 || std::isnan(coef)) {
    const T scale = static_cast<T>(coef);
    for (const Var<T>& p : params) {
      Tensor<T> g = p.grad();
      if (g.defined()) g.vec() *= scale;
    }
  }
  return norm;
}

}  // namespace optim
}  // namespace gan
