#pragma once
// nn::BatchNorm1d / nn::BatchNorm2d: torch::nn-shaped layers over gan::batch_norm.
// Parameters "weight" (gamma, 1) and "bias" (beta, 0) when affine; buffers "running_mean"
// (0), "running_var" (1) and "num_batches_tracked" (a T tensor of shape (1)) when
// track_running_stats. Momentum follows PyTorch (running = (1 - m) * running + m * batch);
// PyTorch's momentum = None (cumulative average) is not offered.

#include <cstdint>
#include <string>

#include "gan/nn/module.hpp"
#include "gan/ops/batch_norm.hpp"

namespace gan {
namespace nn {

struct BatchNormOptions {
  std::int64_t num_features = 0;
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
  // pix2pix keeps batch statistics at test time (its test script never calls eval() on
  // the batch norms); with this set, eval() still normalises with batch statistics but
  // leaves the running statistics untouched.
  bool batch_stats_in_eval = false;
};

namespace detail {

// Shared body of BatchNorm1d/2d; they differ only in name and accepted ranks.
template <class T>
class BatchNormBase : public Layer<T> {
 public:
  std::string describe() const override { return name_ + "(" + std::to_string(opt_.num_features) + ")"; }

  // Training: batch statistics, running statistics updated. Eval: running statistics,
  // unless batch_stats_in_eval or !track_running_stats (then batch statistics).
  Var<T> forward(const Var<T>& x) override { return forward_impl(x, 1.0); }

  // Batch norm and the ReLU / LeakyReLU after it as one op (see Layer::forward_then_leaky).
  Var<T> forward_then_leaky(const Var<T>& x, double slope) override {
    return slope >= 0 ? forward_impl(x, slope) : Var<T>();
  }

  const BatchNormOptions& options() const { return opt_; }
  // nn::update_bn turns the running statistics into a plain average by stepping this.
  void set_momentum(double momentum) {
    check(momentum >= 0 && momentum <= 1, describe(), ": momentum must be in [0, 1], got ", momentum);
    opt_.momentum = momentum;
  }
  // Handles sharing the layer's state (writes go through); undefined when affine = false /
  // track_running_stats = false.
  Var<T> weight() const { return weight_; }
  Var<T> bias() const { return bias_; }
  Tensor<T> running_mean() const { return running_mean_; }
  Tensor<T> running_var() const { return running_var_; }

  // Back to the freshly constructed state: statistics 0 / 1, no batches counted.
  void reset_running_stats() {
    if (!opt_.track_running_stats) return;
    running_mean_.fill(T(0));
    running_var_.fill(T(1));
    num_batches_tracked_.fill(T(0));
  }

 protected:
  BatchNormBase(std::string name, const BatchNormOptions& opt, int min_rank, int max_rank, const char* expected)
      : name_(std::move(name)), opt_(opt), min_rank_(min_rank), max_rank_(max_rank), expected_(expected) {
    check(opt.num_features > 0, describe(), ": num_features must be positive");
    check(opt.eps >= 0, describe(), ": eps must be >= 0, got ", opt.eps);
    check(opt.momentum >= 0 && opt.momentum <= 1, describe(), ": momentum must be in [0, 1], got ", opt.momentum);
    const Shape c{opt.num_features};
    if (opt.affine) {
      weight_ = this->register_parameter("weight", Tensor<T>::ones(c));
      bias_ = this->register_parameter("bias", Tensor<T>::zeros(c));
    }
    if (opt.track_running_stats) {
      running_mean_ = this->register_buffer("running_mean", Tensor<T>::zeros(c));
      running_var_ = this->register_buffer("running_var", Tensor<T>::ones(c));
      num_batches_tracked_ = this->register_buffer("num_batches_tracked", Tensor<T>::zeros(Shape{1}));
    }
  }

 private:
  // forward(), then y < 0 ? slope * y : y in the same pass unless slope is 1.
  Var<T> forward_impl(const Var<T>& x, double slope) {
    check_input(x);
    const bool training = this->is_training();
    const bool batch_stats = training || opt_.batch_stats_in_eval || !opt_.track_running_stats;
    check(!batch_stats || x.numel() / x.dim(1) > 1, describe(),
          ": Expected more than 1 value per channel when training, got input of shape ", x.shape());

    const bool update = training && opt_.track_running_stats;
    BatchNormParams p{batch_stats, opt_.momentum, opt_.eps};
    Tensor<T> rm, rv;
    if (update || !batch_stats) {
      rm = running_mean_;
      rv = running_var_;
    }
    Var<T> y = batch_norm_then_leaky(x, weight_, bias_, rm, rv, p, slope);
    if (update) num_batches_tracked_[0] += T(1);
    return y;
  }

  void check_input(const Var<T>& x) const {
    check(x.defined(), describe(), ": input is undefined");
    const int rank = x.value().rank();
    check(rank >= min_rank_ && rank <= max_rank_, describe(), ": expected ", expected_, " input, got ", x.shape());
    check(x.dim(1) == opt_.num_features, describe(), ": input ", x.shape(), " has ", x.dim(1),
          " channels, expected ", opt_.num_features);
    check(x.numel() > 0, describe(), ": empty input ", x.shape());
  }

  std::string name_;
  BatchNormOptions opt_;
  int min_rank_, max_rank_;
  const char* expected_;
  Var<T> weight_, bias_;
  Tensor<T> running_mean_, running_var_, num_batches_tracked_;
};

}  // namespace detail

// Input (N, C) or (N, C, L).
template <class T = float>
class BatchNorm1d : public detail::BatchNormBase<T> {
 public:
  explicit BatchNorm1d(const BatchNormOptions& opt)
      : detail::BatchNormBase<T>("BatchNorm1d", opt, 2, 3, "2D (N, C) or 3D (N, C, L)") {}
  explicit BatchNorm1d(std::int64_t num_features) : BatchNorm1d(BatchNormOptions{num_features}) {}
};

// Input (N, C, H, W).
template <class T = float>
class BatchNorm2d : public detail::BatchNormBase<T> {
 public:
  explicit BatchNorm2d(const BatchNormOptions& opt)
      : detail::BatchNormBase<T>("BatchNorm2d", opt, 4, 4, "4D (N, C, H, W)") {}
  explicit BatchNorm2d(std::int64_t num_features) : BatchNorm2d(BatchNormOptions{num_features}) {}
};

}  // namespace nn
}  // namespace gan
