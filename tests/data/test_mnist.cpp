#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../matchers.hpp"
#include "gan/data/mnist.hpp"
#include "idx_test_util.hpp"

using gan::data::MnistDataset;
using gan::data::PixelRange;
using gan::data::Split;
using gan_test::idx_bytes;
using gan_test::TempDir;
using gan_test::write_bytes;

using gan_test::has;

// A fake MNIST directory: n train and m test images whose pixel 0 is the image index.
static void make_mnist(const TempDir& dir, std::uint32_t n, std::uint32_t m, bool gz) {
  const std::string ext = gz ? ".gz" : "";
  for (auto [prefix, count] : {std::pair<const char*, std::uint32_t>{"train", n}, {"t10k", m}}) {
    std::vector<std::uint8_t> px(count * 784u, 0), lb(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      px[i * 784u] = static_cast<std::uint8_t>(i);
      px[i * 784u + 783] = 255;
      lb[i] = static_cast<std::uint8_t>(i % 10);
    }
    write_bytes(dir.file(std::string(prefix) + "-images-idx3-ubyte" + ext), idx_bytes({count, 28, 28}, px), gz);
    write_bytes(dir.file(std::string(prefix) + "-labels-idx1-ubyte" + ext), idx_bytes({count}, lb), gz);
  }
}

TEST_CASE("MnistDataset loads both splits, plain or gzipped, in either pixel range") {
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    TempDir dir;
    make_mnist(dir, 12, 5, gz);
    MnistDataset train(dir.path.string(), Split::Train, PixelRange::ZeroOne);
    MnistDataset test(dir.path.string(), Split::Test, PixelRange::MinusOneOne);
    CHECK(train.size() == 12);
    CHECK(test.size() == 5);
    CHECK(train.images().shape() == gan::Shape{12, 1, 28, 28});
    CHECK(test.images().shape() == gan::Shape{5, 1, 28, 28});
    CHECK(train.labels() == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1});
    CHECK(train.images().at(3, 0, 0, 0) == doctest::Approx(3.0 / 255.0));
    CHECK(train.images().at(3, 0, 0, 1) == 0.0f);
    CHECK(train.images().at(3, 0, 27, 27) == 1.0f);
    CHECK(test.images().at(4, 0, 0, 1) == -1.0f);
    CHECK(test.images().at(4, 0, 27, 27) == 1.0f);
    CHECK(test.images().at(4, 0, 0, 0) == doctest::Approx(4.0 / 127.5 - 1.0));
  }
}

TEST_CASE("missing MNIST data tells how to prepare it") {
  TempDir dir;
  const std::string missing = (dir.path / "no-such-dir").string();
  CHECK_THROWS_WITH_AS(MnistDataset(missing, Split::Train), has(missing), gan::Error);
  CHECK_THROWS_WITH_AS(MnistDataset(missing, Split::Train), has("bash scripts/prepare_data.sh"), gan::Error);
  CHECK_THROWS_WITH_AS(MnistDataset(missing, Split::Train), has("data/fashion-mnist"), gan::Error);

  make_mnist(dir, 3, 3, false);
  std::filesystem::remove(dir.file("t10k-labels-idx1-ubyte"));
  CHECK_NOTHROW(MnistDataset(dir.path.string(), Split::Train));
  CHECK_THROWS_WITH_AS(MnistDataset(dir.path.string(), Split::Test), has(dir.file("t10k-labels-idx1-ubyte.gz")),
                       gan::Error);
  CHECK_THROWS_WITH_AS(MnistDataset(dir.path.string(), Split::Test), has("bash scripts/prepare_data.sh"),
                       gan::Error);
}

TEST_CASE("MNIST consistency errors: count mismatch, label range, image size") {
  TempDir dir;
  make_mnist(dir, 4, 3, false);
  SUBCASE("image and label counts differ") {
    write_bytes(dir.file("train-labels-idx1-ubyte"), idx_bytes({5}, {0, 1, 2, 3, 4}));
    CHECK_THROWS_WITH_AS(MnistDataset(dir.path.string(), Split::Train), has("has 4 images but"), gan::Error);
    CHECK_THROWS_WITH_AS(MnistDataset(dir.path.string(), Split::Train), has("has 5 labels"), gan::Error);
  }
  SUBCASE("label outside 0..9") {
    write_bytes(dir.file("train-labels-idx1-ubyte"), idx_bytes({4}, {0, 1, 12, 3}));
    CHECK_THROWS_WITH_AS(MnistDataset(dir.path.string(), Split::Train), has("label 12 at index 2"), gan::Error);
  }
  SUBCASE("images that are not 28x28") {
    write_bytes(dir.file("train-images-idx3-ubyte"), idx_bytes({4, 32, 32}, std::vector<std::uint8_t>(4096)));
    CHECK_THROWS_WITH_AS(MnistDataset(dir.path.string(), Split::Train), has("holds 32x32 images, expected 28x28"),
                         gan::Error);
  }
}

#ifndef GAN_TEST_DATA_DIR  // set by tests/CMakeLists.txt; the fallback works from the repo root
#define GAN_TEST_DATA_DIR "tests"
#endif

// Runs on the real files when scripts/prepare_data.sh has been run; passes vacuously otherwise.
TEST_CASE("prepared data/mnist and data/fashion-mnist load with the documented sizes") {
  namespace fs = std::filesystem;
  const fs::path data = fs::path(GAN_TEST_DATA_DIR) / ".." / "data";
  if (fs::exists(data / "mnist" / "train-images-idx3-ubyte")) {
    MnistDataset train((data / "mnist").string(), Split::Train), test((data / "mnist").string(), Split::Test);
    CHECK(train.size() == 8000);
    CHECK(test.size() == 2000);
    std::vector<int> per_class(10, 0);
    for (auto l : test.labels()) ++per_class[static_cast<std::size_t>(l)];
    for (int c : per_class) CHECK((c >= 172 && c <= 226));  // stratified: 20% of each class, +-1
  } else {
    MESSAGE("data/mnist not prepared; skipping the real-MNIST check");
  }
  if (fs::exists(data / "fashion-mnist")) {
    gan::data::FashionMnistDataset test((data / "fashion-mnist").string(), Split::Test);
    CHECK(test.size() == 10000);
  }
}
