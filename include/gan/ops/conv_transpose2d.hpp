#pragma once
// gan::conv_transpose2d: differentiable transposed 2-D convolution (groups = 1), like
// torch.nn.functional.conv_transpose2d; the math is in kernels/conv_transpose2d.hpp.

#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_transpose2d.hpp"
#include "gan/ops/conv2d.hpp"

namespace gan {

// Each one integer for both axes or {h, w}. output_padding adds rows/columns at the bottom
// and right so a stride-s layer can produce every size that a stride-s conv maps down
// from; it must be smaller than the stride or the dilation.
struct ConvTranspose2dParams {
  kernels::Size2 stride = 1;
  kernels::Size2 padding = 0;
  kernels::Size2 output_padding = 0;
  kernels::Size2 dilation = 1;
};

namespace detail {
// Checks x (N, C, H, W), w (C, OC, KH, KW), b (OC) or undefined, and returns the geometry.
template <class T>
kernels::ConvShape conv_transpose2d_geometry(const Var<T>& x, const Var<T>& w, const Var<T>& b,
                                             const ConvTranspose2dParams& p) {
  check(x.defined() && w.defined(), "conv_transpose2d: input and weight must be defined");
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  check(xs.rank() == 4, "conv_transpose2d: input ", xs, " must have rank 4 (N, C, H, W); weight is ", ws);
  check(ws.rank() == 4, "conv_transpose2d: weight ", ws,
        " must have rank 4 (in_channels, out_channels, KH, KW); input is ", xs);
  check(xs[1] == ws[0], "conv_transpose2d: input ", xs, " has ", xs[1], " channels but weight ", ws, " expects ",
        ws[0]);
  if (b.defined())
    check(b.shape() == Shape{ws[1]}, "conv_transpose2d: bias ", b.shape(), " does not match weight ", ws,
          ", expected (", ws[1], ")");
  kernels::ConvShape s =
      kernels::conv_transpose_shape(xs, ws[1], {ws[2], ws[3]}, p.stride, p.padding, p.output_padding, p.dilation);
  s.validate("conv_transpose2d");
  return s;
}
}  // namespace detail

// y = conv_transpose(x, w) + b.  x: (N, C, H, W), w: (C, OC, KH, KW) (PyTorch's layout),
// b: (OC) or Var(); y: (N, OC, OH, OW) with OH = (H - 1)s - 2p + d(KH - 1) + output_padding + 1.
template <class T>
Var<T> conv_transpose2d(const Var<T>& x, const Var<T>& w, const Var<T>& b = Var<T>(),
                        const ConvTranspose2dParams& p = {}) {
  const kernels::ConvShape s = detail::conv_transpose2d_geometry(x, w, b, p);
  Tensor<T> y = Tensor<T>::empty(s.output_shape());
  kernels::conv_transpose2d_forward(y.data(), x.value().data(), w.value().data(),
                                    b.defined() ? b.value().data() : nullptr, s);

  const Tensor<T> xv = w.requires_grad() ? x.value() : Tensor<T>();
  const Tensor<T> wv = x.requires_grad() ? w.value() : Tensor<T>();
  const bool has_bias = b.defined();
  return make_result(std::move(y), "conv_transpose2d", detail::inputs_with_optional_bias(x, w, b),
                     [xv, wv, s, has_bias](const Tensor<T>& dy, GradSlots<T>& g) {
                       if (g.needs(0)) {
                         bool assign = false;
                         T* dx = g.for_write(0, assign).data();
                         kernels::conv_transpose2d_backward_data(dx, dy.data(), wv.data(), s, !assign);
                       }
                       T* dw = g.needs(1) ? g[1].data() : nullptr;
                       T* db = has_bias && g.needs(2) ? g[2].data() : nullptr;
                       if (dw || db) kernels::conv_transpose2d_backward_weight(dw, db, dy.data(), xv.data(), s);
                     });
}

}  // namespace gan
