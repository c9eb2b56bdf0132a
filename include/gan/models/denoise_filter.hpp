#pragma once
// The networks of the residual denoising-filter study (experiment_2, E4 in the experiment
// notes): a filter G that removes a reference digit and noise from a mixture, and the
// study's discriminator, vanilla or conditional. Both follow the TF-1 originals: 3x3 / 5x5
// convs with bias, batch norm with TF's momentum 0.99 (PyTorch 0.01) and eps 1e-3, ELU,
// Glorot-uniform weights (tf_glorot_init).
//
// DenoiseFilter (SRGAN-like, all convs 3x3 s1 "same", w = width, 128 in the study):
//   cat = [x, ref]                       2 x 28 x 28
//   r1  = ELU(BN(conv(cat -> w)))
//   r_k = ELU(BN(conv(r_{k-1} -> w))) + r_{k-1}     k = 2..1+blocks (4 blocks)
//   r6  = ELU(BN(conv(r_last -> 2))) + cat          global skip to the 2-channel input
//   out = sigmoid(conv(r6 -> 1))                    in (0, 1), no BN on the last conv
// Because of the global skip an untrained filter already passes the ref through.
//
// DenoiseDiscriminator (w = width, 64 in the study), input C x 28 x 28, logits (N, 1):
//   conv5 s1 valid -> w (24) -> 2w (20) -> 4w (16), BN ELU each (BN on the first layer too)
//   conv4 s2 same  -> 8w (8) -> 16w (4), BN ELU
//   conv4 s1 valid -> 32w (1x1), ELU;  conv1x1 -> 1 logit (the study applies sigmoid)
// The conditional D of the study is models::ConditionalDiscriminator around a 3-channel
// DenoiseDiscriminator: [image, noisy input, ref].

#include <memory>
#include <string>
#include <vector>

#include "gan/core/random.hpp"
#include "gan/nn/choices.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/init.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/ops/activations.hpp"
#include "gan/ops/elementwise.hpp"
#include "gan/ops/shape_ops.hpp"

namespace gan {
namespace models {

// TF-1 tf.layers.batch_normalization defaults in PyTorch terms.
inline nn::BatchNormOptions tf_batch_norm(std::int64_t channels) {
  nn::BatchNormOptions o;
  o.num_features = channels;
  o.momentum = 0.01;
  o.eps = 1e-3;
  return o;
}

// TF-1 tf.layers defaults: Glorot-uniform conv weights, zero biases; norm scales stay 1.
template <class T>
void tf_glorot_init(nn::Module<T>& module, Rng& rng = default_rng()) {
  for (auto& [name, p] : module.named_parameters()) {
    if (p.value().rank() >= 2) nn::init::glorot_uniform_(p.value(), 1.0, rng);
    else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) p.value().zero();
  }
}

struct DenoiseFilterOptions {
  std::int64_t width = 128;   // feature maps of the residual trunk
  std::int64_t blocks = 4;    // residual blocks after the first conv
  std::int64_t channels = 1;  // of the image and of the ref
};

template <class T = float>
class DenoiseFilter : public nn::Module<T> {
 public:
  explicit DenoiseFilter(const DenoiseFilterOptions& o) : options_(o) {
    check(o.width > 0 && o.blocks >= 0 && o.channels > 0, describe(), ": width, channels must be positive, blocks >= 0");
    const std::int64_t in = 2 * o.channels;
    stages_.push_back(stage("stage0", in, o.width));
    for (std::int64_t k = 1; k <= o.blocks; ++k) stages_.push_back(stage("stage" + std::to_string(k), o.width, o.width));
    stages_.push_back(stage("stage" + std::to_string(o.blocks + 1), o.width, in));
    out_ = this->register_module("out", conv(in, o.channels));
  }

  // x, ref: (N, channels, H, W) -> (N, channels, H, W) in (0, 1).
  Var<T> forward(const Var<T>& x, const Var<T>& ref) { return sigmoid(logits(x, ref)); }
  Var<T> operator()(const Var<T>& x, const Var<T>& ref) { return forward(x, ref); }

