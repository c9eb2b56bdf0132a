#pragma once
// Whole-file reads and crash-safe writes, shared by every file format gan writes.
//
// write_file_atomic: the bytes go to "<path>.tmp.<pid>", are fsync'ed, renamed over `path`,
// and the directory is fsync'ed. A reader (an image viewer, a resumed run) then sees either
// the old file or the new one, never half of one, even if the process or the machine dies
// in between. read_file: the bytes of a file, or an error that names the file and says why.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "gan/core/error.hpp"

namespace gan::io {

namespace detail {
// Writes all n bytes to fd (write() may write less than asked); false on error.
inline bool write_all(int fd, const unsigned char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= std::size_t(w);
  }
  return true;
}

inline void fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // some filesystems do not allow it; the rename has happened anyway
  ::fsync(fd);
  ::close(fd);
}
}  // namespace detail

// `who` starts every error message ("save_checkpoint 'a/b.safetensors'").
inline void write_file_atomic(const std::string& path, const void* data, std::size_t size, const std::string& who) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec))
    fail(who, ": directory '", parent.string(), "' does not exist");
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(who, ": cannot create '", tmp, "': ", std::strerror(errno));
  const bool written = detail::write_all(fd, static_cast<const unsigned char*>(data), size);
  int err = errno;
  const bool synced = written && ::fsync(fd) == 0;
  if (written && !synced) err = errno;
  const bool closed = ::close(fd) == 0;
  if (!written || !synced || !closed) {
    std::remove(tmp.c_str());
    fail(who, ": writing ", size, " bytes to '", tmp, "' failed: ", std::strerror(err));
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(who, ": cannot move '", tmp, "' into place: ", ec.message());
  }
  detail::fsync_directory(parent);
}

// The whole file; refuses anything larger than max_bytes (a corrupt length field elsewhere
// must not turn into a huge allocation).
inline std::vector<unsigned char> read_file(const std::string& path, const std::string& who,
                                            std::uint64_t max_bytes = std::uint64_t(1) << 36) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(who, ": no such file '", path, "'");
  if (!std::filesystem::is_regular_file(path, ec)) fail(who, ": '", path, "' is not a regular file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail(who, ": cannot open '", path, "': ", std::strerror(errno));
  std::vector<unsigned char> bytes;
  unsigned char chunk[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (bytes.size() + got > max_bytes) {
      std::fclose(f);
      fail(who, ": '", path, "' is larger than the ", max_bytes, " bytes expected at most");
    }
    bytes.insert(bytes.end(), chunk, chunk + got);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) fail(who, ": reading '", path, "' failed");
  return bytes;
}

}  // namespace gan::io
