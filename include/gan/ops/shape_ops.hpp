#pragma once
// Differentiable shape ops: reshape / flatten (free views), concat (U-Net skips,
// conditioning maps on the channel axis) and slice. Tensors are contiguous row-major,
// so along an axis every tensor is `outer` blocks of `extent * inner` contiguous values,
// and concat / slice are block copies.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/core/parallel.hpp"
#include "gan/kernels/elementwise.hpp"

namespace gan {
namespace detail {

// Product of the extents before / after `axis`.
inline std::int64_t outer_size(const Shape& s, int axis) {
  std::int64_t n = 1;
  for (int i = 0; i < axis; ++i) n *= s[i];
  return n;
}
inline std::int64_t inner_size(const Shape& s, int axis) {
  std::int64_t n = 1;
  for (int i = axis + 1; i < s.rank(); ++i) n *= s[i];
  return n;
}
inline int normalize_axis(const char* op, int axis, const Shape& s) {
  const int a = axis < 0 ? axis + s.rank() : axis;
  check(a >= 0 && a < s.rank(), op, ": axis ", axis, " out of range for shape ", s);
  return a;
}

}  // namespace detail

// Same values viewed with new extents (one may be -1). The gradient is dy viewed back.
template <class T>
Var<T> reshape(const Var<T>& x, const std::vector<std::int64_t>& dims) {
  check(x.defined(), "reshape: undefined input");
  Tensor<T> y = x.value().reshape(dims);
  const Shape in_shape = x.shape();
  return make_result(std::move(y), "reshape", {x}, [in_shape](const Tensor<T>& dy, GradSlots<T>& g) {
    // dy belongs to this result alone and is dropped once this closure returns, so the
    // first contribution to x's gradient can be dy itself, seen with x's shape.
    if (g.unset(0)) return g.set(0, dy.view(in_shape));
    kernels::axpy(g[0].data(), T(1), dy.data(), static_cast<std::size_t>(dy.numel()));
  });
}

// (N, d1, d2, ...) -> (N, d1 * d2 * ...), as nn.Flatten() between conv and linear layers.
template <class T>
Var<T> flatten(const Var<T>& x) {
  check(x.defined() && x.shape().rank() >= 1, "flatten: input needs a batch axis, got shape ",
        x.defined() ? x.shape().to_string() : std::string("undefined"));
  return reshape(x, {x.dim(0), detail::inner_size(x.shape(), 0)});
}

// Joins tensors along `axis` (1 = channels for NCHW). All other extents must agree.
template <class T>
Var<T> concat(const std::vector<Var<T>>& xs, int axis = 1) {
  check(!xs.empty(), "concat: no inputs");
  std::string shapes;
  for (const Var<T>& x : xs) {
    check(x.defined(), "concat: undefined input");
    shapes += (shapes.empty() ? "" : ", ") + x.shape().to_string();
  }
  const Shape& first = xs[0].shape();
  const int a = detail::normalize_axis("concat", axis, first);
  std::vector<std::int64_t> dims = first.to_vector();
  dims[static_cast<std::size_t>(a)] = 0;
  for (const Var<T>& x : xs) {
    bool ok = x.shape().rank() == first.rank();
    for (int i = 0; ok && i < first.rank(); ++i) ok = i == a || x.shape()[i] == first[i];
    check(ok, "concat(axis=", axis, "): shapes ", shapes, " must agree on every axis but ", axis);
    dims[static_cast<std::size_t>(a)] += x.shape()[a];
  }
  Tensor<T> y = Tensor<T>::empty(Shape(dims));
  const std::int64_t outer = detail::outer_size(first, a), inner = detail::inner_size(first, a);
  const std::int64_t out_block = dims[static_cast<std::size_t>(a)] * inner;
  std::vector<std::int64_t> offsets;  // start of each input's block inside an output block
  std::int64_t offset = 0;
  for (const Var<T>& x : xs) {
    const std::int64_t block = x.shape()[a] * inner;
    const T* src = x.value().data();
    T* dst = y.data() + offset;
    parallel_for(outer, block, [&](std::int64_t o) { std::copy_n(src + o * block, block, dst + o * out_block); });
    offsets.push_back(offset);
    offset += block;
  }
  return make_result(std::move(y), "concat", xs,
                     [offsets, outer, out_block](const Tensor<T>& dy, GradSlots<T>& g) {
                       for (std::size_t k = 0; k < offsets.size(); ++k) {
                         if (!g.needs(k)) continue;
                         Tensor<T>& gk = g[k];
                         const std::int64_t block = outer ? gk.numel() / outer : 0;
                         parallel_for(outer, block, [&](std::int64_t o) {
                           kernels::axpy(gk.data() + o * block, T(1), dy.data() + o * out_block + offsets[k],
                                         static_cast<std::size_t>(block));
                         });
                       }
                     });
}

// Elements [begin, end) along `axis` (default: the batch axis), as x[begin:end] in Python.
template <class T>
Var<T> slice(const Var<T>& x, std::int64_t begin, std::int64_t end, int axis = 0) {
  check(x.defined(), "slice: undefined input");
  const int a = detail::normalize_axis("slice", axis, x.shape());
  const std::int64_t extent = x.shape()[a];
  check(0 <= begin && begin <= end && end <= extent, "slice: range [", begin, ", ", end, ") on axis ", axis,
        " is outside shape ", x.shape());
  Shape out_shape = x.shape();
  out_shape[a] = end - begin;
  Tensor<T> y = Tensor<T>::empty(out_shape);
  const std::int64_t outer = detail::outer_size(x.shape(), a), inner = detail::inner_size(x.shape(), a);
  const std::int64_t in_block = extent * inner, block = (end - begin) * inner, offset = begin * inner;
  const T* src = x.value().data();
  T* dst = y.data();
  parallel_for(outer, block, [&](std::int64_t o) { std::copy_n(src + o * in_block + offset, block, dst + o * block); });
  return make_result(std::move(y), "slice", {x}, [=](const Tensor<T>& dy, GradSlots<T>& g) {
    T* gx = g[0].data();
    parallel_for(outer, block, [&](std::int64_t o) {
      kernels::axpy(gx + o * in_block + offset, T(1), dy.data() + o * block, static_cast<std::size_t>(block));
    });
  });
}

}  // namespace gan
