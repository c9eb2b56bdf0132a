#pragma once
// Shape: up to six extents, row-major (NCHW for images). Small and copyable by value.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "gan/core/error.hpp"

namespace gan {

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims) { assign(dims.begin(), dims.end()); }
  explicit Shape(const std::vector<std::int64_t>& dims) { assign(dims.begin(), dims.end()); }

  int rank() const { return rank_; }
  std::int64_t operator[](int i) const { return dims_[static_cast<std::size_t>(i)]; }
  std::int64_t& operator[](int i) { return dims_[static_cast<std::size_t>(i)]; }
  // Extent of axis i, negative counting from the end (like PyTorch's size(-1)).
  std::int64_t dim(int i) const {
    int axis = i < 0 ? i + rank_ : i;
    check(axis >= 0 && axis < rank_, "axis ", i, " out of range for shape ", to_string());
    return dims_[static_cast<std::size_t>(axis)];
  }

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
    return n;
  }
  std::vector<std::int64_t> to_vector() const {
    return std::vector<std::int64_t>(dims_.begin(), dims_.begin() + rank_);
  }

  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[static_cast<std::size_t>(i)] != o.dims_[static_cast<std::size_t>(i)]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  // "(8, 1, 28, 28)": the form every error message uses.
  std::string to_string() const {
    std::string s = "(";
    for (int i = 0; i < rank_; ++i) {
      if (i) s += ", ";
      s += std::to_string(dims_[static_cast<std::size_t>(i)]);
    }
    return s + ")";
  }

 private:
  template <class It>
  void assign(It first, It last) {
    check(last - first <= kMaxRank, "Shape: rank ", last - first, " exceeds ", kMaxRank);
    rank_ = 0;
    for (It it = first; it != last; ++it) {
      check(*it >= 0, "Shape: negative extent ", *it);
      dims_[static_cast<std::size_t>(rank_++)] = *it;
    }
  }

  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.to_string(); }

}  // namespace gan
