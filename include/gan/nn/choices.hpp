#pragma once
// Which normalisation and activation a block uses, as runtime choices: pix2pix ablates
// batch vs instance norm, the experiments swap ReLU / LeakyReLU / ELU. One factory each,
// so blocks and models spell the choice the same way.

#include <cstdint>
#include <memory>
#include <string>

#include "gan/nn/activation.hpp"
#include "gan/nn/batch_norm.hpp"
#include "gan/nn/instance_norm.hpp"

namespace gan {
namespace nn {

enum class Norm { none, batch, instance };

inline const char* to_string(Norm n) {
  switch (n) {
    case Norm::batch: return "batch";
    case Norm::instance: return "instance";
    default: return "none";
  }
}

// A normalisation layer over `channels` feature maps, or nullptr for Norm::none.
template <class T>
std::shared_ptr<Layer<T>> make_norm2d(Norm kind, std::int64_t channels) {
  switch (kind) {
    case Norm::batch: {
      BatchNormOptions o;
      o.num_features = channels;
      return std::make_shared<BatchNorm2d<T>>(o);
    }
    case Norm::instance: {
      InstanceNormOptions o;
      o.num_features = channels;
      return std::make_shared<InstanceNorm2d<T>>(o);
    }
    default: return nullptr;
  }
}

struct Activation {
  enum Kind { none, relu, leaky_relu, elu, tanh, sigmoid } kind = relu;
  double parameter = 0.2;  // LeakyReLU slope or ELU alpha

  static Activation ReLU() { return {relu, 0}; }
  static Activation LeakyReLU(double slope = 0.2) { return {leaky_relu, slope}; }
  static Activation ELU(double alpha = 1.0) { return {elu, alpha}; }
};

// The activation layer, or nullptr for Activation::none.
template <class T>
std::shared_ptr<Layer<T>> make_activation(Activation a) {
  switch (a.kind) {
    case Activation::relu: return std::make_shared<ReLU<T>>();
    case Activation::leaky_relu: return std::make_shared<LeakyReLU<T>>(a.parameter);
    case Activation::elu: return std::make_shared<ELU<T>>(a.parameter);
    case Activation::tanh: return std::make_shared<Tanh<T>>();
    case Activation::sigmoid: return std::make_shared<Sigmoid<T>>();
    default: return nullptr;
  }
}

}  // namespace nn
}  // namespace gan
