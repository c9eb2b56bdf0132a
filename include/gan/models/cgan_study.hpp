#pragma once
// The three networks of the "Generative data for improve accuracy (MNist)" study (E3 in
// docs/experiments/cgan_augmentation.md), with the original TensorFlow layer lists. Widths
// are options; the originals are g_width 128, d_width 64, c_width 32.
//
// StudyGenerator  concat(z, onehot(label)) (N, z+C, 1, 1)
//   convT k4 s1 p0 -> 8w 4x4 -> convT k4 s2 p1 -> 4w 8x8 -> 2w 16x16 -> w 32x32   (BN ELU each)
//   conv k3 p0 -> w/2 30x30 (BN ELU) -> conv k3 p0 -> 1 28x28 -> sigmoid: images in (0, 1)
// study_discriminator   image ++ C constant one-hot maps (N, 1+C, 28, 28)
//   conv k5 -> w 24 -> 2w 20 -> 4w 16 -> conv k4 s2 p1 -> 8w 8 -> 16w 4   (BN ELU each)
//   conv k4 p0 -> 1 logit (N, 1)
// StudyClassifier  (N, 1, 28, 28), no batch norm
//   conv k5 -> w 24 -> 2w 20 -> 4w 16 -> conv k4 s2 p1 -> 8w 8 -> 16w 4 -> conv k4 p0 -> 32w 1x1
//   (ELU each) -> FC 32w ELU -> FC C logits (per-class sigmoid in the study's loss)
//
// Both D and the classifier return logits; the study's sigmoid + log(p + 1e-8) losses are
// bce_with_logits here (the same value away from saturation, finite and with a gradient
// beyond it). Batch norm follows tf.layers (momentum 0.99 = PyTorch's 0.01, eps 1e-3).
// Init as in the study: G truncated N(0, 0.02), D and the classifier's convs Glorot-uniform,
// the classifier's FC layers truncated N(0, 0.02); every bias 0.

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gan/core/random.hpp"
#include "gan/models/conditional.hpp"
#include "gan/nn/activation.hpp"
#include "gan/nn/batch_norm.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/conv_transpose2d.hpp"
#include "gan/nn/init.hpp"
#include "gan/nn/linear.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/nn/shape_layers.hpp"
#include "gan/ops/one_hot.hpp"
#include "gan/ops/shape_ops.hpp"

namespace gan {
namespace models {

struct CganStudyOptions {
  std::int64_t z_dim = 100;
  std::int64_t classes = 10;
  std::int64_t g_width = 128;  // G: 8w, 4w, 2w, w, w/2 channels (original 1024 ... 64)
  std::int64_t d_width = 64;   // D: w ... 16w (original 64 ... 1024)
  // The study never passes isTrain to G, so its batch norm always uses batch statistics,
  // also when sampling. true reproduces that in eval(); false uses running statistics.
  bool g_batch_stats_in_eval = true;
};

namespace detail {

// tf.truncated_normal: N(mean, stddev) redrawn until within two standard deviations.
template <class T>
void truncated_normal_(Tensor<T>& t, double mean, double stddev, Rng& rng) {
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    double v;
    do v = rng.normal(); while (std::abs(v) > 2.0);
    t[i] = static_cast<T>(mean + stddev * v);
  }
}

inline nn::BatchNormOptions tf_batch_norm(std::int64_t channels, bool batch_stats_in_eval = false) {
  nn::BatchNormOptions o;
  o.num_features = channels, o.momentum = 0.01, o.eps = 1e-3, o.batch_stats_in_eval = batch_stats_in_eval;
  return o;
}

// Appends conv (or convT) -> [BN] -> activation; TF's layers keep their bias before BN.
template <class T>
void add_conv(nn::Sequential<T>& net, bool transposed, std::int64_t in, std::int64_t out, std::int64_t k,
              std::int64_t s, std::int64_t p, bool bn, bool bn_batch_stats_in_eval = false) {
  if (transposed) {
    nn::ConvTranspose2dOptions c;
    c.in = in, c.out = out, c.kernel = k, c.stride = s, c.padding = p;
    net.push_back(std::make_shared<nn::ConvTranspose2d<T>>(c));
  } else {
    net.push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{in, out, k, s, p, 1, true}));
  }
  if (bn) net.push_back(std::make_shared<nn::BatchNorm2d<T>>(tf_batch_norm(out, bn_batch_stats_in_eval)));
  net.push_back(std::make_shared<nn::ELU<T>>(1.0));
}

// Weights (rank >= 2) by `weight_init`, 1-D parameters: BN scales 1, biases 0.
template <class T, class Init>
void init_study(nn::Module<T>& m, Init weight_init) {
  for (auto& [name, p] : m.named_parameters()) {
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (p.value().rank() >= 2) weight_init(p.value());
    else if (is_bias) p.value().zero();
    else p.value().fill(T(1));
  }
}

}  // namespace detail

