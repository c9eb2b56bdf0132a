#pragma once
// Module: what owns parameters and buffers, by name, in a tree. Optimizers ask for
// parameters(), checkpoints for named_parameters()/named_buffers() ("block1.conv.weight"),
// and train()/eval() flips batch norm and dropout in the whole tree.
// Layer: a Module with one input and one output, the unit Sequential chains.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gan/autograd/variable.hpp"

namespace gan {
namespace nn {

template <class T = float>
class Module {
 public:
  using scalar_type = T;
  virtual ~Module() = default;

  // Short description used in error messages, e.g. "Conv2d(3->64, k=4, s=2, p=1)".
  virtual std::string describe() const { return "Module"; }

  std::vector<std::pair<std::string, Var<T>>> named_parameters() const {
    std::vector<std::pair<std::string, Var<T>>> out;
    collect_parameters("", out);
    return out;
  }
  std::vector<Var<T>> parameters() const {
    std::vector<Var<T>> out;
    for (auto& [name, p] : named_parameters()) out.push_back(p);
    return out;
  }
  // Non-trainable state (batch norm running statistics). The tensors share storage with
  // the module's, so writing into them (checkpoint loading) updates the module.
  std::vector<std::pair<std::string, Tensor<T>>> named_buffers() const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    collect_buffers("", out);
    return out;
  }
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

  void train(bool on = true) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad() {
    for (auto& p : parameters()) p.zero_grad();
  }

  // torch's Module.requires_grad_: with false, backward passes through this module to its
  // inputs but computes no gradients for its parameters (a GAN's G step through a frozen D).
  void requires_grad_(bool on = true) {
    for (auto& p : parameters()) p.set_requires_grad(on);
  }

  std::int64_t parameter_count() const {
    std::int64_t n = 0;
    for (auto& p : parameters()) n += p.numel();
    return n;
  }

 protected:
  Var<T> register_parameter(std::string name, Tensor<T> initial) {
    params_.emplace_back(std::move(name), parameter(std::move(initial)));
    return params_.back().second;
  }
  Tensor<T> register_buffer(std::string name, Tensor<T> initial) {
    buffers_.emplace_back(std::move(name), std::move(initial));
    return buffers_.back().second;
  }
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> child) {
    children_.emplace_back(std::move(name), child);
    child->train(training_);
    return child;
  }

 private:
  void collect_parameters(const std::string& prefix, std::vector<std::pair<std::string, Var<T>>>& out) const {
    for (auto& [name, p] : params_) out.emplace_back(prefix + name, p);
    for (auto& [name, child] : children_) child->collect_parameters(prefix + name + ".", out);
  }
  void collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor<T>>>& out) const {
    for (auto& [name, b] : buffers_) out.emplace_back(prefix + name, b);
    for (auto& [name, child] : children_) child->collect_buffers(prefix + name + ".", out);
  }

  std::vector<std::pair<std::string, Var<T>>> params_;
  std::vector<std::pair<std::string, Tensor<T>>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

template <class T = float>
class Layer : public Module<T> {
 public:
  virtual Var<T> forward(const Var<T>& x) = 0;
  Var<T> operator()(const Var<T>& x) { return forward(x); }

  // Layer fusion (Sequential::forward): an activation of the form y = x < 0 ? slope * x : x
  // (ReLU, LeakyReLU) returns its slope; a layer that can apply such an activation to its
  // output in the same pass, forward and backward (batch / instance norm), returns the output,
  // or an undefined Var when it cannot (then Sequential runs both layers).
  virtual std::optional<double> leaky_slope() const { return std::nullopt; }
  virtual Var<T> forward_then_leaky(const Var<T>& /*x*/, double /*slope*/) { return Var<T>(); }
};

}  // namespace nn
}  // namespace gan