  // The pre-sigmoid output.
  Var<T> logits(const Var<T>& x, const Var<T>& ref) {
    check(x.defined() && ref.defined() && x.shape() == ref.shape() && x.shape().rank() == 4 &&
              x.dim(1) == options_.channels,
          describe(), ": x ", x.shape(), " and ref ", ref.shape(), " must be equal (N, ", options_.channels,
          ", H, W) shapes");
    const Var<T> cat = concat(std::vector<Var<T>>{x, ref}, 1);
    Var<T> r = stages_.front()->forward(cat);
    for (std::size_t k = 1; k + 1 < stages_.size(); ++k) r = add(stages_[k]->forward(r), r);
    r = add(stages_.back()->forward(r), cat);
    return out_->forward(r);
  }

  std::string describe() const override {
    return gan::detail::concat("DenoiseFilter(width=", options_.width, ", blocks=", options_.blocks, ")");
  }
  const DenoiseFilterOptions& options() const { return options_; }

 private:
  static std::shared_ptr<nn::Conv2d<T>> conv(std::int64_t in, std::int64_t out) {
    return std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{in, out, 3, 1, 1, 1, true});
  }
  // ELU(BN(conv3x3(in -> out))).
  std::shared_ptr<nn::Sequential<T>> stage(const std::string& name, std::int64_t in, std::int64_t out) {
    auto s = std::make_shared<nn::Sequential<T>>();
    s->push_back(conv(in, out));
    s->push_back(std::make_shared<nn::BatchNorm2d<T>>(tf_batch_norm(out)));
    s->push_back(nn::make_activation<T>(nn::Activation::ELU()));
    return this->register_module(name, s);
  }

  DenoiseFilterOptions options_;
  std::vector<std::shared_ptr<nn::Sequential<T>>> stages_;
  std::shared_ptr<nn::Conv2d<T>> out_;
};

struct DenoiseDiscriminatorOptions {
  std::int64_t input_channels = 1;  // 3 for the conditional D: [image, noisy input, ref]
  std::int64_t width = 64;          // first layer; doubles per layer up to 32 * width
};

template <class T = float>
class DenoiseDiscriminator : public nn::Layer<T> {
 public:
  explicit DenoiseDiscriminator(const DenoiseDiscriminatorOptions& o) : options_(o) {
    check(o.input_channels > 0 && o.width > 0, describe(), ": input_channels and width must be positive");
    auto net = std::make_shared<nn::Sequential<T>>();
    const std::int64_t w = o.width;
    // (out, kernel, stride, padding, batch norm)
    struct Spec { std::int64_t out, k, s, p; bool bn; };
    const Spec specs[] = {{w, 5, 1, 0, true},      {2 * w, 5, 1, 0, true},  {4 * w, 5, 1, 0, true},
                          {8 * w, 4, 2, 1, true},  {16 * w, 4, 2, 1, true}, {32 * w, 4, 1, 0, false}};
    std::int64_t in = o.input_channels;
    for (const Spec& s : specs) {
      net->push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{in, s.out, s.k, s.s, s.p, 1, true}));
      if (s.bn) net->push_back(std::make_shared<nn::BatchNorm2d<T>>(tf_batch_norm(s.out)));
      net->push_back(nn::make_activation<T>(nn::Activation::ELU()));
      in = s.out;
    }
    net->push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{in, 1, 1, 1, 0, 1, true}));
    net_ = this->register_module("net", net);
  }

  // x: (N, input_channels, 28, 28) -> logits (N, 1).
  Var<T> forward(const Var<T>& x) override {
    check(x.defined() && x.shape().rank() == 4 && x.dim(2) == 28 && x.dim(3) == 28, describe(),
          ": expected (N, ", options_.input_channels, ", 28, 28) input, got ", x.shape());
    return reshape(net_->forward(x), {x.dim(0), 1});
  }

  std::string describe() const override {
    return gan::detail::concat("DenoiseDiscriminator(", options_.input_channels, " ch, width=", options_.width, ")");
  }

 private:
  DenoiseDiscriminatorOptions options_;
  std::shared_ptr<nn::Sequential<T>> net_;
};

}  // namespace models
}  // namespace gan
