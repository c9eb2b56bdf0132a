#pragma once
// Reader for IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed
// (zlib's gzread reads both). Only unsigned-byte payloads (type code 0x08) are accepted.
//
//   bytes 0-1  zero     byte 2  type (0x08 = u8)     byte 3  number of dimensions
//   then one big-endian u32 extent per dimension, then the payload, row-major, and nothing else.
//
// The reader trusts nothing in the file: the header is checked before any allocation, the
// declared payload is checked against the file's size (plain) or the most a gzip file of that
// size can inflate to (about 1032:1), the buffer grows only as bytes actually arrive, and a
// short or over-long file is an error. Every error is a gan::Error naming the file and what
// was expected versus found. Needs zlib (-lz, CMake ZLIB::ZLIB); only data/ headers use it.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include <zlib.h>

#include "gan/core/error.hpp"
#include "gan/detail/byte_order.hpp"

namespace gan::data {

// Images as stored in an idx3 file: count x rows x cols bytes, row-major.
struct IdxImages {
  std::int64_t count = 0;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::uint8_t> pixels;
};

// Any u8 IDX array: its extents and its row-major payload.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
};

namespace detail {

inline std::string hex32(std::uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xFu];
  return s;
}

// Owns a gzFile; gzread passes plain files through unchanged (gzdirect() says which).
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    check(file_ != nullptr, "IDX file '", path, "': cannot open for reading");
  }
  ~GzReader() { gzclose(file_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  bool compressed() const { return gzdirect(file_) == 0; }

  // Reads up to n bytes (n <= INT_MAX) and returns how many arrived; 0 means end of file.
  std::size_t read(void* dst, std::size_t n) {
    int got = gzread(file_, dst, static_cast<unsigned>(n));
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(file_, &code);
      fail("IDX file '", path_, "': read error (", msg ? msg : "unknown", "); the file is corrupt");
    }
    return static_cast<std::size_t>(got);
  }
  // After the last read: zlib reports a gzip stream cut inside its 8-byte trailer (CRC and
  // length) only through gzerror, while gzread has already returned all the data.
  void check_clean_end() {
    int code = Z_OK;
    const char* msg = gzerror(file_, &code);
    check(code == Z_OK || code == Z_STREAM_END, "IDX file '", path_, "': the gzip stream is truncated or corrupt (",
          msg ? msg : "unknown", ")");
  }
  // Reads exactly n bytes or reports the shortfall in terms of `what`.
  void read_exact(void* dst, std::size_t n, const char* what) {
    std::size_t got = 0;
    auto* p = static_cast<unsigned char*>(dst);
    while (got < n) {
      std::size_t r = read(p + got, n - got);
      if (r == 0) break;
      got += r;
    }
    check(got == n, "IDX file '", path_, "': truncated ", what, ": expected ", n, " bytes, found ", got);
  }

 private:
  std::string path_;
  gzFile file_;
};

using gan::detail::load_be32;

inline const char* idx_kind(std::uint32_t magic) {
  switch (magic) {
    case 0x00000801u: return " (an IDX label file)";
    case 0x00000803u: return " (an IDX image file)";
    case 0x01080000u: case 0x03080000u: return " (byte-swapped IDX magic: written little-endian?)";
    default: return "";
  }
}

}  // namespace detail

// Reads a u8 IDX file with exactly `rank` dimensions (1 for labels, 3 for images).
inline IdxArray read_idx(const std::string& path, int rank) {
  namespace fs = std::filesystem;
  check(rank >= 1 && rank <= 8, "read_idx: rank ", rank, " out of range 1..8");
  std::error_code ec;
  check(fs::exists(path, ec), "IDX file '", path, "' does not exist");
  check(fs::is_regular_file(path, ec), "IDX file '", path, "' is not a regular file");
  const std::uint64_t file_size = fs::file_size(path, ec);
  check(!ec, "IDX file '", path, "': cannot read its size (", ec.message(), ")");

  detail::GzReader in(path);
  const std::uint32_t expected_magic = 0x00000800u | static_cast<std::uint32_t>(rank);
  unsigned char head[4];
  in.read_exact(head, 4, "header (magic number)");
  const std::uint32_t magic = detail::load_be32(head);
  check(magic == expected_magic, "IDX file '", path, "': bad magic number ", detail::hex32(magic),
        detail::idx_kind(magic), ", expected ", detail::hex32(expected_magic), " (u8 data, ", rank,
        rank == 1 ? " dimension)" : " dimensions)");

  IdxArray out;
  std::vector<unsigned char> ext(4 * static_cast<std::size_t>(rank));
  in.read_exact(ext.data(), ext.size(), "header (dimension sizes)");
  const std::uint64_t max_bytes = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t payload = 1;
  for (int i = 0; i < rank; ++i) {
    std::uint32_t d = detail::load_be32(&ext[4 * static_cast<std::size_t>(i)]);
    check(d > 0, "IDX file '", path, "': dimension ", i, " has size 0, expected > 0");
    check(payload <= max_bytes / d, "IDX file '", path, "': declared sizes overflow 64 bits");
    payload *= d;
    out.dims.push_back(static_cast<std::int64_t>(d));
  }
  const std::uint64_t header = 4 + ext.size();

  // Bound the declared size by what the file can hold before allocating anything.
  if (!in.compressed()) {
    check(file_size == header + payload, "IDX file '", path, "': expected ", header + payload, " bytes (",
          header, " header + ", payload, " data), found ", file_size,
          file_size < header + payload ? " (truncated)" : " (trailing bytes)");
  } else {
    const std::uint64_t limit = file_size * 1032u + (1u << 20);  // deflate's maximum ratio
    check(payload <= limit, "IDX file '", path, "': declares ", payload, " data bytes, but a ", file_size,
          "-byte gzip file inflates to at most ", limit, " (corrupt header)");
  }

  // Grow as data arrives, so a lying gzip header cannot make us allocate what is not there.
  const std::size_t chunk = std::size_t(1) << 22;
  while (out.data.size() < payload) {
    std::size_t old = out.data.size();
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, payload - old));
    out.data.resize(old + want);
    std::size_t got = 0;
    while (got < want) {
      std::size_t r = in.read(out.data.data() + old + got, want - got);
      if (r == 0) break;
      got += r;
    }
    check(got == want, "IDX file '", path, "': truncated data: expected ", payload, " bytes after the ", header,
          "-byte header, found ", old + got);
  }
  unsigned char extra[64];
  std::size_t trailing = in.read(extra, sizeof extra);
  check(trailing == 0, "IDX file '", path, "': trailing bytes after the ", payload,
        " data bytes: expected end of file, found ", trailing, trailing == sizeof extra ? "+" : "", " more bytes");
  in.check_clean_end();
  return out;
}

// An idx3 image file (magic 0x00000803): count x rows x cols u8 pixels.
inline IdxImages read_idx_images(const std::string& path) {
  IdxArray a = read_idx(path, 3);
  IdxImages im;
  im.count = a.dims[0];
  im.rows = a.dims[1];
  im.cols = a.dims[2];
  im.pixels = std::move(a.data);
  return im;
}

// An idx1 label file (magic 0x00000801): one u8 label per sample.
inline std::vector<std::uint8_t> read_idx_labels(const std::string& path) { return read_idx(path, 1).data; }

}  // namespace gan::data
