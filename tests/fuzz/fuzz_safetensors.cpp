// libFuzzer target: the safetensors parser behind every checkpoint load must turn any bytes
// into either tensors or a gan::Error, never a crash or an out-of-bounds read.
#include <cstdint>

#include "gan/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    gan::io::TensorFile f = gan::io::parse_safetensors(data, size, "fuzz");
    for (const auto& [name, t] : f.tensors)
      if (t.dtype == "F32" && t.shape.size() == 1) f.get_vector<float>(name);
  } catch (const gan::Error&) {
  }
  return 0;
}
