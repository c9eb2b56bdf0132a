// libFuzzer target: the IDX reader (plain and gzip) must turn any bytes into either a
// dataset or a gan::Error, never a crash, a leak or an out-of-bounds access.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "gan/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The reader takes a path (zlib opens it); an in-memory file keeps the disk out of it.
  const int fd = memfd_create("idx", 0);
  if (fd < 0 || (size > 0 && write(fd, data, size) != static_cast<ssize_t>(size))) return 0;
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (int rank : {1, 3}) {
    try {
      gan::data::read_idx(path, rank);
    } catch (const gan::Error&) {
    }
  }
  close(fd);
  return 0;
}
