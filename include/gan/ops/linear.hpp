#pragma once
// gan::linear: y = x w^T + b, like torch.nn.functional.linear. Every leading axis of x is a
// batch axis, so (N, in) and (N, T, in) both work; the passes are kernels/linear.hpp.

#include <cstdint>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/kernels/linear.hpp"

namespace gan {

// x: (..., in), w: (out, in), b: (out) or Var() for no bias; returns (..., out).
template <class T>
Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b = Var<T>()) {
  check(x.defined() && w.defined(), "linear: input and weight must be defined");
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  check(ws.rank() == 2, "linear: weight ", ws, " must have rank 2 (out_features, in_features); input is ", xs);
  check(xs.rank() >= 1, "linear: input ", xs, " must have rank >= 1 (..., in_features); weight is ", ws);
  const std::int64_t in = ws[1], out = ws[0];
  check(xs.dim(-1) == in, "linear: input ", xs, " has last dimension ", xs.dim(-1), " but weight ", ws, " expects ",
        in);
  if (b.defined())
    check(b.shape() == Shape{out}, "linear: bias ", b.shape(), " does not match weight ", ws, ", expected (", out, ")");

  std::vector<std::int64_t> dims = xs.to_vector();
  dims.back() = out;
  std::int64_t rows = 1;
  for (int i = 0; i + 1 < xs.rank(); ++i) rows *= xs[i];
  Tensor<T> y = Tensor<T>::empty(Shape(dims));
  kernels::linear_forward(y.data(), x.value().data(), w.value().data(), b.defined() ? b.value().data() : nullptr, rows,
                          in, out);

  const Tensor<T> xv = w.requires_grad() ? x.value() : Tensor<T>();
  const Tensor<T> wv = x.requires_grad() ? w.value() : Tensor<T>();
  const bool has_bias = b.defined();
  return make_result(
      std::move(y), "linear", b.defined() ? std::vector<Var<T>>{x, w, b} : std::vector<Var<T>>{x, w},
      [xv, wv, rows, in, out, has_bias](const Tensor<T>& dy, GradSlots<T>& g) {
        if (g.needs(0)) {
          bool assign = false;
          T* dx = g.for_write(0, assign).data();
          kernels::linear_backward_data(dx, dy.data(), wv.data(), rows, in, out, !assign);
        }
        T* const dw = g.needs(1) ? g[1].data() : nullptr;
        T* const db = has_bias && g.needs(2) ? g[2].data() : nullptr;
        kernels::linear_backward_weight(dw, db, dy.data(), xv.data(), rows, in, out);
      });
}

}  // namespace gan
