#pragma once
// U-Net skip block (pix2pix; Ronneberger et al. 2015): down-sample, run the inner block,
// up-sample, and concatenate the block's input on channels so fine detail skips the
// bottleneck. Blocks nest: the generator is one outermost block wrapping the rest.
//
//   outermost:  conv -> inner -> ReLU -> convT -> tanh            (no skip)
//   middle:     LReLU -> conv -> norm -> inner -> ReLU -> convT -> norm [-> dropout] ++ x
//   innermost:  LReLU -> conv -> ReLU -> convT -> norm ++ x       (no norm at the 1x1 bottleneck:
//               batch norm over a 1x1 map of batch 1 would zero it)

#include <memory>
#include <string>

#include "gan/nn/choices.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/conv_transpose2d.hpp"
#include "gan/nn/dropout.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/ops/shape_ops.hpp"

namespace gan {
namespace nn {

struct UnetBlockOptions {
  enum Position { outermost, middle, innermost };
  std::int64_t outer_channels = 64;  // channels this block returns (before the skip concat)
  std::int64_t inner_channels = 128; // channels the inner block sees
  std::int64_t input_channels = 0;   // 0: same as outer_channels
  Position position = middle;
  Norm norm = Norm::batch;
  bool dropout = false;              // pix2pix: 0.5 on the three innermost decoder layers, kept at test
  std::uint64_t dropout_seed = 0;
};

template <class T = float>
class UnetBlock : public Layer<T> {
 public:
  // `inner` is the nested block; must be null exactly for the innermost position.
  UnetBlock(const UnetBlockOptions& o, std::shared_ptr<Layer<T>> inner) : options_(o) {
    const bool innermost = o.position == UnetBlockOptions::innermost;
    check(innermost == (inner == nullptr), "UnetBlock: the innermost block has no inner block; every other needs one");
    check(o.outer_channels > 0 && o.inner_channels > 0, "UnetBlock: channel counts must be positive");
    const std::int64_t in = o.input_channels ? o.input_channels : o.outer_channels;
    const bool bias = o.norm != Norm::batch;  // batch norm's shift makes a conv bias redundant
    auto down_conv = std::make_shared<Conv2d<T>>(Conv2dOptions{in, o.inner_channels, 4, 2, 1, 1, bias});
    const std::int64_t up_in = innermost ? o.inner_channels : 2 * o.inner_channels;  // inner block concatenated
    ConvTranspose2dOptions up_options;
    up_options.in = up_in;
    up_options.out = o.outer_channels;
    up_options.kernel = 4;
    up_options.stride = 2;
    up_options.padding = 1;
    up_options.bias = o.position == UnetBlockOptions::outermost || bias;
    auto up_conv = std::make_shared<ConvTranspose2d<T>>(up_options);

    auto body = std::make_shared<Sequential<T>>();
    if (o.position != UnetBlockOptions::outermost) body->push_back(make_activation<T>(Activation::LeakyReLU(0.2)));
    body->push_back(down_conv);
    if (o.position == UnetBlockOptions::middle)
      if (auto n = make_norm2d<T>(o.norm, o.inner_channels)) body->push_back(n);
    if (inner) body->push_back(inner);
    body->push_back(make_activation<T>(Activation::ReLU()));
    body->push_back(up_conv);
    if (o.position == UnetBlockOptions::outermost) {
      body->push_back(make_activation<T>(Activation{Activation::tanh, 0}));
    } else {
      if (auto n = make_norm2d<T>(o.norm, o.outer_channels)) body->push_back(n);
      if (o.dropout) body->push_back(std::make_shared<Dropout<T>>(DropoutOptions{0.5, o.dropout_seed, true}));
    }
    body_ = this->register_module("body", body);
  }

  Var<T> forward(const Var<T>& x) override {
    Var<T> y = body_->forward(x);
    if (options_.position == UnetBlockOptions::outermost) return y;
    return concat(std::vector<Var<T>>{x, y}, 1);
  }

  std::string describe() const override {
    return gan::detail::concat("UnetBlock(", options_.outer_channels, "<->", options_.inner_channels, ")");
  }

 private:
  UnetBlockOptions options_;
  std::shared_ptr<Sequential<T>> body_;
};

}  // namespace nn
}  // namespace gan
