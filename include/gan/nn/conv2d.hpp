#pragma once
// nn::Conv2d: a 2-D convolution layer with PyTorch's options, parameter names ("weight"
// (out, in, k, k), "bias" (out)) and default initialisation. The math is gan::conv2d.

#include <cmath>
#include <cstdint>
#include <string>

#include "gan/core/random.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/nn/init.hpp"
#include "gan/nn/module.hpp"
#include "gan/ops/conv2d.hpp"

namespace gan {
namespace nn {

struct Conv2dOptions {
  std::int64_t in = 0;   // input channels
  std::int64_t out = 0;  // output channels (filters)
  std::int64_t kernel = 0;
  std::int64_t stride = 1;
  std::int64_t padding = 0;
  std::int64_t dilation = 1;
  bool bias = true;
};

namespace detail {
// PyTorch's reset_parameters() for conv and linear layers: kaiming_uniform(a = sqrt(5))
// gives weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias gets the same bound.
template <class T>
Tensor<T> torch_default_weight(const Shape& shape, Rng& rng) {
  Tensor<T> w = Tensor<T>::empty(shape);
  init::kaiming_uniform_(w, std::sqrt(5.0), init::FanMode::fan_in, init::Nonlinearity::leaky_relu, rng);
  return w;
}
template <class T>
Tensor<T> torch_default_bias(std::int64_t n, const Tensor<T>& weight, Rng& rng) {
  Tensor<T> b = Tensor<T>::empty(Shape{n});
  const double bound = 1.0 / std::sqrt(static_cast<double>(init::fan_in(weight)));
  init::uniform_(b, -bound, bound, rng);
  return b;
}

// The checks a conv layer (Conv2d, ConvTranspose2d) makes on its options at construction:
// `no_input` is the layer's geometry of an empty input shape (only the options are known
// yet), `in` its input channels, `who` its describe().
inline void check_conv_options(kernels::ConvShape no_input, std::int64_t in, const std::string& who) {
  no_input.in_c = in;
  no_input.check_hyperparameters(who);
}

// The checks a conv layer makes on its input before computing the geometry: defined,
// rank 4 (N, C, H, W) with `in` channels. Returns the input's shape.
template <class T>
const Shape& check_conv_input(const Var<T>& x, std::int64_t in, const std::string& who) {
  check(x.defined(), who, ": input is undefined");
  const Shape& s = x.shape();
  check(s.rank() == 4, who, ": input ", s, " must have rank 4 (N, C, H, W)");
  check(s[1] == in, who, ": input ", s, " has ", s[1], " channels, expected ", in);
  return s;
}
}  // namespace detail

template <class T = float>
class Conv2d : public Layer<T> {
 public:
  // Throws gan::Error (starting with describe()) on zero channels or kernel, stride 0,
  // negative padding or dilation 0. Initial values are drawn from `rng`.
  explicit Conv2d(const Conv2dOptions& o, Rng& rng = default_rng()) : options_(o) {
    detail::check_conv_options(geometry(Shape{}), o.in, describe());
    Tensor<T> w = detail::torch_default_weight<T>(Shape{o.out, o.in, o.kernel, o.kernel}, rng);
    weight_ = this->register_parameter("weight", w);
    if (o.bias) bias_ = this->register_parameter("bias", detail::torch_default_bias<T>(o.out, w, rng));
  }

  // x: (N, in, H, W) -> (N, out, OH, OW), OH = floor((H + 2p - d(k - 1) - 1) / s) + 1.
  Var<T> forward(const Var<T>& x) override {
    const Shape& s = detail::check_conv_input(x, options_.in, describe());
    geometry(s).validate(describe());  // a too-small image: say which layer, not just "conv2d"
    return conv2d(x, weight_, bias_, Conv2dParams{options_.stride, options_.padding, options_.dilation});
  }

  // "Conv2d(3->64, k=4, s=2, p=1)", plus ", d=2" and ", bias=false" when they apply.
  std::string describe() const override {
    const Conv2dOptions& o = options_;
    std::string s = "Conv2d(" + std::to_string(o.in) + "->" + std::to_string(o.out) + ", k=" +
                    std::to_string(o.kernel) + ", s=" + std::to_string(o.stride) + ", p=" + std::to_string(o.padding);
    if (o.dilation != 1) s += ", d=" + std::to_string(o.dilation);
    if (!o.bias) s += ", bias=false";
    return s + ")";
  }

  const Conv2dOptions& options() const { return options_; }
  Var<T> weight() const { return weight_; }
  Var<T> bias() const { return bias_; }  // undefined when options().bias is false

 private:
  kernels::ConvShape geometry(const Shape& x) const {
    return kernels::conv_shape(x, options_.out, options_.kernel, options_.stride, options_.padding, options_.dilation);
  }

  Conv2dOptions options_;
  Var<T> weight_;
  Var<T> bias_;
};

}  // namespace nn
}  // namespace gan
