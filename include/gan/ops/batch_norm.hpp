#pragma once
// batch_norm: differentiable batch normalisation (Ioffe & Szegedy 2015) over x of shape
// (N, C), (N, C, L) or (N, C, H, W) (any rank >= 2: statistics per channel over every
// axis but 1). The math lives in kernels/norm.hpp; this file validates, picks the
// statistics and records the node. detail::normalize is shared with instance_norm.

#include <cstdint>
#include <utility>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/kernels/norm.hpp"

namespace gan {

struct BatchNormParams {
  bool use_batch_stats = true;  // training: normalise with this batch's statistics
  double momentum = 0.1;        // running = (1 - momentum) * running + momentum * batch
  double eps = 1e-5;
};

namespace detail {

// (N, C, S) view of x, or an error naming `op` and the shape.
template <class T>
kernels::NormShape norm_shape(const char* op, const Var<T>& x, int min_rank) {
  check(x.defined(), op, ": input is undefined");
  check(x.value().rank() >= min_rank, op, ": expected an input of rank >= ", min_rank, " (N, C, ...), got ",
        x.shape());
  check(x.numel() > 0, op, ": empty input ", x.shape());
  kernels::NormShape s;
  s.n = x.dim(0);
  s.c = x.dim(1);
  s.s = x.numel() / (s.n * s.c);
  return s;
}

// A per-channel tensor (gamma, beta, running stats) must have shape (C).
inline void check_per_channel(const char* op, const char* what, const Shape& t, const Shape& x) {
  check(t == Shape{x[1]}, op, ": ", what, " has shape ", t, " but input ", x, " has ", x[1],
        " channels; expected (", x[1], ")");
}

template <class T>
void check_affine(const char* op, const Var<T>& x, const Var<T>& gamma, const Var<T>& beta) {
  if (gamma.defined()) check_per_channel(op, "weight", gamma.shape(), x.shape());
  if (beta.defined()) check_per_channel(op, "bias", beta.shape(), x.shape());
}

template <class T>
kernels::NormShape check_batch_norm_inputs(const char* op, const Var<T>& x, const Var<T>& gamma, const Var<T>& beta,
                                           const Tensor<T>& running_mean, const Tensor<T>& running_var, double eps) {
  const kernels::NormShape s = norm_shape(op, x, 2);
  check_affine(op, x, gamma, beta);
  check(running_mean.defined() == running_var.defined(), op,
        ": running_mean and running_var must both be given or both be undefined");
  if (running_mean.defined()) {
    check_per_channel(op, "running_mean", running_mean.shape(), x.shape());
    check_per_channel(op, "running_var", running_var.shape(), x.shape());
  }
  check(eps >= 0, op, ": eps must be >= 0, got ", eps);
  return s;
}

// Records y = (x - mean) * invstd * gamma + beta for given statistics (see kernels/norm.hpp
// for through_stats). gamma and beta may be undefined (affine = false). A negative_slope
// other than 1 applies y < 0 ? negative_slope * y : y in the same pass, forward and backward.
template <class T>
Var<T> normalize(const char* op, const Var<T>& x, const Var<T>& gamma, const Var<T>& beta,
                 const kernels::NormShape& s, Tensor<T> mean, Tensor<T> invstd, bool through_stats,
                 double negative_slope = 1.0) {
  check(negative_slope >= 0, op, ": a fused activation needs negative_slope >= 0, got ", negative_slope);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const Tensor<T> xv = x.value();
  const Tensor<T> gv = gamma.defined() ? gamma.value() : Tensor<T>();
  const Tensor<T> bv = beta.defined() ? beta.value() : Tensor<T>();
  const T slope = static_cast<T>(negative_slope);
  kernels::norm_forward(y.data(), xv.data(), mean.data(), invstd.data(), gv.data(), bv.data(), s, slope);
  const Tensor<T> activated = slope != T(1) ? y : Tensor<T>();  // the backward's mask

  // Undefined gamma/beta are not graph inputs, so slot indices depend on which are given.
  std::vector<Var<T>> inputs{x};
  const int gi = gamma.defined() ? static_cast<int>(inputs.size()) : -1;
  if (gamma.defined()) inputs.push_back(gamma);
  const int bi = beta.defined() ? static_cast<int>(inputs.size()) : -1;
  if (beta.defined()) inputs.push_back(beta);

  return make_result(std::move(y), op, inputs,
                     [xv, gv, mean, invstd, s, gi, bi, through_stats, activated, slope](const Tensor<T>& dy,
                                                                                       GradSlots<T>& g) {
                       bool assign = false;
                       T* dx = g.needs(0) ? g.for_write(0, assign).data() : nullptr;
                       T* dgamma = gi >= 0 && g.needs(gi) ? g[gi].data() : nullptr;
                       T* dbeta = bi >= 0 && g.needs(bi) ? g[bi].data() : nullptr;
                       kernels::norm_backward(dx, dgamma, dbeta, dy.data(), xv.data(), mean.data(), invstd.data(),
                                              gv.data(), s, through_stats, !assign, activated.data(), slope);
                     });
}

}  // namespace detail

// batch_norm (below) followed by y < 0 ? negative_slope * y : y (ReLU for 0, LeakyReLU for a slope
// in (0, 1]; 1: none) as one op: one pass over memory forward and one fewer backward, and the
// same bits as batch_norm then relu / leaky_relu. nn::Sequential uses it for BatchNorm + ReLU
// / LeakyReLU pairs. negative_slope must be >= 0 (the backward reads the mask off y).
template <class T>
Var<T> batch_norm_then_leaky(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, Tensor<T> running_mean,
                             Tensor<T> running_var, const BatchNormParams& p, double negative_slope) {
  const char* op = "batch_norm";
  const kernels::NormShape s = detail::check_batch_norm_inputs(op, x, gamma, beta, running_mean, running_var, p.eps);

  Tensor<T> mean, var;
  if (p.use_batch_stats) {
    check(s.group_size() > 1, op, ": Expected more than 1 value per channel when training, got input of shape ",
          x.shape());
    mean = Tensor<T>::empty(Shape{s.c});
    var = Tensor<T>::empty(Shape{s.c});
    kernels::norm_statistics(mean.data(), var.data(), x.value().data(), s);
    if (running_mean.defined())
      kernels::norm_update_running(running_mean.data(), running_var.data(), mean.data(), var.data(), s.c,
                                   s.group_size(), p.momentum);
  } else {
    check(running_mean.defined(), op, ": use_batch_stats = false needs running_mean and running_var");
    // Copies: a later training step updates the running tensors in place, and this
    // graph's backward must still see the statistics its forward used.
    mean = running_mean.clone();
    var = running_var;
  }
  Tensor<T> invstd = Tensor<T>::empty(Shape{s.c});
  kernels::norm_inverse_std(invstd.data(), var.data(), s.c, p.eps);
  return detail::normalize(op, x, gamma, beta, s, std::move(mean), std::move(invstd), p.use_batch_stats,
                           negative_slope);
}

// y = (x - mean) / sqrt(var + eps) * gamma + beta, per channel.
// use_batch_stats: mean and biased var of this batch; running_mean/running_var, when
//   defined, are updated in place (PyTorch momentum, unbiased variance). Throws when a
//   channel has a single value (N * S == 1), as PyTorch does in training.
// otherwise: the running statistics (then required) are constants and the op is affine.
// gamma/beta: (C) parameters or undefined Vars (affine = false). running tensors: (C),
// both defined or both undefined; they share storage with the caller's (handles).
template <class T>
Var<T> batch_norm(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, Tensor<T> running_mean,
                  Tensor<T> running_var, const BatchNormParams& p = {}) {
  return batch_norm_then_leaky(x, gamma, beta, std::move(running_mean), std::move(running_var), p, 1.0);
}

}  // namespace gan
