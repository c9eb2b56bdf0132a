#pragma once
// 8-bit images in memory (height x width x channels, interleaved) and PNG files through stb.
//
//   gan::io::Image im(28, 28, 1);  im.at(y, x, 0) = 255;  gan::io::write_png("a.png", im);
//   gan::io::Image back = gan::io::read_image("a.png");
//
// Linking: stb's implementation must be compiled exactly once per program. Debian's
// libstb-dev ships it prebuilt (libstb.so, pkg-config `stb`): link -lstb (CMake:
// pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb) + PkgConfig::STB). Where no such
// library exists, `#define GAN_STB_IMPLEMENTATION` before including this header in exactly
// one .cpp file and it compiles stb's implementation there instead.

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#ifdef GAN_STB_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#if __has_include(<stb/stb_image_write.h>)
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#else
#include <stb_image.h>
#include <stb_image_write.h>
#endif

#include "gan/core/error.hpp"
#include "gan/detail/byte_order.hpp"
#include "gan/io/file.hpp"

namespace gan::io {

struct Image {
  int height = 0;
  int width = 0;
  int channels = 0;                  // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  std::vector<std::uint8_t> pixels;  // row-major, channels interleaved

  Image() = default;
  Image(int h, int w, int c, std::uint8_t value = 0) : height(h), width(w), channels(c) {
    check(h > 0 && w > 0 && c >= 1 && c <= 4, "Image: size ", h, "x", w, "x", c,
          " invalid, expected positive height/width and 1..4 channels");
    check(std::int64_t(h) * w * c <= std::numeric_limits<int>::max(), "Image: ", h, "x", w, "x", c,
          " is too large for one PNG");
    pixels.assign(std::size_t(h) * std::size_t(w) * std::size_t(c), value);
  }
  std::uint8_t& at(int y, int x, int c) { return pixels[(std::size_t(y) * width + x) * channels + c]; }
  std::uint8_t at(int y, int x, int c) const { return pixels[(std::size_t(y) * width + x) * channels + c]; }
};

namespace detail {
inline void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  auto* p = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

inline std::uint32_t crc32(const unsigned char* p, std::size_t n, std::uint32_t crc = 0) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

// Walks the chunk list after the signature: every chunk inside the file with a correct CRC,
// IHDR first, IEND present. stb_image checks none of this; a damaged file should be reported
// as damaged rather than decoded into plausible-looking garbage.
inline void check_png_chunks(const unsigned char* bytes, std::size_t size, const std::string& what) {
  std::size_t pos = 8;
  bool first = true;
  while (true) {
    check(size - pos >= 12, what, ": truncated PNG: chunk header at byte ", pos, " runs past the end (", size,
          " bytes)");
    const std::uint32_t length = gan::detail::load_be32(bytes + pos);
    const unsigned char* type = bytes + pos + 4;
    check(length <= size - pos - 12, what, ": truncated PNG: chunk at byte ", pos, " declares ", length,
          " bytes, only ", size - pos - 12, " remain");
    const std::string name(reinterpret_cast<const char*>(type), 4);
    check(!first || (name == "IHDR" && length == 13), what, ": PNG does not start with a 13-byte IHDR chunk");
    check(crc32(type, 4 + std::size_t(length)) == gan::detail::load_be32(type + 4 + length), what, ": PNG chunk '", name,
          "' at byte ", pos, " has a wrong CRC (corrupt file)");
    pos += 12 + std::size_t(length);
    first = false;
    if (name == "IEND") return;
  }
}
}  // namespace detail

// Writes `im` as PNG, atomically (io/file.hpp): a viewer polling the file during training
// never sees half an image.
inline void write_png(const std::string& path, const Image& im) {
  check(im.height > 0 && im.width > 0 && im.channels >= 1 && im.channels <= 4 &&
            im.pixels.size() == std::size_t(im.height) * std::size_t(im.width) * std::size_t(im.channels),
        "write_png '", path, "': image ", im.height, "x", im.width, "x", im.channels, " with ", im.pixels.size(),
        " bytes is inconsistent");
  std::vector<std::uint8_t> png;
  int ok = stbi_write_png_to_func(detail::append_bytes, &png, im.width, im.height, im.channels, im.pixels.data(),
                                  im.width * im.channels);
  check(ok != 0 && !png.empty(), "write_png '", path, "': PNG encoding failed");

  write_file_atomic(path, png.data(), png.size(), "write_png '" + path + "'");
}

// Decodes a PNG held in memory. Only PNG: stb_image would also parse JPEG, GIF, PSD, HDR, ...
// and every extra decoder is more untrusted-input surface than a dataset of PNGs needs.
// `what` names the source in errors. channels = 0 keeps the file's own channel count; 1..4 converts (3 turns gray or
// RGBA into RGB). Images above max_pixels are refused before any pixel memory is allocated.
inline Image decode_image(const unsigned char* bytes, std::size_t size, const std::string& what, int channels = 0,
                          std::int64_t max_pixels = std::int64_t(1) << 26) {
  check(channels >= 0 && channels <= 4, what, ": channels ", channels, ", expected 0..4");
  check(size > 0 && size <= std::size_t(std::numeric_limits<int>::max()), what, ": ", size,
        " bytes, expected a non-empty image file below 2 GiB");
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  check(size >= 8 && std::memcmp(bytes, signature, 8) == 0, what,
        ": not a PNG file (expected the 8-byte PNG signature at the start)");
  detail::check_png_chunks(bytes, size, what);
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(bytes, int(size), &w, &h, &n)) {
    const char* why = stbi_failure_reason();
    fail(what, ": not a readable image (", why ? why : "unknown format", ")");
  }
  check(w > 0 && h > 0 && std::int64_t(w) * h <= max_pixels, what, ": image ", w, "x", h,
        " is empty or larger than the ", max_pixels, " pixels allowed");
  unsigned char* data = stbi_load_from_memory(bytes, int(size), &w, &h, &n, channels);
  if (!data) {
    const char* why = stbi_failure_reason();
    fail(what, ": cannot decode (", why ? why : "unknown reason", ")");
  }
  Image im;
  im.height = h;
  im.width = w;
  im.channels = channels ? channels : n;
  im.pixels.assign(data, data + std::size_t(w) * std::size_t(h) * std::size_t(im.channels));
  stbi_image_free(data);
  return im;
}

// Reads an image file; errors name the file.
inline Image read_image(const std::string& path, int channels = 0) {
  const std::string what = "read_image '" + path + "'";
  const std::vector<unsigned char> bytes = read_file(path, what);
  return decode_image(bytes.data(), bytes.size(), what, channels);
}

}  // namespace gan::io
