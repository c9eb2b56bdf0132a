#pragma once
// instance_norm: per-sample, per-channel normalisation (Ulyanov et al. 2016), the norm of
// CycleGAN / style-transfer generators. Same kernels as batch norm with statistics per
// (n, c) over the spatial axes; no running statistics (PyTorch InstanceNorm2d default
// track_running_stats = false), so training and evaluation compute the same thing.

#include "gan/ops/batch_norm.hpp"

namespace gan {

// instance_norm followed by y < 0 ? negative_slope * y : y as one op, like
// batch_norm_then_leaky (same bits as the two ops; negative_slope >= 0, 1 for none).
template <class T>
Var<T> instance_norm_then_leaky(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, double eps,
                                double negative_slope) {
  const char* op = "instance_norm";
  kernels::NormShape s = detail::norm_shape(op, x, 3);
  s.per_instance = true;
  detail::check_affine(op, x, gamma, beta);
  check(eps >= 0, op, ": eps must be >= 0, got ", eps);
  check(s.s > 1, op, ": Expected more than 1 spatial element, got input of shape ", x.shape());

  Tensor<T> mean = Tensor<T>::empty(Shape{s.n, s.c});
  Tensor<T> var = Tensor<T>::empty(Shape{s.n, s.c});
  kernels::norm_statistics(mean.data(), var.data(), x.value().data(), s);
  Tensor<T> invstd = std::move(var);  // var is not needed after this: reuse its buffer
  kernels::norm_inverse_std(invstd.data(), invstd.data(), s.groups(), eps);
  return detail::normalize(op, x, gamma, beta, s, std::move(mean), std::move(invstd), /*through_stats=*/true,
                           negative_slope);
}

// x: (N, C, L) or (N, C, H, W) (rank >= 3). gamma, beta: (C) or undefined (affine = false,
// the PyTorch default). Throws when the spatial size is 1: every output would be beta.
template <class T>
Var<T> instance_norm(const Var<T>& x, const Var<T>& gamma = Var<T>(), const Var<T>& beta = Var<T>(),
                     double eps = 1e-5) {
  return instance_norm_then_leaky(x, gamma, beta, eps, 1.0);
}

}  // namespace gan
