#pragma once
// The backward pass: order the recorded graph topologically from the loss, then run each
// node's closure in reverse. Afterwards the graph is released (saved activations freed)
// unless retain_graph is asked for; leaf gradients stay and accumulate across passes.

#include <unordered_set>
#include <utility>
#include <vector>

#include "gan/autograd/node.hpp"

namespace gan {
namespace detail {

// Post-order DFS without recursion: deep nets (VDSR has 20+ layers, plus ops per layer)
// must not depend on stack size. The order owns its variables: releasing a node during
// the pass must not free a variable that is still to be visited.
template <class T>
std::vector<std::shared_ptr<VarImpl<T>>> topological_order(const std::shared_ptr<VarImpl<T>>& root) {
  std::vector<std::shared_ptr<VarImpl<T>>> order;
  std::unordered_set<VarImpl<T>*> visited{root.get()};
  std::vector<std::pair<std::shared_ptr<VarImpl<T>>, std::size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [var, next_input] = stack.back();
    if (var->node && next_input < var->node->inputs.size()) {
      std::shared_ptr<VarImpl<T>> in = var->node->inputs[next_input++];
      if (in->requires_grad && visited.insert(in.get()).second) stack.push_back({std::move(in), 0});
    } else {
      order.push_back(var);
      stack.pop_back();
    }
  }
  return order;  // inputs before the results that use them
}

template <class T>
void run_backward(const std::shared_ptr<VarImpl<T>>& root_ptr, const Tensor<T>& seed, bool retain_graph) {
  VarImpl<T>& root = *root_ptr;
  check(!root.graph_freed,
        "backward: the graph of this result was already released by an earlier backward(); "
        "pass retain_graph=true to the first call to run backward twice");
  check(root.requires_grad,
        "backward: the result does not require grad (no input requires grad, or it was computed "
        "under NoGradGuard / from detach())");
  check_same_shape(seed.shape(), root.value.shape(), "backward: seed gradient vs result");
  if (!root.grad.defined()) root.grad = Tensor<T>::zeros(root.value.shape());
  root.grad.vec() += seed.vec();

  std::vector<std::shared_ptr<VarImpl<T>>> order = topological_order(root_ptr);
  NoGradGuard no_grad;  // closures compute with plain tensors; nothing new is recorded
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    VarImpl<T>* var = it->get();
    if (!var->node) continue;  // a leaf: its gradient is the result
    if (var->grad.defined()) {
      GradSlots<T> slots(var->node->inputs);
      var->node->backward(var->grad, slots);
    }
    var->grad = Tensor<T>();  // results keep no gradient (a second pass must not add to it)
    if (!retain_graph) {
      var->node.reset();  // frees the closure and every tensor it saved
      var->graph_freed = true;
    }
  }
}

}  // namespace detail
}  // namespace gan
