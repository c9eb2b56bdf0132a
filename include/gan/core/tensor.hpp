#pragma once
// Tensor<T>: a contiguous, 64-byte aligned, row-major (NCHW) array with shared storage.
// Copying a Tensor copies the handle, like torch::Tensor: reshape() is a free view of the
// same memory and clone() makes a deep copy. Kernels see data() + shape() only.

#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "gan/core/aligned_buffer.hpp"
#include "gan/core/error.hpp"
#include "gan/core/shape.hpp"

namespace gan {

template <class T>
class Tensor {
  static_assert(std::is_arithmetic_v<T>, "Tensor holds arithmetic scalars");

 public:
  using value_type = T;
  using Vector = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>, Eigen::Aligned64>;
  using ConstVector = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>, Eigen::Aligned64>;
  using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  Tensor() = default;

  // Uninitialised: for outputs a kernel overwrites completely.
  static Tensor empty(const Shape& shape) {
    Tensor t;
    t.shape_ = shape;
    t.storage_ = std::make_shared<detail::Storage>(static_cast<std::size_t>(shape.numel()) * sizeof(T));
    return t;
  }
  static Tensor zeros(const Shape& shape) { return full(shape, T(0)); }
  static Tensor ones(const Shape& shape) { return full(shape, T(1)); }
  static Tensor full(const Shape& shape, T value) {
    Tensor t = empty(shape);
    t.fill(value);
    return t;
  }
  // Copies `values` (row-major) into a new tensor; sizes must agree.
  static Tensor from(const Shape& shape, const std::vector<T>& values) {
    check(static_cast<std::int64_t>(values.size()) == shape.numel(), "Tensor::from: ", values.size(),
          " values for shape ", shape, " (", shape.numel(), " elements)");
    Tensor t = empty(shape);
    std::copy(values.begin(), values.end(), t.data());
    return t;
  }
  static Tensor scalar(T value) { return full(Shape{1}, value); }

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  std::int64_t dim(int axis) const { return shape_.dim(axis); }
  std::int64_t numel() const { return shape_.numel(); }

  T* data() { return static_cast<T*>(storage_ ? storage_->data() : nullptr); }
  const T* data() const { return static_cast<const T*>(storage_ ? storage_->data() : nullptr); }
  T* begin() { return data(); }
  T* end() { return data() + numel(); }
  const T* begin() const { return data(); }
  const T* end() const { return data() + numel(); }

  // Flat (row-major) element access.
  T& operator[](std::int64_t i) { return data()[i]; }
  const T& operator[](std::int64_t i) const { return data()[i]; }
  // NCHW element access for rank-4 tensors (tests and reference code, not hot loops).
  T& at(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
    return data()[((n * shape_[1] + c) * shape_[2] + h) * shape_[3] + w];
  }
  const T& at(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) const {
    return data()[((n * shape_[1] + c) * shape_[2] + h) * shape_[3] + w];
  }
  T item() const {
    check(numel() == 1, "Tensor::item: tensor of shape ", shape_, " has ", numel(), " elements, expected 1");
    return data()[0];
  }

  // A view with a new shape over the same storage; one extent may be -1 (inferred).
  Tensor reshape(std::vector<std::int64_t> dims) const {
    std::int64_t known = 1;
    int infer = -1;
    for (std::size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == -1) {
        check(infer < 0, "reshape: more than one -1 in the new shape");
        infer = static_cast<int>(i);
      } else {
        known *= dims[i];
      }
    }
    if (infer >= 0) {
      check(known > 0 && numel() % known == 0, "reshape: cannot infer -1 for ", numel(),
            " elements of shape ", shape_);
      dims[static_cast<std::size_t>(infer)] = numel() / known;
    }
    Shape target(dims);
    check(target.numel() == numel(), "reshape: shape ", shape_, " (", numel(),
          " elements) cannot be viewed as ", target, " (", target.numel(), " elements)");
    Tensor view = *this;
    view.shape_ = target;
    return view;
  }
  Tensor view(const Shape& s) const { return reshape(s.to_vector()); }

  Tensor clone() const {
    if (!defined()) return Tensor();
    Tensor t = empty(shape_);
    std::copy(begin(), end(), t.data());
    return t;
  }
  // Copies the values of `src` (same element count) into this tensor's storage.
  void copy_from(const Tensor& src) {
    check(src.numel() == numel(), "copy_from: source shape ", src.shape(), " vs destination ", shape_);
    std::copy(src.begin(), src.end(), data());
  }
  void fill(T value) { std::fill(begin(), end(), value); }
  void zero() {
    if (numel()) std::memset(static_cast<void*>(data()), 0, static_cast<std::size_t>(numel()) * sizeof(T));
  }

  template <class U>
  Tensor<U> cast() const {
    Tensor<U> t = Tensor<U>::empty(shape_);
    std::transform(begin(), end(), t.data(), [](T v) { return static_cast<U>(v); });
    return t;
  }
  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }

  // Eigen views: the flat vector, or the tensor as a row-major (rows x numel/rows) matrix.
  Vector vec() { return Vector(data(), numel()); }
  ConstVector vec() const { return ConstVector(data(), numel()); }
  Eigen::Map<RowMatrix, Eigen::Aligned64> matrix(std::int64_t rows) {
    return Eigen::Map<RowMatrix, Eigen::Aligned64>(data(), rows, rows ? numel() / rows : 0);
  }
  Eigen::Map<const RowMatrix, Eigen::Aligned64> matrix(std::int64_t rows) const {
    return Eigen::Map<const RowMatrix, Eigen::Aligned64>(data(), rows, rows ? numel() / rows : 0);
  }

  // True when both handles point at the same storage (a view or a copy of the handle).
  bool shares_storage_with(const Tensor& o) const { return storage_ == o.storage_; }

 private:
  std::shared_ptr<detail::Storage> storage_;
  Shape shape_;
};

// Throws a gan::Error naming `who` and both shapes when `actual` differs from `expected`.
inline void check_same_shape(const Shape& actual, const Shape& expected, const char* who) {
  check(actual == expected, who, ": shape mismatch, got ", actual, " but expected ", expected);
}

}  // namespace gan
