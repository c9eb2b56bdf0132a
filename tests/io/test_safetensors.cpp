#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "../matchers.hpp"
#include "gan/io/safetensors.hpp"
#include "../data/idx_test_util.hpp"

using gan::Shape;
using gan::Tensor;
using gan::io::TensorFile;

using gan_test::has;

// A safetensors file written by hand from the format description: header length, JSON, data.
static std::vector<unsigned char> hand_made(const std::string& json, const std::vector<unsigned char>& data) {
  // Built by push_back into a reserved buffer: inserting into a vector(8) trips GCC 12's false
  // -Warray-bounds on the inlined memcpy.
  std::vector<unsigned char> out;
  out.reserve(8 + json.size() + data.size());
  const std::uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<unsigned char>(n >> (8 * i)));
  out.insert(out.end(), json.begin(), json.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

static std::vector<unsigned char> floats_as_bytes(std::vector<float> v) {
  std::vector<unsigned char> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST_CASE("safetensors: tensors, vectors and metadata survive a write and a read") {
  gan_test::TempDir dir;
  Tensor<float> w = Tensor<float>::zeros(Shape{3, 1, 2, 2});
  for (std::int64_t i = 0; i < w.numel(); ++i) w.data()[i] = 0.25f * float(i) - 1.0f;
  Tensor<double> d = Tensor<double>::full(Shape{5}, 3.5);
  TensorFile f;
  f.put("conv.weight", w);
  f.put("bn.running_var", d);
  f.put("rng", std::vector<std::uint64_t>{0xFFFFFFFFFFFFFFFFull, 7});
  f.put("empty", Tensor<float>::zeros(Shape{0, 4}));
  f.metadata["step"] = "100";
  const std::string path = dir.file("a.safetensors");
  gan::io::write_safetensors(path, f);
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path), {}) == 1);  // no temp file left

  const auto bytes = gan::io::read_file(path, "test");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);  // keeps the data section 8-byte aligned
  CHECK(bytes[8] == '{');

  TensorFile g = gan::io::read_safetensors(path);
  CHECK(g.metadata.at("step") == "100");
  CHECK(g.find("conv.weight").dtype == "F32");
  CHECK(g.find("conv.weight").shape == std::vector<std::int64_t>{3, 1, 2, 2});
  Tensor<float> w2 = Tensor<float>::zeros(Shape{3, 1, 2, 2});
  g.get("conv.weight", w2);
  CHECK(std::memcmp(w2.data(), w.data(), 12 * sizeof(float)) == 0);
  Tensor<double> d2 = Tensor<double>::zeros(Shape{5});
  g.get("bn.running_var", d2);
  CHECK(d2.data()[4] == 3.5);
  CHECK(g.get_vector<std::uint64_t>("rng", 2) == std::vector<std::uint64_t>{0xFFFFFFFFFFFFFFFFull, 7});
  CHECK(g.find("empty").bytes.empty());
}

TEST_CASE("safetensors: reads a file laid out by hand from the format description") {
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const auto bytes = hand_made(json, floats_as_bytes({1.5f, -2.0f, 4.0f}));
  TensorFile f = gan::io::parse_safetensors(bytes.data(), bytes.size(), "hand.safetensors");
  CHECK(f.metadata.at("format") == "pt");
  CHECK(f.get_vector<float>("a") == std::vector<float>{1.5f, -2.0f});
  CHECK(f.get_vector<float>("b") == std::vector<float>{4.0f});
}

TEST_CASE("safetensors: get names the file and the tensor when dtype or shape differ") {
  TensorFile f;
  f.source = "ckpt.safetensors";
  f.put("w", Tensor<float>::zeros(Shape{2, 3}));
  Tensor<float> wrong = Tensor<float>::zeros(Shape{3, 2});
  CHECK_THROWS_WITH_AS(f.get("w", wrong), has("'ckpt.safetensors': tensor 'w' has shape [2, 3], expected [3, 2]"),
                       gan::Error);
  Tensor<double> wrong_type = Tensor<double>::zeros(Shape{2, 3});
  CHECK_THROWS_WITH_AS(f.get("w", wrong_type), has("is F32, expected F64"), gan::Error);
  CHECK_THROWS_WITH_AS(f.get("v", wrong), has("no tensor named 'v'"), gan::Error);
}

TEST_CASE("safetensors: every truncation of a valid file is a clean error naming the file") {
  TensorFile f;
  f.put("x", Tensor<float>::full(Shape{4, 4}, 1.0f));
  f.put("y", std::vector<std::uint64_t>{1, 2, 3});
  const auto bytes = gan::io::serialize_safetensors(f);
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    CAPTURE(len);
    std::vector<unsigned char> cut(bytes.begin(), bytes.begin() + std::ptrdiff_t(len));  // exact-size buffer for ASan
    CHECK_THROWS_WITH_AS(gan::io::parse_safetensors(cut.data(), cut.size(), "cut.safetensors"),
                         has("'cut.safetensors'"), gan::Error);
  }
  CHECK_NOTHROW(gan::io::parse_safetensors(bytes.data(), bytes.size(), "whole"));
}

TEST_CASE("safetensors: corrupt headers are refused with the reason") {
  const auto data = floats_as_bytes({1, 2, 3, 4});
  struct Case {
    const char* json;
    const char* reason;
  };
  const Case cases[] = {
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", "not valid JSON"},
      {R"([1,2])", "not a JSON object"},
      {R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", "unknown dtype 'F33'"},
      {R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", "not a non-negative integer"},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "8 bytes for F32 shape [3], expected 12"},
      {R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", "outside the 16 data bytes"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", "outside"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       "share bytes"},
      {R"({"a":{"dtype":"F32","shape":[2]}})", "data_offsets"},
      {R"({"a":{"shape":[2],"data_offsets":[0,8]}})", "dtype"},
      {R"({"a":7})", "not a JSON object"},
      {R"({"__metadata__":{"k":1}})", "metadata 'k' is not a string"},
      {R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", "overflows"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.json);
    const auto bytes = hand_made(c.json, data);
    CHECK_THROWS_WITH_AS(gan::io::parse_safetensors(bytes.data(), bytes.size(), "bad.safetensors"),
                         has(c.reason), gan::Error);
  }
  std::vector<unsigned char> huge_header = hand_made("{}", {});
  huge_header[7] = 0x7F;  // header length ~9e18
  CHECK_THROWS_WITH_AS(gan::io::parse_safetensors(huge_header.data(), huge_header.size(), "h"),
                       has("does not fit"), gan::Error);
}

TEST_CASE("safetensors: missing files and directories are named") {
  gan_test::TempDir dir;
  CHECK_THROWS_WITH_AS(gan::io::read_safetensors(dir.file("none.safetensors")), has("none.safetensors"), gan::Error);
  TensorFile f;
  CHECK_THROWS_WITH_AS(gan::io::write_safetensors(dir.file("sub/x.safetensors"), f), has("does not exist"), gan::Error);
}
