#pragma once
// Var<T>: the handle users and ops pass around, a value plus (for leaves that require it)
// an accumulated gradient. Copies share state, like torch::Tensor with autograd.

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gan/autograd/node.hpp"
#include "gan/autograd/tape.hpp"

namespace gan {

template <class T>
class Var {
 public:
  Var() = default;
  explicit Var(Tensor<T> value, bool requires_grad = false) : impl_(std::make_shared<VarImpl<T>>()) {
    impl_->value = std::move(value);
    impl_->requires_grad = requires_grad;
  }

  bool defined() const { return impl_ != nullptr; }
  const Tensor<T>& value() const { return impl_->value; }
  // Mutable access for optimizers and checkpoint loading; changing it under a recorded
  // graph makes that graph's gradients stale, as in PyTorch.
  Tensor<T>& value() { return impl_->value; }
  const Shape& shape() const { return impl_->value.shape(); }
  std::int64_t dim(int axis) const { return impl_->value.dim(axis); }
  std::int64_t numel() const { return impl_->value.numel(); }
  T item() const { return impl_->value.item(); }

  // Gradient accumulated by backward(); undefined before the first pass reaches it.
  const Tensor<T>& grad() const { return impl_->grad; }
  Tensor<T>& grad() { return impl_->grad; }
  bool requires_grad() const { return impl_->requires_grad; }
  void set_requires_grad(bool on) {
    check(is_leaf(), "set_requires_grad: only leaves can change requires_grad");
    impl_->requires_grad = on;
  }
  bool is_leaf() const { return impl_->node == nullptr; }
  // Name of the op that produced this value ("" for leaves).
  std::string op() const { return impl_->node ? impl_->node->op : std::string(); }

  // Reverse-mode pass from a one-element result (a loss): d(this)/d(leaf) is added to every
  // leaf's grad. retain_graph keeps the graph for a second pass.
  void backward(bool retain_graph = false) const {
    check(numel() == 1, "backward: result has shape ", shape(),
          "; call backward(seed) with a gradient of that shape, or reduce to a scalar first");
    backward(Tensor<T>::ones(shape()), retain_graph);
  }
  void backward(const Tensor<T>& seed, bool retain_graph = false) const {
    detail::run_backward(impl_, seed, retain_graph);
  }

  // Same value, no history: gradients stop here (D's step on G(z).detach()).
  Var detach() const { return Var(impl_->value, false); }

  // Zeroes the accumulated gradient in place (keeps the buffer: no allocation next pass).
  void zero_grad() {
    if (impl_->grad.defined()) impl_->grad.zero();
  }

  // Identity of the shared state (two handles to one variable compare equal).
  const VarImpl<T>* id() const { return impl_.get(); }
  const std::shared_ptr<VarImpl<T>>& impl() const { return impl_; }

 private:
  std::shared_ptr<VarImpl<T>> impl_;
};

// Wraps an op's output: records a node when grad mode is on and some input requires grad.
// `backward(grad_output, slots)` must accumulate into slots[i] for inputs that need it.
template <class T, class Backward>
Var<T> make_result(Tensor<T> value, const char* op, const std::vector<Var<T>>& inputs, Backward&& backward) {
  bool any = false;
  for (const Var<T>& in : inputs) any = any || in.requires_grad();
  Var<T> out(std::move(value), false);
  if (!GradMode::enabled() || !any) return out;
  auto node = std::make_shared<Node<T>>();
  node->op = op;
  for (const Var<T>& in : inputs) node->inputs.push_back(in.impl());
  node->backward = std::forward<Backward>(backward);
  out.impl()->node = std::move(node);
  out.impl()->requires_grad = true;
  return out;
}
template <class T, class Backward>
Var<T> make_result(Tensor<T> value, const char* op, std::initializer_list<Var<T>> inputs, Backward&& backward) {
  return make_result(std::move(value), op, std::vector<Var<T>>(inputs), std::forward<Backward>(backward));
}

// A trainable leaf: what modules register and optimizers update.
template <class T>
Var<T> parameter(Tensor<T> value) {
  return Var<T>(std::move(value), true);
}

}  // namespace gan
