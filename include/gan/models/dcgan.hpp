#pragma once
// DCGAN generator and discriminator (Radford et al. 2015) following the paper's rules:
// strided convs instead of pooling, no hidden fully connected layers, batch norm except
// on G's output and D's input, ReLU + tanh in G, LeakyReLU(0.2) in D, N(0, 0.02) init.
//
// 28x28 (MNIST):  G  z -> convT k7 -> 2w x 7x7 -> convT k4 s2 -> w x 14x14 -> convT k4 s2 -> C x 28x28
//                 D  C x 28 -> conv k4 s2 -> w x 14 -> conv k4 s2 -> 2w x 7 -> linear -> 1 logit
// 64x64 (paper):  G  z -> 8w x 4 -> 4w x 8 -> 2w x 16 -> w x 32 -> C x 64   (convT k4)
//                 D  C x 64 -> w x 32 -> 2w x 16 -> 4w x 8 -> 8w x 4 -> conv k4 -> 1 logit
// The first convT on the 1x1 latent is the paper's "projection of z": a linear map reshaped.
// extra_layers (not in the paper; the `n_extra_layers` of the WGAN authors' DCGAN code) adds
// that many 3x3 stride-1 convs (+ BN + the block's activation) at the largest hidden
// resolution: G before its output layer, D after its input layer. 0 keeps the paper's net.
// D returns logits (N, 1): use bce_with_logits, the stable form of sigmoid + BCE.

#include <map>
#include <memory>
#include <string>

#include "gan/core/random.hpp"
#include "gan/nn/choices.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/conv_transpose2d.hpp"
#include "gan/nn/linear.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/nn/shape_layers.hpp"
#include "gan/ops/shape_ops.hpp"

namespace gan {
namespace models {

struct DcganOptions {
  std::int64_t z_dim = 100;
  std::int64_t image_size = 28;  // 28 or 64
  std::int64_t channels = 1;
  std::int64_t width = 64;       // w in the diagrams above (ngf / ndf)
  std::int64_t extra_layers = 0;
};

inline void check_dcgan_options(const DcganOptions& o, const char* who) {
  check(o.image_size == 28 || o.image_size == 64, who, ": image_size must be 28 or 64, got ", o.image_size);
  check(o.z_dim > 0 && o.channels > 0 && o.width > 0, who, ": z_dim, channels and width must be positive");
  check(o.extra_layers >= 0, who, ": extra_layers must be >= 0, got ", o.extra_layers);
}

// The options examples/dcgan writes into its weights' metadata (z_dim, width, image_size,
// extra_layers); keys an older file lacks keep their defaults.
inline DcganOptions dcgan_options_from_metadata(const std::map<std::string, std::string>& meta) {
  DcganOptions o;
  auto get = [&](const char* key, std::int64_t& field) {
    if (meta.count(key)) field = std::stoll(meta.at(key));
  };
  get("z_dim", o.z_dim), get("width", o.width), get("image_size", o.image_size), get("extra_layers", o.extra_layers);
  return o;
}

// N(0, 0.02) for conv / linear weights, N(1, 0.02) for norm scales, 0 for every bias.
template <class T>
void dcgan_init(nn::Module<T>& module, Rng& rng = default_rng()) {
  for (auto& [name, p] : module.named_parameters()) {
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (is_bias) p.value().zero();
    else if (p.value().rank() == 1) fill_normal(p.value(), 1.0, 0.02, rng);
    else fill_normal(p.value(), 0.0, 0.02, rng);
  }
}

template <class T = float>
class DcganGenerator : public nn::Layer<T> {
 public:
  explicit DcganGenerator(const DcganOptions& o) : options_(o) {
    check_dcgan_options(o, "DcganGenerator");
    auto net = std::make_shared<nn::Sequential<T>>();
    auto up = [&](std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t s, std::int64_t p, bool last) {
      nn::ConvTranspose2dOptions c;
      c.in = in, c.out = out, c.kernel = k, c.stride = s, c.padding = p, c.bias = last;
      net->push_back(std::make_shared<nn::ConvTranspose2d<T>>(c));
      if (last) {
        net->push_back(nn::make_activation<T>(nn::Activation{nn::Activation::tanh, 0}));
      } else {
        net->push_back(nn::make_norm2d<T>(nn::Norm::batch, out));
        net->push_back(nn::make_activation<T>(nn::Activation::ReLU()));
      }
    };
    const std::int64_t w = o.width;
    if (o.image_size == 28) {
      up(o.z_dim, 2 * w, 7, 1, 0, false);
      up(2 * w, w, 4, 2, 1, false);
    } else {
      up(o.z_dim, 8 * w, 4, 1, 0, false);
      up(8 * w, 4 * w, 4, 2, 1, false);
      up(4 * w, 2 * w, 4, 2, 1, false);
      up(2 * w, w, 4, 2, 1, false);
    }
    for (std::int64_t i = 0; i < o.extra_layers; ++i) up(w, w, 3, 1, 1, false);
    up(w, o.channels, 4, 2, 1, true);
    net_ = this->register_module("net", net);
  }

