#pragma once
// Optimizer<T>: the base of Adam and SGD. It owns parameter groups (each with its own
// learning rate and weight decay, like torch.optim param_groups) and every per-parameter
// state tensor. State is allocated, zero, when a group is added rather than lazily on the
// first step, so a checkpoint can copy saved values into state_tensors() before training
// resumes and continue exactly where it stopped.
// Optimizers see only Var<T> (value + grad): no nn/ header is included here.

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/core/tensor.hpp"

namespace gan {
namespace optim {

// Parameters sharing one learning rate and weight decay (SRCNN trains its last layer at a
// tenth of the others' rate: two groups).
template <class T>
struct ParamGroup {
  std::vector<Var<T>> params;
  double lr = 0;
  double weight_decay = 0;
};

// What an optimizer keeps for one parameter. `step` (shape {1}) counts the updates applied
// to this parameter; it is per parameter, as in PyTorch, because a parameter whose grad is
// undefined is skipped and must not advance its bias correction. `buffers` are shaped like
// the parameter and named by Optimizer::buffer_names() ("exp_avg", "momentum_buffer", ...).
template <class T>
struct ParamState {
  Tensor<T> step;
  std::vector<Tensor<T>> buffers;

  std::int64_t steps() const { return static_cast<std::int64_t>(step[0]); }
  // Increments and returns the step count. The count is stored as T so that checkpoints
  // hold only tensors; float counts exactly up to 2^24 (16.7M updates), so refuse beyond.
  std::int64_t advance() {
    const std::int64_t next = steps() + 1;
    check(next < (std::int64_t(1) << std::numeric_limits<T>::digits), "optimizer: step count ", next,
          " is not exactly representable in the state tensor's scalar type");
    step[0] = static_cast<T>(next);
    return next;
  }
};

template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;  // two optimizers must not share one state by accident
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update to every parameter whose grad is defined; others are left alone.
  // Each such parameter goes to update() with its group's learning rate and weight decay.
  virtual void step() {
    for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
      ParamGroup<T>& group = groups_[gi];
      for (std::size_t pi = 0; pi < group.params.size(); ++pi) {
        const Tensor<T>* grad = grad_of(group.params[pi], gi, pi);
        if (!grad) continue;
        update(group.params[pi].value(), *grad, states_[gi][pi], group.lr, group.weight_decay);
      }
    }
  }
  // Name used in error messages, e.g. "Adam".
  virtual std::string name() const = 0;

