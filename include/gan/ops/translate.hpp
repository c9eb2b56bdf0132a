#pragma once
// Differentiable per-image translation of (N, C, H, W) batches (kernels/translate.hpp), and
// DiffAugment's random translation built on it (Zhao et al. 2020, "Differentiable
// Augmentation for Data-Efficient GAN Training"): the discriminator sees every real and
// every generated image shifted by a random offset, so on a small training set it cannot
// memorise exact pixel positions, while G still gets gradients through the shift.
//
//   Var<float> logits = D(random_translate(images, 3, rng, -1.0f));  // -1: MNIST's background

#include <cstdint>
#include <string>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/core/random.hpp"
#include "gan/kernels/translate.hpp"

namespace gan {

// Image n moves down by shift_y[n] and right by shift_x[n] pixels (negative: up / left);
// pixels with no source take `fill`.
template <class T>
Var<T> translate(const Var<T>& x, std::vector<std::int64_t> shift_y, std::vector<std::int64_t> shift_x, T fill = T(0)) {
  check(x.defined() && x.shape().rank() == 4, "translate: input must be (N, C, H, W), got ",
        x.defined() ? x.shape().to_string() : std::string("undefined"));
  const std::int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  check(std::int64_t(shift_y.size()) == n && std::int64_t(shift_x.size()) == n, "translate: ", shift_y.size(), " / ",
        shift_x.size(), " shifts for a batch of ", n, " (input ", x.shape(), ")");
  Tensor<T> y = Tensor<T>::empty(x.shape());
  detail::translate_forward(y.data(), x.value().data(), n, c, h, w, shift_y.data(), shift_x.data(), fill);
  return make_result(std::move(y), "translate", {x},
                     [n, c, h, w, sy = std::move(shift_y), sx = std::move(shift_x)](const Tensor<T>& dy, GradSlots<T>& g) {
                       detail::translate_backward(g[0].data(), dy.data(), n, c, h, w, sy.data(), sx.data());
                     });
}

// Every image shifted by offsets drawn uniformly from [-max_shift, max_shift] on each axis.
template <class T>
Var<T> random_translate(const Var<T>& x, std::int64_t max_shift, Rng& rng, T fill = T(0)) {
  check(max_shift >= 0, "random_translate: max_shift must be >= 0, got ", max_shift);
  check(x.defined() && x.shape().rank() == 4, "random_translate: input must be (N, C, H, W), got ",
        x.defined() ? x.shape().to_string() : std::string("undefined"));
  std::vector<std::int64_t> sy(static_cast<std::size_t>(x.dim(0))), sx(sy.size());
  for (std::size_t i = 0; i < sy.size(); ++i) sy[i] = rng.randint(-max_shift, max_shift + 1), sx[i] = rng.randint(-max_shift, max_shift + 1);
  return translate(x, std::move(sy), std::move(sx), fill);
}

}  // namespace gan