template <class T = float>
class StudyGenerator : public nn::Module<T> {
 public:
  explicit StudyGenerator(const CganStudyOptions& o, Rng& rng = default_rng()) : o_(o) {
    check(o.z_dim > 0 && o.classes > 0 && o.g_width >= 2, describe(), ": z_dim and classes must be positive, g_width >= 2");
    auto net = std::make_shared<nn::Sequential<T>>();
    const std::int64_t w = o.g_width;
    const bool q = o.g_batch_stats_in_eval;
    detail::add_conv(*net, true, o.z_dim + o.classes, 8 * w, 4, 1, 0, true, q);  // 4x4
    detail::add_conv(*net, true, 8 * w, 4 * w, 4, 2, 1, true, q);                // 8x8
    detail::add_conv(*net, true, 4 * w, 2 * w, 4, 2, 1, true, q);                // 16x16
    detail::add_conv(*net, true, 2 * w, w, 4, 2, 1, true, q);                    // 32x32
    detail::add_conv(*net, false, w, w / 2, 3, 1, 0, true, q);                   // 30x30
    net->push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{w / 2, 1, 3, 1, 0, 1, true}));  // 28x28
    net->push_back(std::make_shared<nn::Sigmoid<T>>());
    net_ = this->register_module("net", net);
    detail::init_study(*this, [&rng](Tensor<T>& t) { detail::truncated_normal_(t, 0.0, 0.02, rng); });
  }

  // z (N, z_dim), labels N class indices -> images (N, 1, 28, 28) in (0, 1).
  Var<T> forward(const Var<T>& z, const std::vector<std::int64_t>& labels) {
    check(z.shape().rank() == 2 && z.dim(1) == o_.z_dim && z.dim(0) == std::int64_t(labels.size()), describe(),
          ": latent ", z.shape(), " should be (N, ", o_.z_dim, ") with N = ", labels.size(), " labels");
    Var<T> c(one_hot<T>(labels, o_.classes), false);
    return net_->forward(reshape(concat(std::vector<Var<T>>{z, c}, 1), {z.dim(0), o_.z_dim + o_.classes, 1, 1}));
  }
  Var<T> operator()(const Var<T>& z, const std::vector<std::int64_t>& labels) { return forward(z, labels); }

  const CganStudyOptions& options() const { return o_; }
  std::string describe() const override {
    return gan::detail::concat("StudyGenerator(z=", o_.z_dim, "+", o_.classes, " -> 1x28x28, width ", o_.g_width, ")");
  }

 private:
  CganStudyOptions o_;
  std::shared_ptr<nn::Sequential<T>> net_;
};

// D(image, one_hot_maps(labels, C, 28, 28)) -> logits (N, 1). Glorot-uniform init.
template <class T = float>
std::shared_ptr<ConditionalDiscriminator<T>> study_discriminator(const CganStudyOptions& o, Rng& rng = default_rng()) {
  check(o.classes > 0 && o.d_width > 0, "study_discriminator: classes and d_width must be positive");
  auto net = std::make_shared<nn::Sequential<T>>();
  const std::int64_t w = o.d_width;
  detail::add_conv(*net, false, 1 + o.classes, w, 5, 1, 0, true);  // 24x24
  detail::add_conv(*net, false, w, 2 * w, 5, 1, 0, true);          // 20x20
  detail::add_conv(*net, false, 2 * w, 4 * w, 5, 1, 0, true);      // 16x16
  detail::add_conv(*net, false, 4 * w, 8 * w, 4, 2, 1, true);      // 8x8
  detail::add_conv(*net, false, 8 * w, 16 * w, 4, 2, 1, true);     // 4x4
  net->push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{16 * w, 1, 4, 1, 0, 1, true}));
  net->push_back(std::make_shared<nn::Flatten<T>>());
  auto d = std::make_shared<ConditionalDiscriminator<T>>(net);
  detail::init_study(*d, [&rng](Tensor<T>& t) { nn::init::glorot_uniform_(t, 1.0, rng); });
  return d;
}

struct StudyClassifierOptions {
  std::int64_t width = 32;  // w: convs w ... 32w, FC 32w (original 32 ... 1024, FC 1024)
  std::int64_t classes = 10;
};

template <class T = float>
class StudyClassifier : public nn::Layer<T> {
 public:
  explicit StudyClassifier(const StudyClassifierOptions& o, Rng& rng = default_rng()) : o_(o) {
    check(o.width > 0 && o.classes > 0, describe(), ": width and classes must be positive");
    auto net = std::make_shared<nn::Sequential<T>>();
    const std::int64_t w = o.width;
    detail::add_conv(*net, false, 1, w, 5, 1, 0, false);           // 24x24
    detail::add_conv(*net, false, w, 2 * w, 5, 1, 0, false);       // 20x20
    detail::add_conv(*net, false, 2 * w, 4 * w, 5, 1, 0, false);   // 16x16
    detail::add_conv(*net, false, 4 * w, 8 * w, 4, 2, 1, false);   // 8x8
    detail::add_conv(*net, false, 8 * w, 16 * w, 4, 2, 1, false);  // 4x4
    detail::add_conv(*net, false, 16 * w, 32 * w, 4, 1, 0, false); // 1x1
    net->push_back(std::make_shared<nn::Flatten<T>>());
    net->push_back(std::make_shared<nn::Linear<T>>(nn::LinearOptions{32 * w, 32 * w, true}));
    net->push_back(std::make_shared<nn::ELU<T>>(1.0));
    net->push_back(std::make_shared<nn::Linear<T>>(nn::LinearOptions{32 * w, o.classes, true}));
    net_ = this->register_module("net", net);
    detail::init_study(*this, [&rng](Tensor<T>& t) {
      if (t.rank() == 4) nn::init::glorot_uniform_(t, 1.0, rng);
      else detail::truncated_normal_(t, 0.0, 0.02, rng);
    });
  }

  // (N, 1, 28, 28) -> logits (N, classes).
  Var<T> forward(const Var<T>& x) override {
    check(x.shape().rank() == 4 && x.dim(1) == 1 && x.dim(2) == 28 && x.dim(3) == 28, describe(), ": input ",
          x.shape(), " should be (N, 1, 28, 28)");
    return net_->forward(x);
  }

  std::string describe() const override {
    return gan::detail::concat("StudyClassifier(1x28x28 -> ", o_.classes, ", width ", o_.width, ")");
  }

 private:
  StudyClassifierOptions o_;
  std::shared_ptr<nn::Sequential<T>> net_;
};

}  // namespace models
}  // namespace gan
