#pragma once
// Helpers shared by the data tests: a self-deleting temp directory and IDX file writers.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>
#include <zlib.h>

namespace gan_test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("gan_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

// The bytes of a u8 IDX file: magic 0x0000 08 rank, extents, payload.
inline std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out;
  put_be32(out, 0x00000800u | static_cast<std::uint32_t>(dims.size()));
  for (auto d : dims) put_be32(out, d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// Writes bytes to `path`, gzip-compressed when `gz`.
inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes, bool gz = false) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("test: cannot create " + path);
    if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("test: cannot write " + path);
  }
}

// n deterministic bytes that are not all equal, for round-trip checks.
inline std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> p(n);
  for (std::size_t k = 0; k < n; ++k) p[k] = static_cast<std::uint8_t>((k * 7 + k / 784) % 256);
  return p;
}

}  // namespace gan_test
