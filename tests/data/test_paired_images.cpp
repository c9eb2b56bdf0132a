#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../matchers.hpp"
#include "gan/data/paired_images.hpp"
#include "gan/io/png.hpp"
#include "idx_test_util.hpp"

using gan::Shape;
using gan::Tensor;
namespace data = gan::data;

using gan_test::has;

namespace {
// Side-by-side pair k: left half value 10k + x, right half value 100 + 10k + y (RGB equal).
void write_pairs(const gan_test::TempDir& dir, int count, int h = 6, int w = 5) {
  for (int k = 0; k < count; ++k) {
    gan::io::Image im(h, 2 * w, 3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < 2 * w; ++x)
        for (int c = 0; c < 3; ++c)
          im.at(y, x, c) = static_cast<std::uint8_t>(x < w ? 10 * k + x : 100 + 10 * k + y);
    gan::io::write_png(dir.file("p" + std::to_string(k) + ".png"), im);
  }
}

std::vector<float> values(const Tensor<float>& t) { return std::vector<float>(t.begin(), t.end()); }
}  // namespace

TEST_CASE("paired images: side-by-side files split into input | target, b_to_a swaps them") {
  gan_test::TempDir dir;
  write_pairs(dir, 3);
  data::PairedImageOptions o;
  o.range = data::PixelRange::ZeroOne;
  data::PairedImageDataset ds(dir.path.string(), o);
  REQUIRE(ds.size() == 3);
  CHECK(ds.name(2) == "p2.png");
  auto [a, b] = ds.get(1);
  CHECK(a.shape() == Shape{3, 6, 5});
  CHECK(a.data()[3] == doctest::Approx((10 + 3) / 255.0));        // channel 0, row 0, x 3
  CHECK(b.data()[2 * 5] == doctest::Approx((110 + 2) / 255.0));   // channel 0, row 2
  o.b_to_a = true;
  data::PairedImageDataset swapped(dir.path.string(), o);
  CHECK(values(swapped.get(1).first) == values(b));
  o.channels = 1;
  CHECK(data::PairedImageDataset(dir.path.string(), o).get(0).first.shape() == Shape{1, 6, 5});
}

TEST_CASE("paired images: folder layout, and errors that name the file") {
  gan_test::TempDir dir;
  std::filesystem::create_directories(dir.path / "A");
  std::filesystem::create_directories(dir.path / "B");
  gan::io::write_png(dir.file("A/x.png"), gan::io::Image(4, 4, 3, 7));
  gan::io::write_png(dir.file("B/x.png"), gan::io::Image(4, 4, 3, 9));
  data::PairedImageOptions o;
  o.layout = data::PairLayout::Folders;
  data::PairedImageDataset ds(dir.path.string(), o);
  CHECK(ds.size() == 1);
  gan::io::write_png(dir.file("A/y.png"), gan::io::Image(4, 4, 3));
  CHECK_THROWS_WITH_AS(data::PairedImageDataset(dir.path.string(), o), has("has no partner"), gan::Error);
  gan::io::write_png(dir.file("B/y.png"), gan::io::Image(4, 6, 3));
  CHECK_THROWS_WITH_AS(data::PairedImageDataset(dir.path.string(), o), has("input is 4x4 but target is 4x6"),
                       gan::Error);

  gan_test::TempDir odd;
  gan::io::write_png(odd.file("o.png"), gan::io::Image(4, 5, 3));
  CHECK_THROWS_WITH_AS(data::PairedImageDataset(odd.path.string(), {}), has("needs an even width"), gan::Error);
  gan_test::TempDir empty;
  CHECK_THROWS_WITH_AS(data::PairedImageDataset(empty.path.string(), {}), has("no .png files"), gan::Error);
  CHECK_THROWS_WITH_AS(data::PairedImageDataset(empty.file("nope"), {}), has("not found"), gan::Error);
}

TEST_CASE("paired loader: one jitter for both images; same seed, prefetch or not, resumed or not: same batches") {
  gan_test::TempDir dir;
  write_pairs(dir, 5);
  data::PairedImageOptions o;
  o.jitter = {8, 6, true, data::Interpolation::Bilinear};
  data::PairedImageDataset ds(dir.path.string(), o);

  auto run = [&](bool prefetch, int resume_after) {
    std::vector<std::vector<float>> seen;
    data::PairedImageLoader first(ds, {2, true, false, 11}, {true, prefetch});
    data::EpochSampler::State saved;
    for (int step = 0; step < resume_after; ++step) {
      auto b = first.next_batch();
      if (!b) b = first.next_batch();
      seen.push_back(values(b->input));
      seen.push_back(values(b->target));
    }
    saved = first.sampler().state();
    data::PairedImageLoader second(ds, {2, true, false, 11}, {true, prefetch});
    second.sampler().set_state(saved);
    for (int step = resume_after; step < 9; ++step) {
      auto b = second.next_batch();
      if (!b) b = second.next_batch();
      CHECK(b->input.shape() == Shape{b->input.dim(0), 3, 6, 6});
      seen.push_back(values(b->input));
      seen.push_back(values(b->target));
    }
    return seen;
  };
  const auto plain = run(false, 9);
  CHECK(run(true, 9) == plain);
  CHECK(run(true, 4) == plain);
  CHECK(run(false, 2) == plain);

  // Input and target get the same crop and flip: build a dataset whose halves are equal.
  gan_test::TempDir twin;
  gan::io::Image im(6, 10, 3);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 10; ++x)
      for (int c = 0; c < 3; ++c) im.at(y, x, c) = static_cast<std::uint8_t>(30 * (x % 5) + 7 * y + c);
  gan::io::write_png(twin.file("t.png"), im);
  data::PairedImageDataset tw(twin.path.string(), o);
  data::PairedImageLoader loader(tw, {1, true, false, 3});
  int flipped = 0;
  for (int i = 0; i < 20; ++i) {
    auto b = loader.next_batch();
    if (!b) b = loader.next_batch();
    CHECK(values(b->input) == values(b->target));
    flipped += b->input.data()[0] > b->input.data()[5];  // row 0 decreases left to right when flipped
  }
  CHECK(flipped > 3);
  CHECK(flipped < 17);
}
