#pragma once
// Sequential: layers applied in order, registered as children "0", "1", ... so parameter
// names match PyTorch's nn.Sequential ("0.weight", "3.bias") and checkpoints line up.

#include <cstddef>
#include <memory>
#include <optional>
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
  // A layer followed by a ReLU / LeakyReLU may apply it in its own pass (batch / instance norm: one pass
  // over the activation instead of two forward, one fewer backward, same bits);
  // set_fusion(false) turns that off.
  Var<T> forward(const Var<T>& x) override {
    Var<T> h = x;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      try {
        if (fusion_ && i + 1 < layers_.size())
          if (const std::optional<double> slope = layers_[i + 1]->leaky_slope()) {
            Var<T> fused = layers_[i]->forward_then_leaky(h, *slope);
            if (fused.defined()) {
              h = std::move(fused);
              ++i;
              continue;
            }
          }
        h = layers_[i]->forward(h);
      } catch (const Error& e) {
        fail("Sequential[", i, "] > ", e.what());
      }
    }
    return h;
  }

  // Layer fusion (above) in this Sequential alone; on by default. For a whole model:
  // nn::set_fusion(model, on).
  void set_fusion(bool on) { fusion_ = on; }
  bool fusion() const { return fusion_; }

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
  bool fusion_ = true;
};

// Sequential's layer fusion on or off in every Sequential of a module tree (A/B timing, or
// ruling it out when chasing a difference).
template <class T>
void set_fusion(Module<T>& module, bool on) {
  if (auto* seq = dynamic_cast<Sequential<T>*>(&module)) seq->set_fusion(on);
  for (auto& [name, child] : module.children()) set_fusion(*child, on);
}

}  // namespace nn
}  // namespace gan
