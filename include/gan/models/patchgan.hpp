#pragma once
// PatchGAN discriminator (pix2pix): a fully convolutional net whose every output logit
// judges one patch of the input. Depth sets the patch size (receptive field):
// n_layers 0 -> 1x1 (PixelGAN), 1 -> 16, 2 -> 34, 3 -> 70 (the paper's default), 4 -> 142,
// 5 -> 286. Outputs logits: pair it with bce_with_logits.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gan/nn/choices.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/sequential.hpp"

namespace gan {
namespace models {

struct PatchGanOptions {
  std::int64_t input_channels = 6;  // conditional use: input image ++ output image
  std::int64_t base_width = 64;     // ndf
  int n_layers = 3;
  nn::Norm norm = nn::Norm::batch;
};

// (kernel, stride) of each conv, first to last, for a given depth.
inline std::vector<std::pair<int, int>> patchgan_convs(int n_layers) {
  check(n_layers >= 0, "PatchGan: n_layers must be >= 0, got ", n_layers);
  if (n_layers == 0) return {{1, 1}, {1, 1}, {1, 1}};
  std::vector<std::pair<int, int>> convs(static_cast<std::size_t>(n_layers), {4, 2});
  convs.push_back({4, 1});
  convs.push_back({4, 1});
  return convs;
}

// Receptive field of one output logit, in input pixels.
inline std::int64_t patchgan_receptive_field(int n_layers) {
  auto convs = patchgan_convs(n_layers);
  std::int64_t field = 1;
  for (auto it = convs.rbegin(); it != convs.rend(); ++it) field = (field - 1) * it->second + it->first;
  return field;
}

template <class T = float>
class PatchGan : public nn::Layer<T> {
 public:
  explicit PatchGan(const PatchGanOptions& o) : options_(o) {
    check(o.input_channels > 0 && o.base_width > 0, "PatchGan: channel counts must be positive");
    auto convs = patchgan_convs(o.n_layers);
    auto net = std::make_shared<nn::Sequential<T>>();
    std::int64_t in = o.input_channels;
    for (std::size_t i = 0; i < convs.size(); ++i) {
      const bool last = i + 1 == convs.size();
      const std::int64_t width = std::min<std::int64_t>(std::int64_t(1) << std::min<std::size_t>(i, 3), 8) * o.base_width;
      const std::int64_t out = last ? 1 : width;
      const bool normed = i > 0 && !last;  // no norm on the input layer or the logit layer
      const int k = convs[i].first, s = convs[i].second;
      net->push_back(std::make_shared<nn::Conv2d<T>>(
          nn::Conv2dOptions{in, out, k, s, k == 1 ? 0 : 1, 1, !(normed && o.norm == nn::Norm::batch)}));
      if (!last) {
        if (normed)
          if (auto n = nn::make_norm2d<T>(o.norm, out)) net->push_back(n);
        net->push_back(nn::make_activation<T>(nn::Activation::LeakyReLU(0.2)));
      }
      in = out;
    }
    net_ = this->register_module("net", net);
  }

  Var<T> forward(const Var<T>& x) override { return net_->forward(x); }

  std::string describe() const override {
    return gan::detail::concat("PatchGan(", options_.input_channels, " ch, n_layers=", options_.n_layers,
                          ", receptive field ", patchgan_receptive_field(options_.n_layers), ")");
  }

 private:
  PatchGanOptions options_;
  std::shared_ptr<nn::Sequential<T>> net_;
};

}  // namespace models
}  // namespace gan
