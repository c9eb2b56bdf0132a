#pragma once
// Big-endian integers inside file formats (IDX headers, PNG chunks).

#include <cstdint>

namespace gan::detail {

inline std::uint32_t load_be32(const unsigned char* b) {
  return (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) | (std::uint32_t(b[2]) << 8) | std::uint32_t(b[3]);
}

}  // namespace gan::detail
