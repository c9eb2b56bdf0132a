#pragma once
// Reader for the PyTorch reference fixtures in tests/reference/data/<case>.bin, written by
// tests/reference/make_refs.py, plus check_close(), the comparison every parity test uses
// (llm.c check_tensor style: on failure it prints the first values and the max difference).
//
// File format (little-endian):
//   char[8] magic "GANREF1\0", u32 count, then `count` times:
//   u32 name_len, name bytes, u32 rank, i64 dims[rank], f32 data[prod(dims)] (row-major).
// A rank-0 tensor (a scalar loss) is returned with shape (1).

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/core/error.hpp"
#include "gan/core/tensor.hpp"

#ifndef GAN_TEST_DATA_DIR
#error "GAN_TEST_DATA_DIR must be the absolute path of tests/ (tests/CMakeLists.txt defines it)"
#endif

namespace gan {
namespace test {

// All tensors of one case, by name, in file order.
class RefFile {
 public:
  RefFile() = default;
  RefFile(std::string path, std::vector<std::pair<std::string, Tensor<float>>> tensors)
      : path_(std::move(path)), tensors_(std::move(tensors)) {}

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const {
    for (auto& [n, t] : tensors_)
      if (n == name) return true;
    return false;
  }
  // A fresh copy, so a test may hand it to a layer or op that writes into it.
  Tensor<float> get(const std::string& name) const {
    for (auto& [n, t] : tensors_)
      if (n == name) return t.clone();
    std::string names;
    for (auto& [n, t] : tensors_) names += (names.empty() ? "" : ", ") + n;
    fail("reference fixture ", path_, " has no tensor \"", name, "\"; it holds: ", names,
         ". If make_refs.py changed, re-run /usr/bin/python3 tests/reference/make_refs.py");
  }
  Tensor<float> operator[](const std::string& name) const { return get(name); }
  // Scalar stored as float (loss value, class label count, ...).
  float scalar(const std::string& name) const {
    Tensor<float> t = get(name);
    check(t.numel() == 1, "reference fixture ", path_, ": \"", name, "\" has shape ", t.shape(),
          ", expected one value");
    return t[0];
  }

 private:
  std::string path_;
  std::vector<std::pair<std::string, Tensor<float>>> tensors_;
};

namespace detail {
template <class U>
U read_le(std::istream& in, const std::string& path, const char* what) {
  static_assert(std::is_arithmetic_v<U>, "plain scalars only");
  unsigned char bytes[sizeof(U)];
  in.read(reinterpret_cast<char*>(bytes), sizeof(U));
  check(static_cast<bool>(in), "reference fixture ", path, ": truncated while reading ", what);
  U v;
  // The build machines are little-endian; a byte swap would go here otherwise.
  std::memcpy(&v, bytes, sizeof(U));
  return v;
}
}  // namespace detail

// Loads tests/reference/data/<case_name>.bin.
inline RefFile load_ref(const std::string& case_name) {
  const std::string path = std::string(GAN_TEST_DATA_DIR) + "/reference/data/" + case_name + ".bin";
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), "reference fixture ", path,
        " is missing: run /usr/bin/python3 tests/reference/make_refs.py (needs Debian's python3-torch)");
  char magic[8];
  in.read(magic, 8);
  check(in && std::memcmp(magic, "GANREF1\0", 8) == 0, "reference fixture ", path,
        ": bad magic (expected \"GANREF1\\0\"); regenerate with /usr/bin/python3 tests/reference/make_refs.py");
  const auto count = detail::read_le<std::uint32_t>(in, path, "tensor count");
  std::vector<std::pair<std::string, Tensor<float>>> tensors;
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto len = detail::read_le<std::uint32_t>(in, path, "name length");
    check(len > 0 && len < 256, "reference fixture ", path, ": implausible name length ", len);
    std::string name(len, '\0');
    in.read(&name[0], len);
    check(static_cast<bool>(in), "reference fixture ", path, ": truncated name of tensor ", i);
    const auto rank = detail::read_le<std::uint32_t>(in, path, "rank");
    check(rank <= static_cast<std::uint32_t>(Shape::kMaxRank), "reference fixture ", path, ": \"", name,
          "\" has rank ", rank);
    std::vector<std::int64_t> dims;
    for (std::uint32_t d = 0; d < rank; ++d) dims.push_back(detail::read_le<std::int64_t>(in, path, "dims"));
    if (dims.empty()) dims.push_back(1);  // rank 0 -> (1)
    Tensor<float> t = Tensor<float>::empty(Shape(dims));
    in.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(t.numel() * sizeof(float)));
    check(static_cast<bool>(in), "reference fixture ", path, ": truncated data of \"", name, "\"");
    tensors.emplace_back(std::move(name), std::move(t));
  }
  return RefFile(path, std::move(tensors));
}

