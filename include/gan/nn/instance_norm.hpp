#pragma once
// nn::InstanceNorm2d: torch::nn-shaped layer over gan::instance_norm. Like PyTorch's
// default there are no running statistics, so train() and eval() behave the same.
// Parameters "weight" (1) and "bias" (0) exist only when affine.

#include <cstdint>
#include <string>

#include "gan/nn/module.hpp"
#include "gan/ops/instance_norm.hpp"

namespace gan {
namespace nn {

struct InstanceNormOptions {
  std::int64_t num_features = 0;
  double eps = 1e-5;
  bool affine = false;
};

// Input (N, C, H, W). Unlike PyTorch (which only warns when affine = false), a channel
// count different from num_features is an error: it is always a wiring mistake.
template <class T = float>
class InstanceNorm2d : public Layer<T> {
 public:
  explicit InstanceNorm2d(const InstanceNormOptions& opt) : opt_(opt) {
    check(opt.num_features > 0, describe(), ": num_features must be positive");
    check(opt.eps >= 0, describe(), ": eps must be >= 0, got ", opt.eps);
    if (opt.affine) {
      weight_ = this->register_parameter("weight", Tensor<T>::ones(Shape{opt.num_features}));
      bias_ = this->register_parameter("bias", Tensor<T>::zeros(Shape{opt.num_features}));
    }
  }
  explicit InstanceNorm2d(std::int64_t num_features) : InstanceNorm2d(InstanceNormOptions{num_features}) {}

  std::string describe() const override { return "InstanceNorm2d(" + std::to_string(opt_.num_features) + ")"; }

  Var<T> forward(const Var<T>& x) override { return forward_impl(x, 1.0); }

  // Instance norm and the ReLU / LeakyReLU after it as one op (see Layer::forward_then_leaky).
  Var<T> forward_then_leaky(const Var<T>& x, double slope) override {
    return slope >= 0 ? forward_impl(x, slope) : Var<T>();
  }

  const InstanceNormOptions& options() const { return opt_; }
  Var<T> weight() const { return weight_; }  // undefined unless affine
  Var<T> bias() const { return bias_; }

 private:
  Var<T> forward_impl(const Var<T>& x, double slope) {
    check(x.defined(), describe(), ": input is undefined");
    check(x.value().rank() == 4, describe(), ": expected 4D (N, C, H, W) input, got ", x.shape());
    check(x.dim(1) == opt_.num_features, describe(), ": input ", x.shape(), " has ", x.dim(1),
          " channels, expected ", opt_.num_features);
    check(x.numel() > 0, describe(), ": empty input ", x.shape());
    check(x.dim(2) * x.dim(3) > 1, describe(), ": Expected more than 1 spatial element, got input of shape ",
          x.shape());
    return instance_norm_then_leaky(x, weight_, bias_, opt_.eps, slope);
  }

  InstanceNormOptions opt_;
  Var<T> weight_, bias_;
};

}  // namespace nn
}  // namespace gan
