#pragma once
// nn::Linear: y = x w^T + b with PyTorch's options, parameter names ("weight" (out, in),
// "bias" (out)) and default initialisation. Input (N, in): flatten images first
// (nn::Flatten); the error message says so when that is the likely mistake.

#include <cstdint>
#include <string>

#include "gan/core/random.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/module.hpp"
#include "gan/ops/linear.hpp"

namespace gan {
namespace nn {

struct LinearOptions {
  std::int64_t in = 0;   // input features
  std::int64_t out = 0;  // output features
  bool bias = true;
};

template <class T = float>
class Linear : public Layer<T> {
 public:
  explicit Linear(const LinearOptions& o, Rng& rng = default_rng()) : options_(o) {
    check(o.in >= 1 && o.out >= 1, describe(), ": in and out features must be >= 1");
    Tensor<T> w = detail::torch_default_weight<T>(Shape{o.out, o.in}, rng);
    weight_ = this->register_parameter("weight", w);
    if (o.bias) bias_ = this->register_parameter("bias", detail::torch_default_bias<T>(o.out, w, rng));
  }

  // x: (N, in) -> (N, out).
  Var<T> forward(const Var<T>& x) override {
    check(x.defined(), describe(), ": input is undefined");
    const Shape& s = x.shape();
    check(s.rank() == 2, describe(), ": input ", s, " must have rank 2 (N, ", options_.in, ")",
          flatten_hint(s));
    check(s[1] == options_.in, describe(), ": input ", s, " has last dimension ", s[1], ", expected ", options_.in);
    return linear(x, weight_, bias_);
  }

  // "Linear(6272->1)", plus ", bias=false".
  std::string describe() const override {
    return "Linear(" + std::to_string(options_.in) + "->" + std::to_string(options_.out) +
           (options_.bias ? ")" : ", bias=false)");
  }

  const LinearOptions& options() const { return options_; }
  Var<T> weight() const { return weight_; }
  Var<T> bias() const { return bias_; }  // undefined when options().bias is false

 private:
  std::string flatten_hint(const Shape& s) const {
    return s.rank() > 2 && s.numel() == s[0] * options_.in ? "; flatten it to (N, -1) first (nn::Flatten)" : "";
  }

  LinearOptions options_;
  Var<T> weight_;
  Var<T> bias_;
};

}  // namespace nn
}  // namespace gan
