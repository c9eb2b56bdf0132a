#pragma once
// nn::update_bn: recompute the running statistics of every batch norm in a module as the
// plain average over a few batches (PyTorch's torch.optim.swa_utils.update_bn). Needed when
// a module's weights come from elsewhere, e.g. an exponential moving average of another
// net's weights: the statistics that net collected belong to its own weights, and a
// normalisation that does not match the weights shows up as washed-out samples.
//
//   nn::update_bn(G_ema, 4, [&](std::int64_t) { G_ema(Var<float>(randn<float>(Shape{256, 100}, rng))); });
//
// forward(k) runs the module on batch k (its output is not used). The module's train/eval
// mode and every layer's momentum are restored afterwards; no gradients are recorded.

#include <cstdint>
#include <vector>

#include "gan/autograd/tape.hpp"
#include "gan/nn/batch_norm.hpp"
#include "gan/nn/module.hpp"

namespace gan {
namespace nn {

namespace detail {
template <class T>
void collect_batch_norms(Module<T>& m, std::vector<BatchNormBase<T>*>& out) {
  if (auto* bn = dynamic_cast<BatchNormBase<T>*>(&m); bn && bn->options().track_running_stats) out.push_back(bn);
  for (auto& [name, child] : m.children()) collect_batch_norms(*child, out);
}
}  // namespace detail

template <class T, class Forward>
void update_bn(Module<T>& module, std::int64_t batches, Forward&& forward) {
  check(batches > 0, "update_bn: batches must be positive, got ", batches);
  std::vector<detail::BatchNormBase<T>*> norms;
  detail::collect_batch_norms(module, norms);
  if (norms.empty()) return;
  std::vector<double> momenta;
  for (auto* bn : norms) momenta.push_back(bn->options().momentum), bn->reset_running_stats();
  const bool was_training = module.is_training();
  module.train();
  NoGradGuard no_grad;
  for (std::int64_t k = 0; k < batches; ++k) {
    // running = (1 - m) running + m batch with m = 1 / (k + 1): the mean of the k + 1 batches so far
    for (auto* bn : norms) bn->set_momentum(1.0 / double(k + 1));
    forward(k);
  }
  for (std::size_t i = 0; i < norms.size(); ++i) norms[i]->set_momentum(momenta[i]);
  module.train(was_training);
}

}  // namespace nn
}  // namespace gan