  // Adds parameters with their own learning rate and weight decay; their state is created
  // (zero) now. A parameter may belong to one group only, and must be a leaf.
  void add_param_group(std::vector<Var<T>> params, double lr, double weight_decay = 0) {
    check(lr >= 0, name(), ": invalid learning rate ", lr);
    check(weight_decay >= 0, name(), ": invalid weight_decay ", weight_decay);
    std::vector<ParamState<T>> states;
    const std::vector<std::string> buffer_names = this->buffer_names();
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Var<T>& p = params[i];
      check(p.defined(), name(), ": parameter ", i, " of group ", groups_.size(), " is undefined");
      check(p.is_leaf(), name(), ": can't optimize a non-leaf variable (parameter ", i, " of group ",
            groups_.size(), ", produced by ", p.op(), ")");
      check(seen_.insert(p.id()).second, name(), ": parameter ", i, " of group ", groups_.size(),
            " already appears in a parameter group");
      ParamState<T> s;
      s.step = Tensor<T>::zeros(Shape{1});
      for (std::size_t b = 0; b < buffer_names.size(); ++b) s.buffers.push_back(Tensor<T>::zeros(p.shape()));
      states.push_back(std::move(s));
    }
    groups_.push_back(ParamGroup<T>{std::move(params), lr, weight_decay});
    states_.push_back(std::move(states));
  }

  // Clears the gradients of every parameter. By default the buffers are zeroed in place
  // (no allocation next pass), so a parameter once reached keeps being updated. With
  // set_to_none the grads become undefined and parameters that the next backward pass does
  // not reach are skipped by step(), as with PyTorch's zero_grad(set_to_none=True).
  void zero_grad(bool set_to_none = false) {
    for (ParamGroup<T>& g : groups_)
      for (Var<T>& p : g.params) {
        if (set_to_none)
          p.grad() = Tensor<T>();
        else
          p.zero_grad();
      }
  }

  // Learning rate of the first group, and setting one rate for all groups.
  double lr() const {
    check(!groups_.empty(), name(), ": no parameter groups");
    return groups_.front().lr;
  }
  void set_lr(double lr) {
    check(lr >= 0, name(), ": invalid learning rate ", lr);
    for (ParamGroup<T>& g : groups_) g.lr = lr;
  }
  void set_lr(std::size_t group, double lr) {
    check(group < groups_.size(), name(), ": no parameter group ", group);
    check(lr >= 0, name(), ": invalid learning rate ", lr);
    groups_[group].lr = lr;
  }
  // Multiplies every group's rate, keeping their ratios (a step decay schedule).
  void scale_lr(double factor) {
    check(factor >= 0, name(), ": invalid learning-rate factor ", factor);
    for (ParamGroup<T>& g : groups_) g.lr *= factor;
  }

  const std::vector<ParamGroup<T>>& param_groups() const { return groups_; }
  const ParamState<T>& state(std::size_t group, std::size_t param) const { return states_.at(group).at(param); }

  // Every state tensor, named "group0.param3.exp_avg" / "group0.param3.step". The tensors
  // share storage with the optimizer: copying saved values into them (load_state_tensors,
  // or copy_from) restores the state. Learning rates are not state: a schedule sets them.
  std::vector<std::pair<std::string, Tensor<T>>> state_tensors() const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    const std::vector<std::string> buffer_names = this->buffer_names();
    for (std::size_t g = 0; g < states_.size(); ++g)
      for (std::size_t i = 0; i < states_[g].size(); ++i) {
        const std::string prefix = "group" + std::to_string(g) + ".param" + std::to_string(i) + ".";
        out.emplace_back(prefix + "step", states_[g][i].step);
        for (std::size_t b = 0; b < buffer_names.size(); ++b)
          out.emplace_back(prefix + buffer_names[b], states_[g][i].buffers[b]);
      }
    return out;
  }

  // Copies saved state in. The saved set must name exactly this optimizer's tensors with
  // the same shapes (same groups, same parameter order, same options).
  void load_state_tensors(const std::vector<std::pair<std::string, Tensor<T>>>& saved) {
    std::vector<std::pair<std::string, Tensor<T>>> mine = state_tensors();
    check(saved.size() == mine.size(), name(), ": saved state has ", saved.size(), " tensors, expected ",
          mine.size());
    for (auto& [key, dst] : mine) {
      const Tensor<T>* src = nullptr;
      for (const auto& [k, t] : saved)
        if (k == key) src = &t;
      check(src != nullptr, name(), ": saved state lacks ", key);
      check(src->shape() == dst.shape(), name(), ": saved ", key, " has shape ", src->shape(), ", expected ",
            dst.shape());
    }
    for (auto& [key, dst] : mine)
      for (const auto& [k, t] : saved)
        if (k == key) dst.copy_from(t);
  }

 protected:
  Optimizer() = default;

  // Names of the per-parameter buffers this optimizer keeps, in ParamState::buffers order.
  virtual std::vector<std::string> buffer_names() const = 0;

  // One parameter's update, given its defined gradient (shape-checked), its state and its
  // group's learning rate and weight decay. Called by step().
  virtual void update(Tensor<T>& param, const Tensor<T>& grad, ParamState<T>& state, double lr,
                      double weight_decay) const = 0;

  // The constructor's group: PyTorch refuses an empty parameter list, and so do we (an
  // empty list usually means parameters() was called on the wrong module).
  void add_first_group(std::vector<Var<T>> params, double lr, double weight_decay) {
    check(!params.empty(), name(), ": got an empty parameter list");
    add_param_group(std::move(params), lr, weight_decay);
  }

  // The gradient of a parameter to update, or nullptr to skip it (grad undefined).
  const Tensor<T>* grad_of(const Var<T>& p, std::size_t group, std::size_t index) const {
    const Tensor<T>& g = p.grad();
    if (!g.defined()) return nullptr;
    check(g.shape() == p.shape(), name(), ": parameter ", index, " of group ", group, " has shape ", p.shape(),
          " but its grad has shape ", g.shape());
    return &g;
  }

  std::vector<ParamGroup<T>> groups_;
  std::vector<std::vector<ParamState<T>>> states_;  // [group][param], parallel to groups_

 private:
  std::unordered_set<const VarImpl<T>*> seen_;
};

}  // namespace optim
}  // namespace gan
