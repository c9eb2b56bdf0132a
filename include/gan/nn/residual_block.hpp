#pragma once
// Residual block (He et al. 2016; SRGAN's generator): conv-norm-act-conv-norm, plus the
// input. Channels and size are preserved, so blocks stack freely.

#include <memory>
#include <string>

#include "gan/nn/choices.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/ops/elementwise.hpp"

namespace gan {
namespace nn {

struct ResidualBlockOptions {
  std::int64_t channels = 64;
  std::int64_t kernel = 3;  // odd, so "same" padding keeps the size
  Norm norm = Norm::batch;
  Activation activation = Activation::ReLU();
};

template <class T = float>
class ResidualBlock : public Layer<T> {
 public:
  explicit ResidualBlock(const ResidualBlockOptions& o) : options_(o) {
    check(o.channels > 0, "ResidualBlock: channels must be positive, got ", o.channels);
    check(o.kernel > 0 && o.kernel % 2 == 1, "ResidualBlock: kernel must be odd to keep the size, got ", o.kernel);
    auto body = std::make_shared<Sequential<T>>();
    for (int i = 0; i < 2; ++i) {
      body->push_back(std::make_shared<Conv2d<T>>(
          Conv2dOptions{o.channels, o.channels, o.kernel, 1, o.kernel / 2, 1, o.norm == Norm::none}));
      if (auto n = make_norm2d<T>(o.norm, o.channels)) body->push_back(n);
      if (i == 0)
        if (auto a = make_activation<T>(o.activation)) body->push_back(a);
    }
    body_ = this->register_module("body", body);
  }

  Var<T> forward(const Var<T>& x) override { return add(body_->forward(x), x); }

  std::string describe() const override {
    return gan::detail::concat("ResidualBlock(", options_.channels, ", k=", options_.kernel, ", norm=",
                          to_string(options_.norm), ")");
  }

 private:
  ResidualBlockOptions options_;
  std::shared_ptr<Sequential<T>> body_;
};

}  // namespace nn
}  // namespace gan
