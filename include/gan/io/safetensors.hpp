#pragma once
// The safetensors file format (Hugging Face), so checkpoints open in the Python ecosystem:
//
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   JSON: {"<name>": {"dtype": "F32", "shape": [64, 1, 4, 4], "data_offsets": [b, e]},
//                    ..., "__metadata__": {"<key>": "<string>"}}
//   rest      raw little-endian tensor data; [b, e) is relative to the start of this section
//
//   gan::io::TensorFile f;
//   f.put("w", weight_tensor);  f.metadata["step"] = "100";
//   gan::io::write_safetensors("a.safetensors", f);           // atomic, see io/file.hpp
//   gan::io::TensorFile g = gan::io::read_safetensors("a.safetensors");
//   g.get("w", weight_tensor);   // checks dtype and shape, names the file and the tensor
//
// Python: safetensors.torch.load_file("a.safetensors"). Reading validates everything before
// trusting it (lengths, offsets, overlaps, dtype sizes, JSON types), so a corrupt or truncated
// file gives an error naming the file and what was wrong, never an out-of-bounds read.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/tensor.hpp"
#include "gan/io/file.hpp"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gan/io/safetensors.hpp assumes a little-endian machine"
#endif

namespace gan::io {

// One stored tensor: its dtype name as safetensors spells it ("F32", "F64", "I64", "U64",
// "U8", ...), its shape, and its bytes.
struct StoredTensor {
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<unsigned char> bytes;
};

template <class T>
constexpr const char* dtype_name() {
  if constexpr (std::is_same_v<T, float>) return "F32";
  else if constexpr (std::is_same_v<T, double>) return "F64";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "I64";
  else if constexpr (std::is_same_v<T, std::uint64_t>) return "U64";
  else if constexpr (std::is_same_v<T, std::int32_t>) return "I32";
  else if constexpr (std::is_same_v<T, std::uint8_t>) return "U8";
  else static_assert(sizeof(T) == 0, "no safetensors dtype for this type");
}

// Bytes per element of a safetensors dtype, 0 for a name it does not define.
inline std::size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2},
      {"F16", 2},  {"BF16", 2}, {"I32", 4}, {"U32", 4},     {"F32", 4},     {"F64", 8}, {"I64", 8}, {"U64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

inline std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  return os.str() + ']';
}

// An ordered set of named tensors plus string metadata: one safetensors file in memory.
struct TensorFile {
  std::map<std::string, StoredTensor> tensors;
  std::map<std::string, std::string> metadata;
  std::string source = "<memory>";  // the file it was read from, for error messages

  bool contains(const std::string& name) const { return tensors.count(name) != 0; }

  // Stores a copy of `values` with the given shape (default: one dimension).
  template <class T>
  void put(const std::string& name, const T* values, std::vector<std::int64_t> shape) {
    check(!name.empty() && name != "__metadata__", "TensorFile::put: invalid tensor name '", name, "'");
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    StoredTensor t{dtype_name<T>(), std::move(shape), {}};
    t.bytes.resize(std::size_t(n) * sizeof(T));
    if (n > 0) std::memcpy(t.bytes.data(), values, t.bytes.size());
    tensors[name] = std::move(t);
  }
  template <class T>
  void put(const std::string& name, const Tensor<T>& t) {
    put(name, t.data(), t.shape().to_vector());
  }
  template <class T>
  void put(const std::string& name, const std::vector<T>& v) {
    put(name, v.data(), {std::int64_t(v.size())});
  }

  const StoredTensor& find(const std::string& name) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) fail("'", source, "': no tensor named '", name, "'");
    return it->second;
  }

  // Copies the stored tensor into `dst`, which must already have the same shape.
  template <class T>
  void get(const std::string& name, Tensor<T>& dst) const {
    const StoredTensor& t = find(name);
    check_entry<T>(name, t, dst.shape().to_vector());
    if (!t.bytes.empty()) std::memcpy(dst.data(), t.bytes.data(), t.bytes.size());
  }
  // Reads a one-dimensional tensor of `expected_size` elements (-1: any size).
  template <class T>
  std::vector<T> get_vector(const std::string& name, std::int64_t expected_size = -1) const {
    const StoredTensor& t = find(name);
    check(t.shape.size() == 1, "'", source, "': tensor '", name, "' has shape ", shape_string(t.shape),
          ", expected one dimension");
    check_entry<T>(name, t, {expected_size < 0 ? t.shape[0] : expected_size});
    std::vector<T> out(std::size_t(t.shape[0]));
    if (!out.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
    return out;
  }

 private:
  template <class T>
  void check_entry(const std::string& name, const StoredTensor& t, const std::vector<std::int64_t>& shape) const {
    check(t.dtype == dtype_name<T>(), "'", source, "': tensor '", name, "' is ", t.dtype, ", expected ",
          dtype_name<T>());
    check(t.shape == shape, "'", source, "': tensor '", name, "' has shape ", shape_string(t.shape),
          ", expected ", shape_string(shape));
  }
};

