#pragma once
// Reduction: how a loss folds its per-element terms into one value (PyTorch's
// reduction="mean" / "sum"; "none" is not offered: every loss here ends a graph).
// Also the shared body of the element-wise losses (bce, l1, mse): one fused node that
// sums in double and writes both gradients in one pass, instead of a chain of ops.

#include <cstdint>

#include "gan/autograd/variable.hpp"
#include "gan/core/parallel.hpp"

namespace gan {

enum class Reduction { mean, sum };

namespace detail {

inline double reduction_scale(Reduction r, std::int64_t terms) {
  return r == Reduction::mean ? 1.0 / static_cast<double>(terms) : 1.0;
}

// loss = reduce_i f(a_i, b_i); d loss / d a_i = scale * da(a_i, b_i), likewise for b.
// a is the prediction, b the target; b gets a gradient only when it requires one.
// The forward sum is serial so the loss is bit-identical for any thread count.
template <class T, class F, class Da, class Db>
Var<T> pointwise_loss(const char* op, const Var<T>& a, const Var<T>& b, Reduction r, F f, Da da, Db db) {
  check(a.defined() && b.defined(), op, ": input or target is undefined");
  check(a.shape() == b.shape(), op, ": input shape ", a.shape(), " and target shape ", b.shape(), " differ");
  check(a.numel() > 0, op, ": empty input ", a.shape());
  const Tensor<T> av = a.value(), bv = b.value();
  const std::int64_t n = av.numel();
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) total += f(static_cast<double>(av[i]), static_cast<double>(bv[i]));
  const double scale = reduction_scale(r, n);
  return make_result(Tensor<T>::scalar(static_cast<T>(total * scale)), op, {a, b},
                     [av, bv, n, scale, da, db](const Tensor<T>& dy, GradSlots<T>& g) {
                       const double k = scale * static_cast<double>(dy[0]);
                       const T* x = av.data();
                       const T* t = bv.data();
                       if (g.needs(0)) {
                         T* ga = g[0].data();
                         parallel_for(n, 20, [&](std::int64_t i) {
                           ga[i] += static_cast<T>(k * da(static_cast<double>(x[i]), static_cast<double>(t[i])));
                         });
                       }
                       if (g.needs(1)) {
                         T* gb = g[1].data();
                         parallel_for(n, 20, [&](std::int64_t i) {
                           gb[i] += static_cast<T>(k * db(static_cast<double>(x[i]), static_cast<double>(t[i])));
                         });
                       }
                     });
}

}  // namespace detail
}  // namespace gan
