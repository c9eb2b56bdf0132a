#pragma once
// gan::conv2d: differentiable 2-D convolution (groups = 1), like torch.nn.functional.conv2d.
// Validation, the kernel call and the backward rule sit together; the math is in
// kernels/conv2d.hpp.

#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/kernels/conv2d.hpp"
#include "gan/kernels/conv_geometry.hpp"

namespace gan {

// stride, padding and dilation, each one integer for both axes or {h, w}:
// Conv2dParams{2, 1} is stride 2, padding 1; Conv2dParams{{2, 1}, {0, 1}} differs per axis.
struct Conv2dParams {
  kernels::Size2 stride = 1;
  kernels::Size2 padding = 0;
  kernels::Size2 dilation = 1;
};

namespace detail {
// Checks x (N, C, H, W), w (OC, C, KH, KW), b (OC) or undefined, and returns the geometry.
template <class T>
kernels::ConvShape conv2d_geometry(const Var<T>& x, const Var<T>& w, const Var<T>& b, const Conv2dParams& p) {
  check(x.defined() && w.defined(), "conv2d: input and weight must be defined");
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  check(xs.rank() == 4, "conv2d: input ", xs, " must have rank 4 (N, C, H, W); weight is ", ws);
  check(ws.rank() == 4, "conv2d: weight ", ws, " must have rank 4 (out_channels, in_channels, KH, KW); input is ", xs);
  check(xs[1] == ws[1], "conv2d: input ", xs, " has ", xs[1], " channels but weight ", ws, " expects ", ws[1]);
  if (b.defined())
    check(b.shape() == Shape{ws[0]}, "conv2d: bias ", b.shape(), " does not match weight ", ws, ", expected (", ws[0],
          ")");
  kernels::ConvShape s = kernels::conv_shape(xs, ws[0], {ws[2], ws[3]}, p.stride, p.padding, p.dilation);
  s.validate("conv2d");
  return s;
}

template <class T>
std::vector<Var<T>> inputs_with_optional_bias(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  return b.defined() ? std::vector<Var<T>>{x, w, b} : std::vector<Var<T>>{x, w};
}
}  // namespace detail

// y = conv(x, w) + b.  x: (N, C, H, W), w: (OC, C, KH, KW), b: (OC) or Var() for no bias;
// y: (N, OC, OH, OW) with OH = floor((H + 2p - d(KH - 1) - 1) / s) + 1.
template <class T>
Var<T> conv2d(const Var<T>& x, const Var<T>& w, const Var<T>& b = Var<T>(), const Conv2dParams& p = {}) {
  const kernels::ConvShape s = detail::conv2d_geometry(x, w, b, p);
  Tensor<T> y = Tensor<T>::empty(s.output_shape());
  kernels::conv2d_forward(y.data(), x.value().data(), w.value().data(), b.defined() ? b.value().data() : nullptr, s);

  // Each gradient needs only the other operand: keep x alive only if w wants a gradient.
  const Tensor<T> xv = w.requires_grad() ? x.value() : Tensor<T>();
  const Tensor<T> wv = x.requires_grad() ? w.value() : Tensor<T>();
  const bool has_bias = b.defined();
  return make_result(std::move(y), "conv2d", detail::inputs_with_optional_bias(x, w, b),
                     [xv, wv, s, has_bias](const Tensor<T>& dy, GradSlots<T>& g) {
                       if (g.needs(0)) {
                         bool assign = false;
                         T* dx = g.for_write(0, assign).data();
                         kernels::conv2d_backward_data(dx, dy.data(), wv.data(), s, !assign);
                       }
                       T* dw = g.needs(1) ? g[1].data() : nullptr;
                       T* db = has_bias && g.needs(2) ? g[2].data() : nullptr;
                       if (dw || db) kernels::conv2d_backward_weight(dw, db, dy.data(), xv.data(), s);
                     });
}

}  // namespace gan
