#pragma once
// Whole-pixel translation of each image of an (N, C, H, W) batch by its own offset, the
// augmentation DiffAugment (Zhao et al. 2020) applies to everything a discriminator sees.
// Image n moves down by shift_y[n] and right by shift_x[n] rows / columns; pixels that come
// in from outside the image take `fill`. The backward pass is the adjoint: the gradient of
// every output pixel that came from the image goes back to its source pixel.

#include <algorithm>
#include <cstdint>

#include "gan/core/parallel.hpp"

namespace gan {
namespace detail {

// The rows (or columns) of the output that read from the image: [begin, end), source = o - shift.
struct ShiftRange {
  std::int64_t begin, end;
  ShiftRange(std::int64_t size, std::int64_t shift)
      : begin(std::clamp<std::int64_t>(shift, 0, size)), end(std::clamp<std::int64_t>(size + shift, 0, size)) {}
};

template <class T>
void translate_forward(T* y, const T* x, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                       const std::int64_t* shift_y, const std::int64_t* shift_x, T fill) {
  parallel_for(n * c, h * w, [&](std::int64_t plane) {
    const std::int64_t img = plane / c, sy = shift_y[img], sx = shift_x[img];
    const ShiftRange rows(h, sy), cols(w, sx);
    const T* in = x + plane * h * w;
    T* out = y + plane * h * w;
    std::fill(out, out + h * w, fill);
    for (std::int64_t o = rows.begin; o < rows.end; ++o)
      std::copy(in + (o - sy) * w + (cols.begin - sx), in + (o - sy) * w + (cols.end - sx), out + o * w + cols.begin);
  });
}

// Adds into dx (the convention of every backward kernel here).
template <class T>
void translate_backward(T* dx, const T* dy, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                        const std::int64_t* shift_y, const std::int64_t* shift_x) {
  parallel_for(n * c, h * w, [&](std::int64_t plane) {
    const std::int64_t img = plane / c, sy = shift_y[img], sx = shift_x[img];
    const ShiftRange rows(h, sy), cols(w, sx);
    const T* g = dy + plane * h * w;
    T* acc = dx + plane * h * w;
    for (std::int64_t o = rows.begin; o < rows.end; ++o)
      for (std::int64_t q = cols.begin; q < cols.end; ++q) acc[(o - sy) * w + (q - sx)] += g[o * w + q];
  });
}

}  // namespace detail
}  // namespace gan
