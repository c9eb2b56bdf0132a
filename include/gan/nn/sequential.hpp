#pragma once
// Sequential: layers applied in order, registered as children "0", "1", ... so parameter
// names match PyTorch's nn.Sequential ("0.weight", "3.bias") and checkpoints line up.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gan/nn/module.hpp"

namespace gan {
namespace nn {

template <class T = float>
class Sequential : public Layer<T> {
 public:
  Sequential() = default;

  // Sequential<float>(std::make_shared<Conv2d<>>(...), std::make_shared<ReLU<>>(), ...)
  template <class First, class... Rest>
  explicit Sequential(std::shared_ptr<First> first, std::shared_ptr<Rest>... rest) {
    push_back(std::move(first));
    (push_back(std::move(rest)), ...);
  }

  // Appends `layer` as child str(size()). Returns *this so calls can be chained.
  Sequential& push_back(std::shared_ptr<Layer<T>> layer) {
    check(layer != nullptr, "Sequential: cannot add a null layer at position ", layers_.size());
    layers_.push_back(this->register_module(std::to_string(layers_.size()), std::move(layer)));
    return *this;
  }

  // An empty Sequential is the identity, as in PyTorch. An error inside layer i is
  // re-thrown with the position prepended, so nested blocks give a path: "[2] > [0] > ...".
  Var<T> forward(const Var<T>& x) override {
    Var<T> h = x;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      try {
        h = layers_[i]->forward(h);
      } catch (const Error& e) {
        fail("Sequential[", i, "] > ", e.what());
      }
    }
    return h;
  }

  std::size_t size() const { return layers_.size(); }
  bool empty() const { return layers_.empty(); }
  const std::shared_ptr<Layer<T>>& operator[](std::size_t i) const {
    check(i < layers_.size(), "Sequential: index ", i, " out of range for ", layers_.size(), " layers");
    return layers_[i];
  }
  auto begin() const { return layers_.begin(); }
  auto end() const { return layers_.end(); }

  // One line: "Sequential(Conv2d(3->64, k=4, s=2, p=1), LeakyReLU(0.2), ...)".
  std::string describe() const override {
    std::string s = "Sequential(";
    for (std::size_t i = 0; i < layers_.size(); ++i) s += (i ? ", " : "") + layers_[i]->describe();
    return s + ")";
  }

 private:
  std::vector<std::shared_ptr<Layer<T>>> layers_;
};

}  // namespace nn
}  // namespace gan
