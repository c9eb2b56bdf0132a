#pragma once
// Stochastic gradient descent with torch.optim.SGD's semantics: L2 weight decay added to
// the gradient, heavy-ball momentum whose buffer starts as the first gradient (not zero),
// dampening, and Nesterov's variant (Sutskever et al., 2013).

#include <string>
#include <type_traits>
#include <vector>

#include "gan/core/parallel.hpp"
#include "gan/optim/optimizer.hpp"

namespace gan {
namespace optim {

struct SGDOptions {
  double lr = 1e-3;  // torch.optim.SGD's default since 2.0
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0, as in PyTorch
};

template <class T = float>
class SGD : public Optimizer<T> {
  static_assert(std::is_floating_point_v<T>, "SGD updates floating-point parameters");

 public:
  // The options' lr and weight_decay become the first group's; add_param_group adds more.
  SGD(std::vector<Var<T>> params, SGDOptions options = {}) : options_(options) {
    check(options.momentum >= 0, "SGD: invalid momentum ", options.momentum);
    check(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
          "SGD: nesterov momentum requires momentum > 0 and dampening == 0 (momentum ", options.momentum,
          ", dampening ", options.dampening, ")");
    this->add_first_group(std::move(params), options.lr, options.weight_decay);
  }

  std::string name() const override { return "SGD"; }
  const SGDOptions& options() const { return options_; }

 protected:
  // Without momentum SGD keeps no buffer (only the step count), like PyTorch.
  std::vector<std::string> buffer_names() const override {
    if (options_.momentum != 0) return {"momentum_buffer"};
    return {};
  }

  // For each parameter p with gradient g:
  //   d = g + wd * p
  //   with momentum mu: buf = d on the parameter's first step, else mu * buf + (1 - dampening) * d;
  //                     d = nesterov ? d + mu * buf : buf
  //   p -= lr * d
  void update(Tensor<T>& param, const Tensor<T>& grad, ParamState<T>& state, double lr, double wd) const override {
    // The step count stands in for PyTorch's "momentum_buffer is None": zero means the
    // buffer has not been seeded yet, and it survives a checkpoint like the buffer does.
    const bool first = state.advance() == 1;
    const T l2 = static_cast<T>(wd);
    const T neg_lr = static_cast<T>(-lr);
    const T mu = static_cast<T>(options_.momentum);
    const T keep = static_cast<T>(1 - options_.dampening);
    const bool momentum = options_.momentum != 0;
    const bool nesterov = options_.nesterov;

    T* p = param.data();
    const T* g = grad.data();
    T* buf = momentum ? state.buffers[0].data() : nullptr;
    parallel_for(param.numel(), 8, [&](std::int64_t i) {
      T d = g[i] + l2 * p[i];
      if (momentum) {
        buf[i] = first ? d : mu * buf[i] + keep * d;
        d = nesterov ? d + mu * buf[i] : buf[i];
      }
      p[i] += neg_lr * d;
    });
  }

 private:
  SGDOptions options_;
};

}  // namespace optim
}  // namespace gan
