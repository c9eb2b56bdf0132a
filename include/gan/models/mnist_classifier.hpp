#pragma once
// The reference classifier that judges generators on 28x28 grey images (MNIST,
// Fashion-MNIST): its softmax gives the classifier-based Inception Score and the class
// histogram, its penultimate layer the features of the Fréchet distance (gan/metrics).
//
//   x (N, 1, 28, 28) in [-1, 1]
//   conv k3 s1 p1 -> w x 28 -> ReLU -> conv k4 s2 p1 -> w x 14 -> ReLU
//   -> conv k4 s2 p1 -> 2w x 7 -> ReLU -> flatten -> linear -> hidden -> ReLU   = features
//   -> linear -> classes                                                         = logits
//
// No batch norm and no dropout, so train() and eval() compute the same function and a
// batch of generated samples cannot shift the statistics it is judged by.

#include <cstdint>
#include <memory>
#include <string>

#include "gan/nn/activation.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/linear.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/nn/shape_layers.hpp"
#include "gan/ops/activations.hpp"
#include "gan/ops/shape_ops.hpp"

namespace gan {
namespace models {

struct MnistClassifierOptions {
  std::int64_t width = 32;    // w above
  std::int64_t hidden = 128;  // feature dimension of the Fréchet distance
  std::int64_t classes = 10;
};

template <class T = float>
class MnistClassifier : public nn::Layer<T> {
 public:
  explicit MnistClassifier(const MnistClassifierOptions& o = {}) : options_(o) {
    check(o.width > 0 && o.hidden > 0 && o.classes > 1, "MnistClassifier: width, hidden must be > 0 and classes > 1");
    const std::int64_t w = o.width;
    auto f = std::make_shared<nn::Sequential<T>>();
    f->push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{1, w, 3, 1, 1, 1, true}));
    f->push_back(std::make_shared<nn::ReLU<T>>());
    f->push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{w, w, 4, 2, 1, 1, true}));
    f->push_back(std::make_shared<nn::ReLU<T>>());
    f->push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{w, 2 * w, 4, 2, 1, 1, true}));
    f->push_back(std::make_shared<nn::ReLU<T>>());
    f->push_back(std::make_shared<nn::Flatten<T>>());
    nn::LinearOptions l1;
    l1.in = 2 * w * 7 * 7, l1.out = o.hidden;
    f->push_back(std::make_shared<nn::Linear<T>>(l1));
    f->push_back(std::make_shared<nn::ReLU<T>>());
    features_ = this->register_module("features", f);
    nn::LinearOptions l2;
    l2.in = o.hidden, l2.out = o.classes;
    head_ = this->register_module("head", std::make_shared<nn::Linear<T>>(l2));
  }

  // (N, 1, 28, 28) -> (N, hidden): the penultimate layer.
  Var<T> features(const Var<T>& x) {
    const Shape& s = x.shape();
    check(s.rank() == 4 && s[1] == 1 && s[2] == 28 && s[3] == 28, describe(), ": input ", s,
          " should be (N, 1, 28, 28)");
    return features_->forward(x);
  }
  // (N, 1, 28, 28) -> logits (N, classes).
  Var<T> forward(const Var<T>& x) override { return head_->forward(features(x)); }
  Var<T> head(const Var<T>& features) { return head_->forward(features); }

  const MnistClassifierOptions& options() const { return options_; }
  std::string describe() const override {
    return gan::detail::concat("MnistClassifier(width ", options_.width, ", hidden ", options_.hidden, ", ",
                               options_.classes, " classes)");
  }

 private:
  MnistClassifierOptions options_;
  std::shared_ptr<nn::Sequential<T>> features_;
  std::shared_ptr<nn::Linear<T>> head_;
};

}  // namespace models
}  // namespace gan
