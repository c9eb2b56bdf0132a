#pragma once
// Inverted dropout: in training each element is zeroed with probability p and the
// survivors are scaled by 1/(1-p), so eval needs no rescaling. The mask comes from the
// counter-based gan::Rng (element i uses counter base + i): the same seed and state give
// the same mask on any thread count, and a checkpointed Rng state resumes the sequence.

#include <cstdint>

#include "gan/autograd/variable.hpp"
#include "gan/core/parallel.hpp"
#include "gan/core/random.hpp"
#include "gan/kernels/elementwise.hpp"

namespace gan {

// Dropout mask of x's shape: 0 with probability p, else 1/(1-p). Advances rng by numel.
template <class T>
Tensor<T> dropout_mask(const Shape& shape, double p, Rng& rng) {
  check(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got ", p);
  Tensor<T> mask = Tensor<T>::empty(shape);
  const std::uint64_t base = rng.reserve(static_cast<std::uint64_t>(mask.numel()));
  const T keep_scale = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
  T* m = mask.data();
  parallel_for(mask.numel(), 20, [&](std::int64_t i) {
    m[i] = rng.uniform_at(base + static_cast<std::uint64_t>(i)) >= p ? keep_scale : T(0);
  });
  return mask;
}

// Identity (the same Var) when !training or p == 0; otherwise x * mask, gradient dy * mask.
template <class T>
Var<T> dropout(const Var<T>& x, double p, bool training, Rng& rng) {
  check(x.defined(), "dropout: undefined input");
  check(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got ", p);
  if (!training || p == 0.0) return x;
  Tensor<T> mask = dropout_mask<T>(x.shape(), p, rng);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  kernels::mul(y.data(), x.value().data(), mask.data(), static_cast<std::size_t>(y.numel()));
  return make_result(std::move(y), "dropout", {x}, [mask](const Tensor<T>& dy, GradSlots<T>& g) {
    kernels::mul_add(g[0].data(), dy.data(), mask.data(), static_cast<std::size_t>(dy.numel()));
  });
}

}  // namespace gan
