#pragma once
// Classification losses on (N, C) logits with integer labels: the auxiliary classifier
// of AC-GAN / conditional discriminators.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/losses/bce.hpp"

namespace gan {

namespace detail {
template <class T>
void check_labels(const char* op, const Var<T>& logits, const std::vector<std::int64_t>& labels) {
  check(logits.defined(), op, ": input is undefined");
  check(logits.value().rank() == 2, op, ": expected logits of shape (N, C), got ", logits.shape());
  check(logits.numel() > 0, op, ": empty logits ", logits.shape());
  const std::int64_t n = logits.dim(0), c = logits.dim(1);
  check(static_cast<std::int64_t>(labels.size()) == n, op, ": ", labels.size(), " labels for logits ",
        logits.shape(), " (", n, " rows)");
  for (std::size_t i = 0; i < labels.size(); ++i)
    check(labels[i] >= 0 && labels[i] < c, op, ": label ", labels[i], " at index ", i, " is out of range [0, ", c,
          ") for logits ", logits.shape());
}
}  // namespace detail

// Softmax cross-entropy: per row logsumexp(x) - x[label], mean over rows (or sum).
// logsumexp subtracts the row maximum first, so logits of any size stay finite.
// d/dx = softmax(x) - onehot(label), times the reduction scale.
template <class T>
Var<T> cross_entropy(const Var<T>& logits, const std::vector<std::int64_t>& labels,
                     Reduction reduction = Reduction::mean) {
  const char* op = "cross_entropy";
  detail::check_labels(op, logits, labels);
  const std::int64_t n = logits.dim(0), c = logits.dim(1);
  const Tensor<T> x = logits.value();
  Tensor<T> softmax = Tensor<T>::empty(x.shape());  // saved for backward
  double total = 0;
  for (std::int64_t r = 0; r < n; ++r) {
    const T* xr = x.data() + r * c;
    double m = static_cast<double>(xr[0]);
    for (std::int64_t j = 1; j < c; ++j) m = std::max(m, static_cast<double>(xr[j]));
    double z = 0;
    for (std::int64_t j = 0; j < c; ++j) z += std::exp(static_cast<double>(xr[j]) - m);
    for (std::int64_t j = 0; j < c; ++j)
      softmax.data()[r * c + j] = static_cast<T>(std::exp(static_cast<double>(xr[j]) - m) / z);
    total += m + std::log(z) - static_cast<double>(xr[labels[static_cast<std::size_t>(r)]]);
  }
  const double scale = detail::reduction_scale(reduction, n);
  return make_result(Tensor<T>::scalar(static_cast<T>(total * scale)), op, {logits},
                     [softmax, labels, n, c, scale](const Tensor<T>& dy, GradSlots<T>& g) {
                       const double k = scale * static_cast<double>(dy[0]);
                       T* gx = g[0].data();
                       for (std::int64_t r = 0; r < n; ++r) {
                         const std::int64_t label = labels[static_cast<std::size_t>(r)];
                         for (std::int64_t j = 0; j < c; ++j) {
                           const double p = static_cast<double>(softmax[r * c + j]);
                           gx[r * c + j] += static_cast<T>(k * (p - (j == label ? 1.0 : 0.0)));
                         }
                       }
                     });
}

// Independent sigmoid per class against one-hot targets: bce_with_logits over all N * C
// elements (mean over N * C by default).
template <class T>
Var<T> sigmoid_cross_entropy(const Var<T>& logits, const std::vector<std::int64_t>& labels,
                             Reduction reduction = Reduction::mean) {
  detail::check_labels("sigmoid_cross_entropy", logits, labels);
  const std::int64_t c = logits.dim(1);
  Tensor<T> onehot = Tensor<T>::zeros(logits.shape());
  for (std::size_t r = 0; r < labels.size(); ++r) onehot[static_cast<std::int64_t>(r) * c + labels[r]] = T(1);
  return bce_with_logits(logits, onehot, reduction);
}

}  // namespace gan
