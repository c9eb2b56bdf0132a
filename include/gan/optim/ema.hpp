#pragma once
// optim::ExponentialMovingAverage: an average of a model's weights kept in a second model of
// the same architecture, updated after every optimizer step (the averaged generator of
// Karras et al. 2018 and Yazici et al. 2019; PyTorch's swa_utils.AveragedModel with an EMA
// avg_fn):  average = decay * average + (1 - decay) * current.
//
//   optim::ExponentialMovingAverage<float> ema(G_ema.parameters(), G.parameters());
//   ... opt_g.step(); ema.update(0.999);
//
// It sees only parameters: buffers such as batch-norm statistics belong to the weights that
// produced them, so the caller recomputes them for the average (nn::update_bn).

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/core/error.hpp"
#include "gan/core/parallel.hpp"

namespace gan {
namespace optim {

template <class T = float>
class ExponentialMovingAverage {
  static_assert(std::is_floating_point_v<T>, "ExponentialMovingAverage averages floating-point weights");

 public:
  // `average` and `current`: parameters() of two modules of one architecture, same order.
  // The average starts as a copy of the current weights.
  ExponentialMovingAverage(std::vector<Var<T>> average, std::vector<Var<T>> current)
      : average_(std::move(average)), current_(std::move(current)) {
    check(average_.size() == current_.size(), "ExponentialMovingAverage: ", average_.size(),
          " averaged parameters for ", current_.size(), " current ones");
    for (std::size_t i = 0; i < average_.size(); ++i)
      check(average_[i].shape() == current_[i].shape(), "ExponentialMovingAverage: parameter ", i, " has shape ",
            average_[i].shape(), " in the average and ", current_[i].shape(), " in the model");
    for (std::size_t i = 0; i < average_.size(); ++i) average_[i].value().copy_from(current_[i].value());
  }

  // decay 0 moves the average onto the current weights; decay 1 freezes it.
  void update(double decay) {
    check(decay >= 0 && decay <= 1, "ExponentialMovingAverage: decay must be in [0, 1], got ", decay);
    const T step = T(1 - decay);
    for (std::size_t i = 0; i < average_.size(); ++i) {
      T* avg = average_[i].value().data();
      const T* cur = current_[i].value().data();
      constexpr std::int64_t chunk = 4096;  // a contiguous run per call, so the inner loop vectorises
      const std::int64_t n = average_[i].numel();
      parallel_for((n + chunk - 1) / chunk, 2 * chunk, [&](std::int64_t c) {
        const std::int64_t end = std::min(n, (c + 1) * chunk);
        for (std::int64_t k = c * chunk; k < end; ++k) avg[k] += step * (cur[k] - avg[k]);
      });
    }
  }

 private:
  std::vector<Var<T>> average_, current_;
};

}  // namespace optim
}  // namespace gan
