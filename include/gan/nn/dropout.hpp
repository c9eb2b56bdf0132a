#pragma once
// Dropout layer. Holds its own Rng so a model's masks do not depend on what else drew from
// the global generator, and exposes the Rng state so a resumed run draws the same masks.
// active_in_eval keeps dropout on after eval(): pix2pix uses dropout as the generator's
// noise source at test time too (Isola et al. 2017, section 3.1).

#include <cstdint>
#include <string>

#include "gan/core/random.hpp"
#include "gan/nn/module.hpp"
#include "gan/ops/dropout.hpp"

namespace gan {
namespace nn {

struct DropoutOptions {
  double p = 0.5;               // probability of zeroing an element
  std::uint64_t seed = 0;       // seed of this layer's Rng
  bool active_in_eval = false;  // true: drop in eval() as well (pix2pix)
};

template <class T = float>
class Dropout : public Layer<T> {
 public:
  explicit Dropout(const DropoutOptions& o = {}) : options_(o), rng_(o.seed) {
    check(o.p >= 0.0 && o.p <= 1.0, "Dropout: p must be in [0, 1], got ", o.p);
  }

  Var<T> forward(const Var<T>& x) override {
    return gan::dropout(x, options_.p, this->is_training() || options_.active_in_eval, rng_);
  }

  std::string describe() const override {
    return gan::detail::concat("Dropout(p=", options_.p, options_.active_in_eval ? ", active_in_eval" : "", ")");
  }

  const DropoutOptions& options() const { return options_; }
  Rng& rng() { return rng_; }
  // For checkpoints: saving and restoring the state reproduces the following masks.
  Rng::State rng_state() const { return rng_.state(); }
  void set_rng_state(const Rng::State& s) { rng_.set_state(s); }

 private:
  DropoutOptions options_;
  Rng rng_;
};

}  // namespace nn
}  // namespace gan
