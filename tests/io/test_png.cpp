#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "../matchers.hpp"
#include "gan/io/image_grid.hpp"
#include "gan/io/png.hpp"
#include "../data/idx_test_util.hpp"

using gan::Shape;
using gan::Tensor;
using gan::io::GridOptions;
using gan::io::Image;

using gan_test::has;

TEST_CASE("write_png then read_image returns the same pixels") {
  gan_test::TempDir dir;
  std::ptrdiff_t files_written = 0;
  for (int channels : {1, 3, 4}) {
    CAPTURE(channels);
    Image im(5, 7, channels);
    for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<std::uint8_t>(i * 37 % 256);
    const std::string path = dir.file("rt" + std::to_string(channels) + ".png");
    gan::io::write_png(path, im);
    ++files_written;
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path), {}) == files_written);  // no temp file left
    Image back = gan::io::read_image(path);
    CHECK(back.height == 5);
    CHECK(back.width == 7);
    CHECK(back.channels == channels);
    CHECK(back.pixels == im.pixels);
  }
}

TEST_CASE("a gray grid maps [-1, 1] to [0, 255] with clamping and padding") {
  gan_test::TempDir dir;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // 3 images of 2x2: row-major values per image.
  auto t = Tensor<float>::from(Shape{3, 1, 2, 2}, {-1, 0, 1, 0.5f,  5, -7, nan, -0.5f,  1, 1, 1, 1});
  GridOptions o;
  o.nrow = 2;
  o.padding = 1;
  o.pad_value = 77;
  const std::string path = dir.file("grid.png");
  gan::io::save_image_grid(path, t, o);
  Image g = gan::io::read_image(path);
  REQUIRE(g.channels == 1);
  REQUIRE(g.height == 7);  // 2 rows of (2 + 1) + 1
  REQUIRE(g.width == 7);   // 2 cols of (2 + 1) + 1
  // image 0 at (1, 1), image 1 at (1, 4), image 2 at (4, 1); cell (4, 4) is empty.
  CHECK(int(g.at(1, 1, 0)) == 0);
  CHECK(int(g.at(1, 2, 0)) == 128);  // 127.5 rounds half away from zero
  CHECK(int(g.at(2, 1, 0)) == 255);
  CHECK(int(g.at(2, 2, 0)) == 191);  // 0.5 -> 191.25
  CHECK(int(g.at(1, 4, 0)) == 255);  // 5 clamps to white
  CHECK(int(g.at(1, 5, 0)) == 0);    // -7 clamps to black
  CHECK(int(g.at(2, 4, 0)) == 0);    // NaN shows black
  CHECK(int(g.at(2, 5, 0)) == 64);   // -0.5 -> 63.75
  for (int y = 4; y < 6; ++y)
    for (int x = 1; x < 3; ++x) CHECK(int(g.at(y, x, 0)) == 255);
  for (int i = 0; i < 7; ++i) {
    CHECK(int(g.at(0, i, 0)) == 77);
    CHECK(int(g.at(i, 0, 0)) == 77);
    CHECK(int(g.at(3, i, 0)) == 77);
    CHECK(int(g.at(i, 3, 0)) == 77);
  }
  CHECK(int(g.at(4, 4, 0)) == 77);  // unused cell
}

TEST_CASE("an RGB grid keeps channels apart; a [0, 1] range is honoured") {
  auto t = Tensor<float>::zeros(Shape{2, 3, 1, 1});
  t.at(0, 0, 0, 0) = 1.0f;  // red
  t.at(1, 2, 0, 0) = 0.2f;  // dark blue
  GridOptions o;
  o.padding = 0;
  o.lo = 0.0f;
  Image g = gan::io::make_grid(t, o);
  REQUIRE(g.channels == 3);
  REQUIRE(g.height == 1);
  REQUIRE(g.width == 2);
  CHECK(std::vector<int>{g.at(0, 0, 0), g.at(0, 0, 1), g.at(0, 0, 2)} == std::vector<int>{255, 0, 0});
  CHECK(std::vector<int>{g.at(0, 1, 0), g.at(0, 1, 1), g.at(0, 1, 2)} == std::vector<int>{0, 0, 51});
}

TEST_CASE("panels put input | output | target side by side, gray promoted to RGB") {
  gan_test::TempDir dir;
  auto input = Tensor<float>::full(Shape{2, 1, 3, 3}, -1.0f);
  auto output = Tensor<float>::full(Shape{2, 3, 3, 3}, 0.0f);
  auto target = Tensor<float>::full(Shape{2, 3, 3, 3}, 1.0f);
  input.at(1, 0, 0, 0) = 1.0f;
  const std::string path = dir.file("panels.png");
  gan::io::save_panels(path, {input, output, target}, GridOptions{8, 1, 0, -1, 1});
  Image p = gan::io::read_image(path);
  REQUIRE(p.channels == 3);
  REQUIRE(p.height == 2 * 4 + 1);
  REQUIRE(p.width == 3 * 4 + 1);
  for (int c = 0; c < 3; ++c) {
    CHECK(int(p.at(2, 2, c)) == 0);     // input, sample 0
    CHECK(int(p.at(2, 6, c)) == 128);   // output
    CHECK(int(p.at(2, 10, c)) == 255);  // target
    CHECK(int(p.at(5, 1, c)) == 255);   // input sample 1, pixel (0, 0) = 1 in every channel
  }
  CHECK_THROWS_WITH_AS(gan::io::make_panels({input, Tensor<float>::zeros(Shape{2, 1, 4, 3})}),
                       has("(2, 1, 3, 3) and (2, 1, 4, 3)"), gan::Error);
}

TEST_CASE("PNG errors name the file or the shape") {
  gan_test::TempDir dir;
  Image im(2, 2, 1);
  const std::string no_dir = dir.file("missing/dir/x.png");
  CHECK_THROWS_WITH_AS(gan::io::write_png(no_dir, im), has(no_dir), gan::Error);
  CHECK_THROWS_WITH_AS(gan::io::write_png(no_dir, im), has("does not exist"), gan::Error);
  std::ofstream(dir.file("plain.txt")) << "not a directory";
  const std::string under_file = dir.file("plain.txt/x.png");
  CHECK_THROWS_WITH_AS(gan::io::write_png(under_file, im), has(under_file), gan::Error);
  CHECK_THROWS_WITH_AS(gan::io::save_image_grid(no_dir, Tensor<float>::zeros(Shape{1, 1, 2, 2})), has(no_dir),
                       gan::Error);

  CHECK_THROWS_WITH_AS(gan::io::read_image(dir.file("none.png")), has(dir.file("none.png")), gan::Error);
  CHECK_THROWS_WITH_AS(gan::io::read_image(dir.file("plain.txt")), has(dir.file("plain.txt")), gan::Error);
  CHECK_THROWS_WITH_AS(gan::io::make_grid(Tensor<float>::zeros(Shape{4, 2, 5, 5})), has("(4, 2, 5, 5)"), gan::Error);
  CHECK_THROWS_AS(Image(0, 3, 1), gan::Error);
}
