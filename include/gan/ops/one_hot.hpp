#pragma once
// Class labels as constant tensors for conditional GANs: one-hot rows (N, C) to
// concatenate with a generator's noise, and one-hot maps (N, C, H, W) to concatenate on
// the channel axis of a discriminator's input. Not differentiable: labels are data.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gan/core/tensor.hpp"

namespace gan {
namespace detail {

inline void check_one_hot_labels(const char* op, const std::vector<std::int64_t>& labels, std::int64_t num_classes) {
  check(num_classes > 0, op, ": num_classes must be positive, got ", num_classes);
  for (std::size_t i = 0; i < labels.size(); ++i)
    check(labels[i] >= 0 && labels[i] < num_classes, op, ": label ", labels[i], " at index ", i,
          " is outside [0, ", num_classes, ")");
}

}  // namespace detail

// (N, C) with row i all zeros except a 1 at column labels[i].
template <class T>
Tensor<T> one_hot(const std::vector<std::int64_t>& labels, std::int64_t num_classes) {
  detail::check_one_hot_labels("one_hot", labels, num_classes);
  const auto n = static_cast<std::int64_t>(labels.size());
  Tensor<T> y = Tensor<T>::zeros(Shape{n, num_classes});
  for (std::int64_t i = 0; i < n; ++i) y[i * num_classes + labels[static_cast<std::size_t>(i)]] = T(1);
  return y;
}

// (N, C, H, W) with map labels[i] of sample i all ones and every other map zero.
template <class T>
Tensor<T> one_hot_maps(const std::vector<std::int64_t>& labels, std::int64_t num_classes, std::int64_t height,
                       std::int64_t width) {
  detail::check_one_hot_labels("one_hot_maps", labels, num_classes);
  check(height > 0 && width > 0, "one_hot_maps: map size ", height, "x", width, " must be positive");
  const auto n = static_cast<std::int64_t>(labels.size());
  Tensor<T> y = Tensor<T>::zeros(Shape{n, num_classes, height, width});
  const std::int64_t plane = height * width;
  for (std::int64_t i = 0; i < n; ++i) {
    T* p = y.data() + (i * num_classes + labels[static_cast<std::size_t>(i)]) * plane;
    std::fill(p, p + plane, T(1));
  }
  return y;
}

}  // namespace gan
