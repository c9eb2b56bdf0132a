#pragma once
// pix2pix U-Net generator: num_downs stride-2 levels (8 for 256x256, so the bottleneck is
// 1x1), built inside out from nested UnetBlocks. Dropout on the three innermost decoder
// levels is pix2pix's only noise source and stays on at test time.

#include <memory>
#include <string>

#include "gan/nn/unet_block.hpp"

namespace gan {
namespace models {

struct UnetGeneratorOptions {
  std::int64_t input_channels = 3;
  std::int64_t output_channels = 3;
  int num_downs = 8;               // input H and W must be divisible by 2^num_downs
  std::int64_t base_width = 64;    // ngf
  nn::Norm norm = nn::Norm::batch;
  bool dropout = true;
  std::uint64_t seed = 0;          // dropout masks
};

template <class T = float>
class UnetGenerator : public nn::Layer<T> {
 public:
  explicit UnetGenerator(const UnetGeneratorOptions& o) : options_(o) {
    check(o.num_downs >= 5, "UnetGenerator: num_downs must be at least 5, got ", o.num_downs);
    using Block = nn::UnetBlock<T>;
    using Opt = nn::UnetBlockOptions;
    const std::int64_t w = o.base_width;
    auto block = [&](std::int64_t outer, std::int64_t inner, Opt::Position pos, bool dropout, std::shared_ptr<nn::Layer<T>> sub,
                     std::int64_t input = 0) {
      Opt b;
      b.outer_channels = outer, b.inner_channels = inner, b.input_channels = input, b.position = pos;
      b.norm = o.norm, b.dropout = dropout, b.dropout_seed = o.seed + static_cast<std::uint64_t>(++blocks_);
      return std::static_pointer_cast<nn::Layer<T>>(std::make_shared<Block>(b, std::move(sub)));
    };
    std::shared_ptr<nn::Layer<T>> net = block(8 * w, 8 * w, Opt::innermost, false, nullptr);
    for (int i = 0; i < o.num_downs - 5; ++i) net = block(8 * w, 8 * w, Opt::middle, o.dropout, net);
    net = block(4 * w, 8 * w, Opt::middle, false, net);
    net = block(2 * w, 4 * w, Opt::middle, false, net);
    net = block(w, 2 * w, Opt::middle, false, net);
    net = block(o.output_channels, w, Opt::outermost, false, net, o.input_channels);
    net_ = this->register_module("net", net);
  }

  Var<T> forward(const Var<T>& x) override {
    const std::int64_t step = std::int64_t(1) << options_.num_downs;
    check(x.shape().rank() == 4 && x.dim(1) == options_.input_channels && x.dim(2) % step == 0 && x.dim(3) % step == 0,
          describe(), ": input ", x.shape(), " needs ", options_.input_channels, " channels and H, W divisible by ", step);
    return net_->forward(x);
  }

  std::string describe() const override {
    return gan::detail::concat("UnetGenerator(", options_.input_channels, "->", options_.output_channels,
                               ", num_downs=", options_.num_downs, ")");
  }

 private:
  UnetGeneratorOptions options_;
  int blocks_ = 0;
  std::shared_ptr<nn::Layer<T>> net_;
};

}  // namespace models
}  // namespace gan
