#pragma once
// nn::ConvTranspose2d: the transposed convolution layer ("deconvolution" in GAN papers)
// with PyTorch's options, parameter names ("weight" (in, out, k, k), "bias" (out)) and
// default initialisation. The math is gan::conv_transpose2d.

#include <cstdint>
#include <string>

#include "gan/core/random.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/module.hpp"
#include "gan/ops/conv_transpose2d.hpp"

namespace gan {
namespace nn {

struct ConvTranspose2dOptions {
  std::int64_t in = 0;   // input channels
  std::int64_t out = 0;  // output channels
  std::int64_t kernel = 0;
  std::int64_t stride = 1;
  std::int64_t padding = 0;
  std::int64_t output_padding = 0;  // must be < stride or < dilation
  std::int64_t dilation = 1;
  bool bias = true;
};

template <class T = float>
class ConvTranspose2d : public Layer<T> {
 public:
  // Throws gan::Error (starting with describe()) on invalid options. PyTorch's default
  // init; note its fan_in for the (in, out, k, k) weight is out * k * k.
  explicit ConvTranspose2d(const ConvTranspose2dOptions& o, Rng& rng = default_rng()) : options_(o) {
    detail::check_conv_options(geometry(Shape{}), o.in, describe());
    Tensor<T> w = detail::torch_default_weight<T>(Shape{o.in, o.out, o.kernel, o.kernel}, rng);
    weight_ = this->register_parameter("weight", w);
    if (o.bias) bias_ = this->register_parameter("bias", detail::torch_default_bias<T>(o.out, w, rng));
  }

  // x: (N, in, H, W) -> (N, out, OH, OW), OH = (H - 1)s - 2p + d(k - 1) + output_padding + 1.
  Var<T> forward(const Var<T>& x) override {
    const Shape& s = detail::check_conv_input(x, options_.in, describe());
    geometry(s).validate(describe());
    const ConvTranspose2dOptions& o = options_;
    return conv_transpose2d(x, weight_, bias_, ConvTranspose2dParams{o.stride, o.padding, o.output_padding, o.dilation});
  }

  // "ConvTranspose2d(100->256, k=4, s=1, p=0)", plus ", op=1", ", d=2", ", bias=false".
  std::string describe() const override {
    const ConvTranspose2dOptions& o = options_;
    std::string s = "ConvTranspose2d(" + std::to_string(o.in) + "->" + std::to_string(o.out) +
                    ", k=" + std::to_string(o.kernel) + ", s=" + std::to_string(o.stride) +
                    ", p=" + std::to_string(o.padding);
    if (o.output_padding != 0) s += ", op=" + std::to_string(o.output_padding);
    if (o.dilation != 1) s += ", d=" + std::to_string(o.dilation);
    if (!o.bias) s += ", bias=false";
    return s + ")";
  }

  const ConvTranspose2dOptions& options() const { return options_; }
  Var<T> weight() const { return weight_; }
  Var<T> bias() const { return bias_; }  // undefined when options().bias is false

 private:
  kernels::ConvShape geometry(const Shape& x) const {
    const ConvTranspose2dOptions& o = options_;
    return kernels::conv_transpose_shape(x, o.out, o.kernel, o.stride, o.padding, o.output_padding, o.dilation);
  }

  ConvTranspose2dOptions options_;
  Var<T> weight_;
  Var<T> bias_;
};

}  // namespace nn
}  // namespace gan