  // z: (N, z_dim) or (N, z_dim, 1, 1); returns images in [-1, 1], (N, C, S, S).
  Var<T> forward(const Var<T>& z) override {
    check(z.numel() > 0 && z.shape().rank() >= 2 && z.dim(1) == options_.z_dim &&
              z.numel() == z.dim(0) * options_.z_dim,
          describe(), ": latent ", z.shape(), " should be (N, ", options_.z_dim, ") or (N, ", options_.z_dim, ", 1, 1)");
    return net_->forward(reshape(z, {z.dim(0), options_.z_dim, 1, 1}));
  }

  std::string describe() const override {
    return gan::detail::concat("DcganGenerator(z=", options_.z_dim, " -> ", options_.channels, "x", options_.image_size,
                               "x", options_.image_size, ", width ", options_.width, ")");
  }

 private:
  DcganOptions options_;
  std::shared_ptr<nn::Sequential<T>> net_;
};

template <class T = float>
class DcganDiscriminator : public nn::Layer<T> {
 public:
  explicit DcganDiscriminator(const DcganOptions& o) : options_(o) {
    check_dcgan_options(o, "DcganDiscriminator");
    auto net = std::make_shared<nn::Sequential<T>>();
    auto down = [&](std::int64_t in, std::int64_t out, bool normed, std::int64_t k = 4, std::int64_t s = 2,
                    std::int64_t p = 1) {
      net->push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{in, out, k, s, p, 1, !normed}));
      if (normed) net->push_back(nn::make_norm2d<T>(nn::Norm::batch, out));
      net->push_back(nn::make_activation<T>(nn::Activation::LeakyReLU(0.2)));
    };
    const std::int64_t w = o.width;
    down(o.channels, w, false);
    for (std::int64_t i = 0; i < o.extra_layers; ++i) down(w, w, true, 3, 1, 1);
    down(w, 2 * w, true);
    if (o.image_size == 28) {
      net->push_back(std::make_shared<nn::Flatten<T>>());
      nn::LinearOptions l;
      l.in = 2 * w * 7 * 7, l.out = 1;
      net->push_back(std::make_shared<nn::Linear<T>>(l));
    } else {
      down(2 * w, 4 * w, true);
      down(4 * w, 8 * w, true);
      net->push_back(std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions{8 * w, 1, 4, 1, 0, 1, true}));
      net->push_back(std::make_shared<nn::Flatten<T>>());
    }
    net_ = this->register_module("net", net);
  }

  // images (N, C, S, S) -> logits (N, 1).
  Var<T> forward(const Var<T>& x) override {
    const Shape& s = x.shape();
    check(s.rank() == 4 && s[1] == options_.channels && s[2] == options_.image_size && s[3] == options_.image_size,
          describe(), ": input ", s, " should be (N, ", options_.channels, ", ", options_.image_size, ", ",
          options_.image_size, ")");
    return net_->forward(x);
  }

  std::string describe() const override {
    return gan::detail::concat("DcganDiscriminator(", options_.channels, "x", options_.image_size, "x",
                               options_.image_size, ", width ", options_.width, ")");
  }

 private:
  DcganOptions options_;
  std::shared_ptr<nn::Sequential<T>> net_;
};

}  // namespace models
}  // namespace gan
