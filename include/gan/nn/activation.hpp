#pragma once
// Activation layers: stateless wrappers over gan/ops/activations.hpp, so activations can
// sit in a Sequential. Defaults follow torch.nn (LeakyReLU slope 0.01, ELU alpha 1).

#include <cmath>
#include <optional>
#include <string>

#include "gan/nn/module.hpp"
#include "gan/ops/activations.hpp"

namespace gan {
namespace nn {

template <class T = float>
class ReLU : public Layer<T> {
 public:
  Var<T> forward(const Var<T>& x) override { return gan::relu(x); }
  std::string describe() const override { return "ReLU()"; }
  std::optional<double> leaky_slope() const override { return 0.0; }
};

template <class T = float>
class LeakyReLU : public Layer<T> {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : slope_(negative_slope) {
    check(std::isfinite(slope_), "LeakyReLU: negative_slope must be finite, got ", slope_);
  }
  Var<T> forward(const Var<T>& x) override { return gan::leaky_relu(x, slope_); }
  std::string describe() const override { return gan::detail::concat("LeakyReLU(", slope_, ")"); }
  double negative_slope() const { return slope_; }
  std::optional<double> leaky_slope() const override { return slope_; }

 private:
  double slope_;
};

template <class T = float>
class ELU : public Layer<T> {
 public:
  explicit ELU(double alpha = 1.0) : alpha_(alpha) {
    check(std::isfinite(alpha_), "ELU: alpha must be finite, got ", alpha_);
  }
  Var<T> forward(const Var<T>& x) override { return gan::elu(x, alpha_); }
  std::string describe() const override { return gan::detail::concat("ELU(alpha=", alpha_, ")"); }
  double alpha() const { return alpha_; }

 private:
  double alpha_;
};

template <class T = float>
class Tanh : public Layer<T> {
 public:
  Var<T> forward(const Var<T>& x) override { return gan::tanh(x); }
  std::string describe() const override { return "Tanh()"; }
};

template <class T = float>
class Sigmoid : public Layer<T> {
 public:
  Var<T> forward(const Var<T>& x) override { return gan::sigmoid(x); }
  std::string describe() const override { return "Sigmoid()"; }
};

}  // namespace nn
}  // namespace gan
