#pragma once
// Conditional discriminator: the condition (a source image for pix2pix, constant one-hot
// label maps for a cGAN, see one_hot_maps) is concatenated to the judged image as extra
// channels, so D learns whether the pair fits, not only whether the image looks real.

#include <memory>
#include <string>
#include <vector>

#include "gan/nn/module.hpp"
#include "gan/ops/shape_ops.hpp"

namespace gan {
namespace models {

template <class T = float>
class ConditionalDiscriminator : public nn::Module<T> {
 public:
  // `body` must accept image channels + condition channels.
  explicit ConditionalDiscriminator(std::shared_ptr<nn::Layer<T>> body) {
    check(body != nullptr, "ConditionalDiscriminator: body is null");
    body_ = this->register_module("body", std::move(body));
  }

  // image: (N, C, H, W); condition: (N, K, H, W) with the same N, H, W.
  Var<T> forward(const Var<T>& image, const Var<T>& condition) {
    check(image.shape().rank() == 4 && condition.shape().rank() == 4 && image.dim(0) == condition.dim(0) &&
              image.dim(2) == condition.dim(2) && image.dim(3) == condition.dim(3),
          describe(), ": image ", image.shape(), " and condition ", condition.shape(),
          " must agree in batch, height and width");
    return body_->forward(concat(std::vector<Var<T>>{image, condition}, 1));
  }
  Var<T> operator()(const Var<T>& image, const Var<T>& condition) { return forward(image, condition); }

  std::string describe() const override { return "ConditionalDiscriminator(" + body_->describe() + ")"; }

 private:
  std::shared_ptr<nn::Layer<T>> body_;
};

}  // namespace models
}  // namespace gan
