// The committed corpus of broken files (tests/fuzz/corpus, made by tests/fuzz/make_corpus.py,
// also the fuzzers' seeds): every bad_* file must give a gan::Error naming the file, every
// good_* file must load. Under ASan this also proves no reader reads out of bounds on them.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "gan/data/idx.hpp"
#include "gan/io/png.hpp"
#include "gan/io/safetensors.hpp"

namespace fs = std::filesystem;

namespace {
std::vector<fs::path> corpus(const std::string& reader) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(GAN_TEST_DATA_DIR) / "fuzz" / "corpus" / reader))
    files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

void check_corpus(const std::string& reader, const std::function<void(const std::string&)>& load) {
  int good = 0, bad = 0;
  for (const fs::path& p : corpus(reader)) {
    const std::string name = p.filename().string();
    CAPTURE(name);
    if (name.rfind("good_", 0) == 0) {
      CHECK_NOTHROW(load(p.string()));
      ++good;
    } else {
      REQUIRE(name.rfind("bad_", 0) == 0);
      CHECK_THROWS_WITH_AS(load(p.string()), doctest::Contains(p.string().c_str()), gan::Error);
      ++bad;
    }
  }
  CHECK(good >= 2);
  CHECK(bad >= 9);
}
}  // namespace

TEST_CASE("corrupt IDX files: a clean error naming the file") {
  check_corpus("idx", [](const std::string& path) {
    gan::data::read_idx(path, path.find("labels1") != std::string::npos ? 1 : 3);
  });
}

TEST_CASE("corrupt safetensors files: a clean error naming the file") {
  check_corpus("safetensors", [](const std::string& path) { gan::io::read_safetensors(path); });
}

TEST_CASE("corrupt PNG files: a clean error naming the file") {
  check_corpus("png", [](const std::string& path) { gan::io::read_image(path); });
}