// Copies a fixture tensor into a parameter (a layer's weight() returns a const handle;
// the copy of the handle shares the value's storage). Shapes must agree exactly.
inline void set_value(Var<float> param, const Tensor<float>& value, const std::string& what) {
  check(param.defined(), "set_value: ", what, " is undefined (layer built without it?)");
  check_same_shape(value.shape(), param.shape(), what.c_str());
  param.value().copy_from(value);
}

// Passes when every |actual - expected| <= atol + rtol * |expected| (numpy.isclose) and the
// shapes agree. On failure prints the name, the first values side by side, the worst index
// and the max abs diff, and fails the enclosing doctest check. Returns the verdict.
// With the environment variable GAN_PARITY_VERBOSE set it also reports, for every tensor,
// the max abs diff and the worst diff / tolerance ratio (how much headroom a test has).
template <class T>
bool check_close(const std::string& name, const Tensor<T>& actual, const Tensor<float>& expected, double rtol,
                 double atol) {
  if (actual.shape() != expected.shape()) {
    CHECK_MESSAGE(actual.shape() == expected.shape(),
                  name << ": shape " << actual.shape() << " but reference has " << expected.shape());
    return false;
  }
  double max_diff = 0, worst_excess = -1;
  std::int64_t worst = 0, bad = 0;
  for (std::int64_t i = 0; i < expected.numel(); ++i) {
    const double a = static_cast<double>(actual[i]), e = expected[i];
    const double diff = std::abs(a - e);
    const double excess = diff - (atol + rtol * std::abs(e));
    max_diff = std::max(max_diff, std::isnan(diff) ? INFINITY : diff);
    if (excess > 0 || std::isnan(diff)) ++bad;
    if (excess > worst_excess || std::isnan(diff)) {
      worst_excess = std::isnan(diff) ? INFINITY : excess;
      worst = i;
    }
  }
  std::ostringstream os;
  if (std::getenv("GAN_PARITY_VERBOSE")) {  // for choosing tolerances: how close are we?
    double max_ratio = 0;  // max over elements of diff / (atol + rtol |e|); <= 1 passes
    for (std::int64_t i = 0; i < expected.numel(); ++i)
      max_ratio = std::max(max_ratio, std::abs(static_cast<double>(actual[i]) - expected[i]) /
                                          (atol + rtol * std::abs(static_cast<double>(expected[i]))));
    MESSAGE(name << ": max abs diff " << max_diff << ", worst diff / tolerance " << max_ratio);
  }
  if (bad == 0) {
    CHECK_MESSAGE(bad == 0, name);
    return true;
  }
  os.precision(8);
  os << name << " " << actual.shape() << ": " << bad << " of " << expected.numel()
     << " values outside atol " << atol << " + rtol " << rtol << "; max abs diff " << max_diff << "\n";
  const std::int64_t shown = std::min<std::int64_t>(expected.numel(), 5);
  for (std::int64_t i = 0; i < shown; ++i)
    os << "  [" << i << "] ours " << static_cast<double>(actual[i]) << "  torch " << expected[i] << "\n";
  os << "  worst [" << worst << "] ours " << static_cast<double>(actual[worst]) << "  torch " << expected[worst];
  CHECK_MESSAGE(bad == 0, os.str());  // one doctest assertion per compared tensor
  return bad == 0;
}

}  // namespace test
}  // namespace gan
