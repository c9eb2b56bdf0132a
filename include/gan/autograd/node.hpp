#pragma once
// The recorded graph: each result of a differentiable op points at the Node that made it;
// the Node holds its inputs and a closure that turns the output's gradient into
// contributions to the inputs' gradients. Define-by-run, like micrograd and PyTorch.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gan/core/tensor.hpp"

namespace gan {

template <class T>
struct Node;

// Shared state behind a Var handle.
template <class T>
struct VarImpl {
  Tensor<T> value;
  Tensor<T> grad;              // undefined until a backward pass reaches this variable
  bool requires_grad = false;  // leaves: set by the user / module; results: true iff node
  std::shared_ptr<Node<T>> node;
  bool graph_freed = false;    // set on results whose graph a backward pass released
};

// What a backward closure writes into: one gradient slot per input of its node.
// Slots are the inputs' own .grad tensors, created as zeros on first use, so a backward
// closure must ACCUMULATE (+=) into them; that is also what makes reuse of a variable
// (x * x, a skip connection) sum its gradients correctly.
template <class T>
class GradSlots {
 public:
  explicit GradSlots(const std::vector<std::shared_ptr<VarImpl<T>>>& inputs) : inputs_(inputs) {}

  // False for inputs that need no gradient: the closure can skip that computation.
  bool needs(std::size_t i) const { return inputs_[i]->requires_grad; }

  Tensor<T>& operator[](std::size_t i) {
    VarImpl<T>& in = *inputs_[i];
    if (!in.grad.defined()) in.grad = Tensor<T>::zeros(in.value.shape());
    return in.grad;
  }

  // For closures that can write a whole gradient instead of adding to it. Most inputs get a
  // single contribution, so when input i has no gradient yet it is left uninitialised and
  // `assign` is set: the closure overwrites it, which saves a zero-fill and a read of zeros.
  Tensor<T>& for_write(std::size_t i, bool& assign) {
    VarImpl<T>& in = *inputs_[i];
    assign = !in.grad.defined();
    if (assign) in.grad = Tensor<T>::empty(in.value.shape());
    return in.grad;
  }

  // Whether input i has no gradient yet, and setting it to `grad` outright (a view the
  // closure hands over, e.g. reshape's dy seen with x's shape: no copy at all).
  bool unset(std::size_t i) const { return !inputs_[i]->grad.defined(); }
  void set(std::size_t i, Tensor<T> grad) { inputs_[i]->grad = std::move(grad); }

 private:
  const std::vector<std::shared_ptr<VarImpl<T>>>& inputs_;
};

template <class T>
struct Node {
  using Backward = std::function<void(const Tensor<T>& grad_output, GradSlots<T>& grad_inputs)>;
  std::string op;  // for error messages and debugging: "conv2d", "add", ...
  std::vector<std::shared_ptr<VarImpl<T>>> inputs;
  Backward backward;
};

// Whether ops record nodes. Thread-local, like torch.no_grad.
class GradMode {
 public:
  static bool enabled() { return flag(); }
  static void set_enabled(bool on) { flag() = on; }

 private:
  static bool& flag() {
    thread_local bool enabled = true;
    return enabled;
  }
};

// RAII scope in which nothing is recorded: sampling, evaluation, optimizer updates.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace gan
