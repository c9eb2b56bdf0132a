// libFuzzer target: PNG decoding for paired-image datasets (our signature/chunk/CRC checks,
// then stb_image) must turn any bytes into either an image or a gan::Error.
#include <cstdint>
#include <vector>

#define GAN_STB_IMPLEMENTATION  // compiled into the fuzzer, instrumented with it
#include "gan/io/png.hpp"

// Mutated inputs almost never keep valid chunk CRCs, so without help the fuzzer would only
// ever exercise the CRC check. For inputs of odd length (half of them, chosen so the seed
// corpus stays plain PNG files) repair the CRCs before decoding, so mutations reach the
// chunk walk's other checks and stb's decoder.
static void repair_crcs(std::vector<unsigned char>& b) {
  std::size_t pos = 8;
  while (b.size() >= pos + 12) {
    const std::uint32_t length = gan::detail::load_be32(&b[pos]);
    if (length > b.size() - pos - 12) return;
    const std::uint32_t crc = gan::io::detail::crc32(&b[pos + 4], 4 + std::size_t(length));
    for (int i = 0; i < 4; ++i) b[pos + 8 + length + std::size_t(i)] = static_cast<unsigned char>(crc >> (24 - 8 * i));
    pos += 12 + std::size_t(length);
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<unsigned char> bytes(data, data + size);  // exact size: ASan sees overreads
  if (size & 1) repair_crcs(bytes);
  try {
    gan::io::decode_image(bytes.data(), bytes.size(), "fuzz", 0, /*max_pixels=*/1 << 20);
  } catch (const gan::Error&) {
  }
  return 0;
}