namespace detail {
// Largest header we accept (the format's reference implementation uses the same 100 MB cap).
constexpr std::uint64_t kMaxSafetensorsHeader = 100'000'000;

inline std::int64_t checked_numel(const std::vector<std::int64_t>& shape, const std::string& what) {
  std::int64_t n = 1;
  for (auto d : shape) {
    check(d >= 0, what, ": negative dimension in shape ", shape_string(shape));
    check(d == 0 || n <= std::numeric_limits<std::int64_t>::max() / d, what, ": shape ", shape_string(shape),
          " overflows");
    n *= d;
  }
  return n;
}

inline StoredTensor parse_entry(const nlohmann::json& e, const unsigned char* data, std::uint64_t data_size,
                                const std::string& what, std::pair<std::uint64_t, std::uint64_t>& range) {
  check(e.is_object(), what, ": entry is not a JSON object");
  auto dtype = e.find("dtype"), shape = e.find("shape"), offsets = e.find("data_offsets");
  check(dtype != e.end() && dtype->is_string(), what, ": missing string field \"dtype\"");
  check(shape != e.end() && shape->is_array(), what, ": missing array field \"shape\"");
  check(offsets != e.end() && offsets->is_array() && offsets->size() == 2, what,
        ": missing field \"data_offsets\" [begin, end]");
  StoredTensor t;
  t.dtype = dtype->get<std::string>();
  const std::size_t item = dtype_size(t.dtype);
  check(item > 0, what, ": unknown dtype '", t.dtype, "'");
  for (const auto& d : *shape) {
    check(d.is_number_unsigned(), what, ": shape holds a value that is not a non-negative integer");
    check(d.get<std::uint64_t>() <= std::uint64_t(std::numeric_limits<std::int64_t>::max()), what,
          ": dimension too large");
    t.shape.push_back(d.get<std::int64_t>());
  }
  for (const auto& o : *offsets) check(o.is_number_unsigned(), what, ": data_offsets must be non-negative integers");
  const std::uint64_t begin = (*offsets)[0].get<std::uint64_t>(), end = (*offsets)[1].get<std::uint64_t>();
  check(begin <= end && end <= data_size, what, ": data_offsets [", begin, ", ", end, "] outside the ", data_size,
        " data bytes (truncated file?)");
  const std::int64_t numel = checked_numel(t.shape, what);
  check(std::uint64_t(numel) <= std::numeric_limits<std::uint64_t>::max() / item &&
            end - begin == std::uint64_t(numel) * item,
        what, ": ", end - begin, " bytes for ", t.dtype, " shape ", shape_string(t.shape), ", expected ",
        std::uint64_t(numel) * item);
  t.bytes.assign(data + begin, data + end);
  range = {begin, end};
  return t;
}
}  // namespace detail

// Parses a whole safetensors file held in memory; `source` names it in errors.
inline TensorFile parse_safetensors(const unsigned char* bytes, std::size_t size, const std::string& source) {
  const std::string file = "safetensors '" + source + "'";
  check(size >= 8, file, ": ", size, " bytes, expected at least the 8-byte header length");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes, 8);
  check(n <= detail::kMaxSafetensorsHeader && n <= size - 8, file, ": header length ", n, " does not fit the ",
        size, "-byte file (truncated or not a safetensors file)");
  const auto header = nlohmann::json::parse(bytes + 8, bytes + 8 + n, nullptr, /*allow_exceptions=*/false);
  check(!header.is_discarded(), file, ": the header is not valid JSON");
  check(header.is_object(), file, ": the header is not a JSON object");

  TensorFile out;
  out.source = source;
  const unsigned char* data = bytes + 8 + n;
  const std::uint64_t data_size = size - 8 - n;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      check(it->is_object(), file, ": __metadata__ is not a JSON object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        check(m->is_string(), file, ": metadata '", m.key(), "' is not a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    std::pair<std::uint64_t, std::uint64_t> range;
    out.tensors[it.key()] = detail::parse_entry(*it, data, data_size, file + " tensor '" + it.key() + "'", range);
    ranges.push_back(range);
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    check(ranges[i].first >= ranges[i - 1].second, file, ": two tensors share bytes [", ranges[i].first, ", ",
          ranges[i - 1].second, ")");
  return out;
}

inline TensorFile read_safetensors(const std::string& path) {
  const std::vector<unsigned char> bytes = read_file(path, "read_safetensors");
  return parse_safetensors(bytes.data(), bytes.size(), path);
}

// Serialises `f` (tensors in name order, the header padded with spaces to 8 bytes so the
// data section stays aligned) and writes it atomically.
inline std::vector<unsigned char> serialize_safetensors(const TensorFile& f) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!f.metadata.empty()) header["__metadata__"] = f.metadata;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : f.tensors) {
    check(dtype_size(t.dtype) > 0, "serialize_safetensors: tensor '", name, "' has unknown dtype '", t.dtype, "'");
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<unsigned char> out(8 + text.size() + offset);
  const std::uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  unsigned char* p = out.data() + 8 + text.size();
  for (const auto& [name, t] : f.tensors) {
    if (!t.bytes.empty()) std::memcpy(p, t.bytes.data(), t.bytes.size());
    p += t.bytes.size();
  }
  return out;
}

inline void write_safetensors(const std::string& path, const TensorFile& f) {
  const std::vector<unsigned char> bytes = serialize_safetensors(f);
  write_file_atomic(path, bytes.data(), bytes.size(), "write_safetensors '" + path + "'");
}

}  // namespace gan::io
