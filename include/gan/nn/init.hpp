#pragma once
// Parameter initialisers with PyTorch's names and formulas (torch.nn.init), so a recipe
// written for PyTorch starts from the same distributions here. Each fills a tensor in place
// from a seeded Rng (gan::default_rng() unless one is given); the Var overloads fill the
// parameter's value, so `init::normal_(conv.weight(), 0, 0.02)` works on a layer directly.

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "gan/autograd/variable.hpp"
#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"

namespace gan {
namespace nn {
namespace init {

enum class FanMode { fan_in, fan_out };
enum class Nonlinearity { linear, conv, sigmoid, tanh, relu, leaky_relu, selu };

// PyTorch's rule for a weight of shape (out, in, k...): fan_in = in * prod(k), fan_out =
// out * prod(k). For a transposed conv weight (in, out, k...) that makes fan_in the layer's
// out * prod(k), exactly as PyTorch computes it.
template <class T>
std::pair<std::int64_t, std::int64_t> fans(const Tensor<T>& t) {
  check(t.rank() >= 2, "init: fan in and fan out need a tensor of rank >= 2, got shape ", t.shape());
  std::int64_t receptive = 1;
  for (int i = 2; i < t.rank(); ++i) receptive *= t.dim(i);
  return {t.dim(1) * receptive, t.dim(0) * receptive};
}
template <class T>
std::int64_t fan_in(const Tensor<T>& t) {
  return fans(t).first;
}
template <class T>
std::int64_t fan_out(const Tensor<T>& t) {
  return fans(t).second;
}

// torch.nn.init.calculate_gain; `param` is leaky_relu's negative slope.
inline double calculate_gain(Nonlinearity f, double param = 0.01) {
  switch (f) {
    case Nonlinearity::tanh: return 5.0 / 3.0;
    case Nonlinearity::relu: return std::sqrt(2.0);
    case Nonlinearity::leaky_relu: return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::selu: return 3.0 / 4.0;
    default: return 1.0;  // linear, conv, sigmoid
  }
}

template <class T>
void uniform_(Tensor<T>& t, double a = 0.0, double b = 1.0, Rng& rng = default_rng()) {
  fill_uniform(t, a, b, rng);
}
template <class T>
void normal_(Tensor<T>& t, double mean = 0.0, double stddev = 1.0, Rng& rng = default_rng()) {
  fill_normal(t, mean, stddev, rng);
}
template <class T>
void constant_(Tensor<T>& t, double value) {
  t.fill(static_cast<T>(value));
}
template <class T>
void zeros_(Tensor<T>& t) {
  t.zero();
}
template <class T>
void ones_(Tensor<T>& t) {
  t.fill(T(1));
}

// Glorot & Bengio (2010): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)). TensorFlow's
// default kernel initialiser, which the TF-1 recipes in docs/ rely on.
template <class T>
void glorot_uniform_(Tensor<T>& t, double gain = 1.0, Rng& rng = default_rng()) {
  const auto [in, out] = fans(t);
  const double a = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  fill_uniform(t, -a, a, rng);
}
template <class T>
void glorot_normal_(Tensor<T>& t, double gain = 1.0, Rng& rng = default_rng()) {
  const auto [in, out] = fans(t);
  fill_normal(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), rng);
}
template <class T>
void xavier_uniform_(Tensor<T>& t, double gain = 1.0, Rng& rng = default_rng()) {
  glorot_uniform_(t, gain, rng);
}
template <class T>
void xavier_normal_(Tensor<T>& t, double gain = 1.0, Rng& rng = default_rng()) {
  glorot_normal_(t, gain, rng);
}

namespace detail {
template <class T>
double kaiming_std(const Tensor<T>& t, double a, FanMode mode, Nonlinearity f) {
  const std::int64_t fan = mode == FanMode::fan_in ? fan_in(t) : fan_out(t);
  check(fan > 0, "init: kaiming initialisation of a tensor with zero fan, shape ", t.shape());
  return calculate_gain(f, a) / std::sqrt(static_cast<double>(fan));
}
}  // namespace detail

// He et al. (2015): U(-b, b), b = gain(f, a) * sqrt(3 / fan). With a = sqrt(5) and
// leaky_relu this is PyTorch's default for Conv2d / Linear weights: b = 1 / sqrt(fan_in).
template <class T>
void kaiming_uniform_(Tensor<T>& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                      Nonlinearity f = Nonlinearity::leaky_relu, Rng& rng = default_rng()) {
  const double bound = std::sqrt(3.0) * detail::kaiming_std(t, a, mode, f);
  fill_uniform(t, -bound, bound, rng);
}
// N(0, std^2), std = gain(f, a) / sqrt(fan).
template <class T>
void kaiming_normal_(Tensor<T>& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                     Nonlinearity f = Nonlinearity::leaky_relu, Rng& rng = default_rng()) {
  fill_normal(t, 0.0, detail::kaiming_std(t, a, mode, f), rng);
}

// The same, on a parameter's value (handles share storage, so a temporary Var is fine).
template <class T>
void uniform_(Var<T> v, double a = 0.0, double b = 1.0, Rng& rng = default_rng()) { uniform_(v.value(), a, b, rng); }
template <class T>
void normal_(Var<T> v, double mean = 0.0, double stddev = 1.0, Rng& rng = default_rng()) {
  normal_(v.value(), mean, stddev, rng);
}
template <class T>
void constant_(Var<T> v, double value) { constant_(v.value(), value); }
template <class T>
void zeros_(Var<T> v) { zeros_(v.value()); }
template <class T>
void ones_(Var<T> v) { ones_(v.value()); }
template <class T>
void glorot_uniform_(Var<T> v, double gain = 1.0, Rng& rng = default_rng()) { glorot_uniform_(v.value(), gain, rng); }
template <class T>
void xavier_uniform_(Var<T> v, double gain = 1.0, Rng& rng = default_rng()) { glorot_uniform_(v.value(), gain, rng); }
template <class T>
void glorot_normal_(Var<T> v, double gain = 1.0, Rng& rng = default_rng()) { glorot_normal_(v.value(), gain, rng); }
template <class T>
void xavier_normal_(Var<T> v, double gain = 1.0, Rng& rng = default_rng()) { glorot_normal_(v.value(), gain, rng); }
template <class T>
void kaiming_uniform_(Var<T> v, double a = 0.0, FanMode mode = FanMode::fan_in,
                      Nonlinearity f = Nonlinearity::leaky_relu, Rng& rng = default_rng()) {
  kaiming_uniform_(v.value(), a, mode, f, rng);
}
template <class T>
void kaiming_normal_(Var<T> v, double a = 0.0, FanMode mode = FanMode::fan_in,
                     Nonlinearity f = Nonlinearity::leaky_relu, Rng& rng = default_rng()) {
  kaiming_normal_(v.value(), a, mode, f, rng);
}

}  // namespace init
}  // namespace nn
}  // namespace gan
