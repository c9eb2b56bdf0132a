#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../matchers.hpp"
#include "gan/data/idx.hpp"
#include "idx_test_util.hpp"

using gan::data::read_idx;
using gan::data::read_idx_images;
using gan::data::read_idx_labels;
using gan_test::idx_bytes;
using gan_test::TempDir;
using gan_test::write_bytes;

using gan_test::has;

TEST_CASE("IDX images and labels round-trip, plain and gzipped") {
  TempDir dir;
  const auto pixels = gan_test::pattern(5 * 4 * 3);
  const std::vector<std::uint8_t> labels = {3, 1, 4, 1, 5};
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    const std::string ip = dir.file(gz ? "im.gz" : "im"), lp = dir.file(gz ? "lb.gz" : "lb");
    write_bytes(ip, idx_bytes({5, 4, 3}, pixels), gz);
    write_bytes(lp, idx_bytes({5}, labels), gz);
    auto im = read_idx_images(ip);
    CHECK(im.count == 5);
    CHECK(im.rows == 4);
    CHECK(im.cols == 3);
    CHECK(im.pixels == pixels);
    CHECK(read_idx_labels(lp) == labels);
  }
}

TEST_CASE("a gzipped IDX file larger than one read chunk round-trips") {
  TempDir dir;
  const auto pixels = gan_test::pattern(7000 * 28 * 28);  // 5.5 MB: more than one 4 MiB chunk
  write_bytes(dir.file("big.gz"), idx_bytes({7000, 28, 28}, pixels), true);
  auto im = read_idx_images(dir.file("big.gz"));
  CHECK(im.count == 7000);
  CHECK(im.pixels == pixels);
}

// Every corrupt file must throw gan::Error whose message names the file and says `what`.
static void check_rejects(const std::string& path, const char* what, int rank = 3) {
  CAPTURE(path);
  CHECK_THROWS_WITH_AS(read_idx(path, rank), has(path), gan::Error);
  CHECK_THROWS_WITH_AS(read_idx(path, rank), doctest::Contains(what), gan::Error);
}

TEST_CASE("corrupt IDX files are rejected with a message naming the file") {
  TempDir dir;
  const auto good = idx_bytes({2, 3, 3}, gan_test::pattern(18));
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    auto path = [&](const char* name) { return dir.file(std::string(name) + (gz ? ".gz" : "")); };

    SUBCASE("wrong magic: a label file where images are expected") {
      write_bytes(path("labels"), idx_bytes({18}, gan_test::pattern(18)), gz);
      check_rejects(path("labels"), "bad magic number 0x00000801 (an IDX label file), expected 0x00000803");
    }
    SUBCASE("wrong magic: not u8 (type 0x0d = float)") {
      auto b = good;
      b[2] = 0x0d;
      write_bytes(path("float"), b, gz);
      check_rejects(path("float"), "bad magic number 0x00000d03");
    }
    SUBCASE("wrong magic: byte-swapped") {
      write_bytes(path("swapped"), {0x03, 0x08, 0x00, 0x00, 0, 0, 0, 1}, gz);
      check_rejects(path("swapped"), "byte-swapped");
    }
    SUBCASE("empty file") {
      write_bytes(path("empty"), {}, gz);
      check_rejects(path("empty"), "truncated header (magic number): expected 4 bytes, found 0");
    }
    SUBCASE("truncated header") {
      write_bytes(path("head"), std::vector<std::uint8_t>(good.begin(), good.begin() + 9), gz);
      check_rejects(path("head"), "truncated header (dimension sizes): expected 12 bytes, found 5");
    }
    SUBCASE("truncated data") {
      write_bytes(path("short"), std::vector<std::uint8_t>(good.begin(), good.end() - 1), gz);
      check_rejects(path("short"), gz ? "expected 18 bytes after the 16-byte header, found 17"
                                      : "expected 34 bytes (16 header + 18 data), found 33 (truncated)");
    }
    SUBCASE("trailing bytes") {
      auto b = good;
      b.push_back(0);
      b.push_back(0);
      write_bytes(path("long"), b, gz);
      check_rejects(path("long"), gz ? "expected end of file, found 2 more bytes" : "found 36 (trailing bytes)");
    }
    SUBCASE("zero-sized dimension") {
      write_bytes(path("zero"), idx_bytes({2, 0, 3}, {}), gz);
      check_rejects(path("zero"), "dimension 1 has size 0, expected > 0");
    }
    SUBCASE("huge dimensions overflow 64 bits") {
      write_bytes(path("overflow"), idx_bytes({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {}), gz);
      check_rejects(path("overflow"), "overflow");
    }
    SUBCASE("huge dimensions are checked against the file size before allocating") {
      // 4 TB declared, a few bytes present: must fail fast instead of allocating.
      write_bytes(path("huge"), idx_bytes({0x10000u, 0x10000u, 0x3FFu}, gan_test::pattern(100)), gz);
      check_rejects(path("huge"), gz ? "inflates to at most" : "(truncated)");
    }
    SUBCASE("declared size plausible for gzip but the data is missing") {
      write_bytes(path("lying"), idx_bytes({1000, 28, 28}, gan_test::pattern(10)), gz);
      check_rejects(path("lying"), gz ? "truncated data: expected 784000 bytes" : "found 26 (truncated)");
    }
  }
}

TEST_CASE("a damaged gzip stream is an error, not a crash") {
  TempDir dir;
  write_bytes(dir.file("ok.gz"), idx_bytes({20, 28, 28}, gan_test::pattern(20 * 784)), true);
  std::ifstream in(dir.file("ok.gz"), std::ios::binary);
  std::vector<std::uint8_t> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SUBCASE("cut in the middle") {
    write_bytes(dir.file("cut.gz"), std::vector<std::uint8_t>(gz.begin(), gz.begin() + gz.size() / 2));
    CHECK_THROWS_WITH_AS(read_idx_images(dir.file("cut.gz")), has(dir.file("cut.gz")), gan::Error);
  }
  SUBCASE("bytes flipped in the deflate stream") {
    for (std::size_t i = 20; i < gz.size() - 8; i += 7) gz[i] ^= 0x5a;
    write_bytes(dir.file("flip.gz"), gz);
    CHECK_THROWS_WITH_AS(read_idx_images(dir.file("flip.gz")), has(dir.file("flip.gz")), gan::Error);
  }
}

TEST_CASE("missing files and directories name the path") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(read_idx_images(dir.file("nope")), has(dir.file("nope") + "' does not exist"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(read_idx_labels(dir.path.string()), doctest::Contains("is not a regular file"), gan::Error);
}
