#pragma once
// Adam (Kingma & Ba, 2015) with torch.optim.Adam's exact update, including its bias
// correction and its L2 weight decay (added to the gradient); decoupled_weight_decay turns
// it into AdamW. One flat loop per parameter tensor, as llm.c's gpt2_update.

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "gan/kernels/adam.hpp"
#include "gan/optim/optimizer.hpp"

namespace gan {
namespace optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;    // DCGAN uses 0.5
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled_weight_decay = false;  // AdamW: shrink the weights, not the gradient
  bool amsgrad = false;                 // divide by the running maximum of v (Reddi et al.)
};

template <class T = float>
class Adam : public Optimizer<T> {
  static_assert(std::is_floating_point_v<T>, "Adam updates floating-point parameters");

 public:
  // The options' lr and weight_decay become the first group's; add_param_group adds more.
  Adam(std::vector<Var<T>> params, AdamOptions options = {}) : options_(options) {
    check(options.eps >= 0, "Adam: invalid eps ", options.eps);
    check(options.beta1 >= 0 && options.beta1 < 1, "Adam: invalid beta1 ", options.beta1, " (need 0 <= beta1 < 1)");
    check(options.beta2 >= 0 && options.beta2 < 1, "Adam: invalid beta2 ", options.beta2, " (need 0 <= beta2 < 1)");
    this->add_first_group(std::move(params), options.lr, options.weight_decay);
  }

  std::string name() const override { return options_.decoupled_weight_decay ? "AdamW" : "Adam"; }
  const AdamOptions& options() const { return options_; }

 protected:
  std::vector<std::string> buffer_names() const override {
    if (options_.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    return {"exp_avg", "exp_avg_sq"};
  }

  // For each parameter p with gradient g, at its step t = 1, 2, ...:
  //   g  = g + wd * p                         (L2; AdamW instead does p *= 1 - lr * wd)
  //   m  = m + (1 - b1) * (g - m)             (torch's lerp; = b1 m + (1 - b1) g)
  //   v  = b2 * v + (1 - b2) * g * g
  //   vm = max(vm, v) if amsgrad, else v
  //   p -= lr / (1 - b1^t) * m / (sqrt(vm) / sqrt(1 - b2^t) + eps)
  // Scalars are computed in double and applied in T, as PyTorch does for float tensors.
  void update(Tensor<T>& param, const Tensor<T>& grad, ParamState<T>& state, double lr, double wd) const override {
    const double t = static_cast<double>(state.advance());
    const double bias_correction1 = 1 - std::pow(options_.beta1, t);
    const double bias_correction2_sqrt = std::sqrt(1 - std::pow(options_.beta2, t));
    const bool decoupled = options_.decoupled_weight_decay;
    kernels::AdamCoefficients<T> c;
    c.l2 = static_cast<T>(decoupled ? 0.0 : wd);
    c.shrink = static_cast<T>(decoupled ? 1 - lr * wd : 1.0);
    // torch's lerp(m, g, w) switches formula at w = 0.5 (exact at w = 1); copying it keeps
    // beta1 <= 0.5 (DCGAN's 0.5) rounding like PyTorch's references do.
    c.w = static_cast<T>(1 - options_.beta1);
    c.lerp_from_end = !(c.w < T(0.5));
    c.beta2 = static_cast<T>(options_.beta2);
    c.one_minus_beta2 = static_cast<T>(1 - options_.beta2);
    c.neg_step_size = static_cast<T>(-lr / bias_correction1);
    c.bias_correction2_sqrt = static_cast<T>(bias_correction2_sqrt);
    c.eps = static_cast<T>(options_.eps);
    c.amsgrad = options_.amsgrad;
    kernels::adam_update(param.data(), grad.data(), state.buffers[0].data(), state.buffers[1].data(),
                         c.amsgrad ? state.buffers[2].data() : nullptr, param.numel(), c);
  }

 private:
  AdamOptions options_;
};

}  // namespace optim
}  // namespace gan
