#pragma once
// Layers that only move values around: Flatten (conv features -> linear), Reshape (linear
// output -> feature maps in a DCGAN generator), Upsample (resize-convolution generators,
// which avoid the checkerboard artefacts of strided transposed convolutions).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gan/nn/module.hpp"
#include "gan/ops/shape_ops.hpp"
#include "gan/ops/upsample.hpp"

namespace gan {
namespace nn {

// (N, d1, d2, ...) -> (N, d1 * d2 * ...)
template <class T = float>
class Flatten : public Layer<T> {
 public:
  Var<T> forward(const Var<T>& x) override { return gan::flatten(x); }
  std::string describe() const override { return "Flatten()"; }
};

// View as `dims`, the full shape including the batch axis; one extent may be -1,
// e.g. Reshape({-1, 256, 7, 7}) after a Linear(100 -> 256*7*7).
template <class T = float>
class Reshape : public Layer<T> {
 public:
  explicit Reshape(std::vector<std::int64_t> dims) : dims_(std::move(dims)) {
    int inferred = 0;
    for (std::int64_t d : dims_) {
      check(d >= 0 || d == -1, "Reshape: extent ", d, " must be >= 0 or -1");
      inferred += d == -1;
    }
    check(!dims_.empty() && inferred <= 1, "Reshape: needs a non-empty shape with at most one -1");
  }
  Var<T> forward(const Var<T>& x) override {
    try {
      return gan::reshape(x, dims_);
    } catch (const Error& e) {
      fail(describe(), ": ", e.what());
    }
  }
  std::string describe() const override {
    std::string s = "Reshape(";
    for (std::size_t i = 0; i < dims_.size(); ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
    return s + ")";
  }

 private:
  std::vector<std::int64_t> dims_;
};

struct UpsampleOptions {
  enum Mode { nearest, bilinear, bicubic };
  std::int64_t scale = 2;  // integer scale factor, used when out_h / out_w are 0
  Mode mode = nearest;
  std::int64_t out_h = 0;  // explicit output size (both or neither)
  std::int64_t out_w = 0;
};

// F.interpolate as a layer, align_corners=False.
template <class T = float>
class Upsample : public Layer<T> {
 public:
  explicit Upsample(const UpsampleOptions& o = {}) : options_(o) {
    check((o.out_h > 0) == (o.out_w > 0) && o.out_h >= 0 && o.out_w >= 0,
          "Upsample: give both out_h and out_w (positive) or neither, got ", o.out_h, "x", o.out_w);
    check(o.out_h > 0 || o.scale >= 1, "Upsample: scale must be >= 1, got ", o.scale);
  }

  Var<T> forward(const Var<T>& x) override {
    check(x.defined() && x.shape().rank() == 4, describe(), ": input must be (N, C, H, W), got ",
          x.defined() ? x.shape().to_string() : std::string("undefined"));
    const bool sized = options_.out_h > 0;
    const std::int64_t oh = sized ? options_.out_h : x.dim(2) * options_.scale;
    const std::int64_t ow = sized ? options_.out_w : x.dim(3) * options_.scale;
    switch (options_.mode) {
      case UpsampleOptions::bilinear: return gan::upsample_bilinear(x, oh, ow);
      case UpsampleOptions::bicubic: return gan::upsample_bicubic(x, oh, ow);
      default: return sized ? gan::upsample_nearest(x, oh, ow) : gan::upsample_nearest(x, options_.scale);
    }
  }

  std::string describe() const override {
    static const char* names[] = {"nearest", "bilinear", "bicubic"};
    std::string size = options_.out_h > 0
                           ? gan::detail::concat("size=", options_.out_h, "x", options_.out_w)
                           : gan::detail::concat("scale=", options_.scale);
    return gan::detail::concat("Upsample(", size, ", mode=", names[options_.mode], ")");
  }

 private:
  UpsampleOptions options_;
};

}  // namespace nn
}  // namespace gan
