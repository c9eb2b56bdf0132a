// The float fast path (kernels/conv_direct.hpp) against the reference: shapes chosen to cross
// its internal boundaries (channel blocks of 32 with remainders, pixel tiles of 14 and 7x2,
// 16-lane pixel vectors with ragged ends and row-crossing wide vectors, panel strips, stride
// phases, one-channel sides), plus a randomized sweep with larger channel counts and planes than
// test_conv2d.cpp's. double runs the same cases through the im2col + GEMM path.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "conv_test_util.hpp"
#include "gan/core/parallel.hpp"
#include "gan/kernels/conv_forward_panel.hpp"
#include "gan/kernels/conv_forward_rows.hpp"

using namespace conv_test;

namespace {

// Scaled-down issue-5 layer shapes and the block / tile boundaries around them.
std::vector<ConvShape> boundary_cases() {
  return {
      make_shape(2, 1, 28, 28, 64, 4, 2, 1),          // shape 1: one input channel, stride 2
      make_shape(1, 64, 14, 14, 128, 4, 2, 1),        // shape 2: 7-wide output, two-row tiles
      make_shape(1, 128, 7, 7, 64, 4, 2, 1, 1, 0, true),   // shape 3
      make_shape(2, 64, 14, 14, 1, 4, 2, 1, 1, 0, true),   // shape 4: one output channel
      make_shape(1, 35, 28, 28, 33, 3, 1, 1),         // shape 5: 28-wide rows, two tiles of 14
      make_shape(1, 20, 38, 36, 33, 4, 2, 1),         // shape 6-like: 33 channels = 32 + 1
      make_shape(1, 96, 6, 6, 48, 4, 2, 1, 1, 0, true),    // shape 7-like: 48 = 32 + 16
      make_shape(1, 300, 3, 4, 20, 4, 2, 1, 1, 0, true),   // 300 dy channels: data gradient in channel chunks
      make_shape(2, 20, 5, 6, 130, 3, 1, 1),          // 130 channels x 9 taps: data gradient in two chunks on AVX2
      make_shape(2, 130, 6, 5, 20, 3, 1, 1),          // and the forward pass in two chunks
      make_shape(1, 40, 15, 16, 35, 4, 2, 1, 1, 0, true),  // shape 7's 16-wide phases, odd rows
      make_shape(2, 65, 4, 4, 31, 4, 2, 1, 1, 0, true),    // shape 8-like, ragged blocks
      make_shape(1, 1, 33, 33, 64, 9, 1, 4),          // shape 9: 33 wide = 2 vectors + 1 lane (row tiles: 3 x 11)
      make_shape(1, 2, 13, 21, 32, 5, 1, 2),          // row tiles: k5, 2 input channels, 21 wide = 11 + 10
      make_shape(2, 3, 9, 40, 60, 7, 1, 3),           // k7, 3 channels, 40 wide, 60 = 3 blocks + 12 lanes
      make_shape(1, 1, 6, 5, 16, 9, 1, 9),            // pad 9 > 8: rows and columns that read only padding
      make_shape(2, 1, 10, 23, 32, {3, 7}, 1, {1, 3}),  // 3x7: kernel rows and widths differ
      make_shape(1, 2, 4, 8, 48, {5, 9}, 1, {4, 4}),  // output 8 x 8 from 4 x 8: every row tile crosses padding
      make_shape(1, 1, 9, 7, 32, 7, 1, 3),            // 7-wide rows: too narrow for row tiles, the panel path
      make_shape(1, 3, 35, 37, 5, 5, 2, 2),           // RGB input: pixel vectors, 2x2 phases
      make_shape(1, 3, 35, 37, 18, 5, 2, 2),          // RGB into 18: panel forward, 2x2 phases, a partial channel tile
      make_shape(3, 1, 7, 70, 16, 3, 1, 1),           // 70-wide rows: an output row longer than a panel strip
      make_shape(2, 2, 5, 3, 20, 3, 1, 1),            // 15 output pixels: a panel strip of one partial vector
      make_shape(2, 3, 11, 13, 20, {5, 3}, 1, 2),     // RGB, 5x3, stride 1: tap planes of three channels
      make_shape(2, 1, 5, 3, 6, 9, 1, 4),             // 3-wide output, k9: a vector spans 5 rows (plain copy)
      make_shape(2, 1, 3, 4, 5, 3, 2, 1),             // one-channel data gradient from 2x2 dy planes: shorter than a vector
      make_shape(1, 2, 40, 40, 5, 1, 1, 0),           // 1x1 on 2 channels: wide rows = output rows
      make_shape(2, 2, 17, 34, 3, 3, 1, 0),           // 32 < OW: second vector block
      make_shape(1, 33, 9, 30, 2, 3, 2, 1, 1, 1, true),    // transposed to 2 channels: pixel path
      make_shape(1, 35, 15, 15, 33, 1, 2, 0),         // 1x1 stride 2: not pointwise
      make_shape(1, 20, 16, 16, 40, 2, 2, 0),         // kernel 2 = stride: one tap per phase
      make_shape(1, 17, 10, 10, 18, 7, 1, 3),         // k7
      make_shape(1, 5, 12, 12, 34, 5, 2, 2),          // k5 stride 2, 5 input channels (blocked)
      make_shape(3, 4, 9, 9, 4, 3, 2, 0, 1, 1, true), // batch 3: uneven over 2 threads
      make_shape(1, 6, 8, 8, 7, 3, 1, 2, 2),          // dilation 2: im2col fallback for backward
      make_shape(2, 64, 48, 46, 5, 3, 1, 1),          // an image above the weight-gradient chunk: row bands
      make_shape(3, 16, 40, 40, 40, 3, 1, 1),         // weight gradient in chunks of one image: the first written, then added
      make_shape(1, 40, 6, 7, 600, 3, 1, 1),          // one image, 600 x 9 taps: data gradient per block and chunk
      make_shape(1, 600, 6, 7, 40, 3, 1, 1),          // and the forward, in chunks
      make_shape(1, 40, 60, 60, 40, 3, 1, 1),         // an image beyond L2: the forward tile by tile
      make_shape(1, 300, 4, 5, 36, 5, 3, 2, 1, 1, true),  // per block, too: 9 phases of 1 to 4 taps
  };
}

// Random shapes with channel counts across block boundaries and planes up to 40 wide.
std::vector<ConvShape> wide_random_cases(bool transposed, int count, std::uint64_t seed) {
  gan::Rng rng(seed);
  const std::int64_t channels[] = {1, 2, 3, 4, 16, 31, 33, 47};
  const std::int64_t kernels[] = {1, 3, 4, 5, 7, 9};
  auto pick = [&](const std::int64_t* v, std::int64_t n) { return v[rng.randint(0, n)]; };
  std::vector<ConvShape> out;
  while (static_cast<int>(out.size()) < count) {
    const std::int64_t kh = pick(kernels, 6), kw = rng.randint(0, 4) == 0 ? pick(kernels, 6) : kh;
    const std::int64_t s = rng.randint(1, 3), h = rng.randint(1, transposed ? 20 : 40);
    const std::int64_t w = rng.randint(1, transposed ? 20 : 40);
    ConvShape c = make_shape(rng.randint(1, 4), pick(channels, 8), h, w, pick(channels, 8), {kh, kw}, s,
                             rng.randint(0, std::max(kh, kw) / 2 + 1), 1, transposed ? rng.randint(0, s) : 0,
                             transposed);
    c.pad_h = std::min(c.pad_h, kh - 1), c.pad_w = std::min(c.pad_w, kw - 1);
    if (c.out_h() < 1 || c.out_w() < 1) continue;
    const double cost = static_cast<double>(c.output_shape().numel()) * c.weight_shape().numel() / c.out_c;
    if (cost > 1e6) continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("conv kernels match the reference across tile and block boundaries", T, float, double) {
  gan::Rng rng(21);
  for (const ConvShape& s : boundary_cases()) check_against_reference<T>(s, true, rng);
}

TEST_CASE_TEMPLATE("conv kernels match the reference on a wide random sweep", T, float, double) {
  gan::Rng rng(22);
  int i = 0;
  for (const ConvShape& s : wide_random_cases(false, 30, 200 + sizeof(T))) check_against_reference<T>(s, ++i % 2, rng);
}

TEST_CASE_TEMPLATE("conv_transpose kernels match the reference on a wide random sweep", T, float, double) {
  gan::Rng rng(23);
  int i = 0;
  for (const ConvShape& s : wide_random_cases(true, 30, 300 + sizeof(T))) check_against_reference<T>(s, ++i % 2, rng);
}

TEST_CASE("float conv kernels agree with the reference on 1, 2 and 3 threads") {
  // 1 and 3 images over 2 threads take the shared-padding schedule, 4 the per-image one; the
  // weight gradient gives each thread its own images and accumulator from 2 images per thread
  // on (4 over 2 threads, 7 unevenly over 3).
  gan::Rng rng(24);
  // Each shape's reference runs once, for all three thread counts.
  auto check = [&rng](const ConvShape& s) { check_against_reference<float>(s, true, rng, {1, 2, 3}); };
  for (std::int64_t n : {1, 3, 4, 7}) {
    INFO("batch ", n);
    check(make_shape(n, 33, 9, 8, 34, 4, 2, 1));
    check(make_shape(n, 34, 5, 6, 33, 4, 2, 1, 1, 0, true));
    check(make_shape(n, 1, 12, 11, 5, 3, 2, 1));
    check(make_shape(n, 1, 3, 4, 5, 3, 2, 1));  // dy planes shorter than a vector
    check(make_shape(n, 3, 9, 10, 20, 3, 1, 1));  // panel forward, tap planes
    check(make_shape(n, 1, 12, 11, 17, 4, 2, 1));  // panel forward, packed strips
    check(make_shape(n, 2, 9, 40, 17, 5, 1, 2));  // strips skipping kernel rows
    check(make_shape(n, 1, 11, 33, 32, 9, 1, 4));  // row tiles, bands of rows
    check(make_shape(n, 6, 7, 5, 1, 4, 2, 1, 1, 0, true));  // into one channel
    check(make_shape(n, 20, 4, 5, 300, 3, 1, 1));  // data gradient in chunks
    check(make_shape(n, 300, 4, 5, 20, 3, 1, 1));  // forward in chunks
    // One image with weights packed a block and chunk at a time where the blocks split evenly
    // over the team: the transposed convs' forward (a data gradient: 3 blocks of 70 channels,
    // 4 of 100; 300 channels in chunks) and data gradient (a forward: 10 and 9 blocks), the
    // conv's forward (4 blocks, its 260 channels in chunks) and data gradient (9 blocks).
    check(make_shape(n, 300, 5, 6, 70, 4, 2, 1, 1, 0, true));
    check(make_shape(n, 260, 3, 5, 100, 4, 2, 1, 1, 0, true));
    check(make_shape(n, 260, 6, 5, 100, 4, 2, 1));
    // One image beyond L2, tile by tile (forward) and row band by row band (data gradient,
    // its dy past the 256 KB under which two blocks over 2 threads go block by block): each
    // thread pads the rows its own items read. The smaller images above, block by block.
    if (n == 1) check(make_shape(n, 40, 61, 59, 72, 4, 2, 1));
  }
}

TEST_CASE("the direct forward adds into y, bias included, when accumulating") {
  // No caller passes a bias while accumulating (the transposed conv's data gradient has none),
  // so this pins the documented rule on the blocked, chunked, pixel-vector and panel paths alike.
  namespace d = gan::kernels::direct;
  gan::Rng rng(31);
  int row_tile_cases = 0;
  for (const ConvShape& s : {make_shape(2, 33, 9, 8, 34, 4, 2, 1), make_shape(1, 300, 4, 5, 20, 3, 1, 1),
                             make_shape(2, 1, 12, 11, 5, 3, 2, 1), make_shape(2, 2, 12, 11, 18, 3, 2, 1),
                             make_shape(2, 1, 9, 20, 30, 5, 1, 2)}) {
    INFO(show(s));
    const gan::Shape out = s.output_shape();
    auto x = random_vector<float>(s.input_shape().numel(), rng);
    auto w = random_vector<float>(s.weight_shape().numel(), rng);
    auto b = random_vector<float>(s.out_c, rng);
    auto y = random_vector<float>(out.numel(), rng);
    std::vector<float> want(y.size());
    ref::conv2d_forward(want.data(), x.data(), w.data(), b.data(), s);
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += y[i];
    const auto y_before = y;
    auto y_panel = y_before;
    d::conv_forward(y.data(), x.data(), w.data(), b.data(), s, out[2], out[3], true);
    expect_close(y, want, "accumulating forward");
    if (d::forward_panel_preferred(s)) {
      d::conv_forward_panel(y_panel.data(), x.data(), w.data(), b.data(), s, out[2], out[3], true);
      expect_close(y_panel, want, "accumulating panel forward");
    }
#if GAN_CONV_AVX512
    if (d::forward_rows_preferred(s)) {
      ++row_tile_cases;
      auto y_rows = y_before;
      d::conv_forward_rows(y_rows.data(), x.data(), w.data(), b.data(), s, out[2], out[3], true);
      expect_close(y_rows, want, "accumulating row-tile forward");
    }
#endif
  }
  if (GAN_CONV_AVX512) CHECK(row_tile_cases == 1);
}

TEST_CASE("pixel tiles cover every output pixel once, in rectangles or wrapping runs") {
  namespace d = gan::kernels::direct;
  for (std::int64_t h : {1, 2, 7, 14, 15, 33})
    for (std::int64_t w : {1, 3, 7, 8, 14, 15, 28, 33, 64}) {
      INFO("plane ", h, " x ", w);
      std::vector<d::PixTile> tiles;
      d::pixel_tiles(tiles, h, w);
      std::vector<int> hits(static_cast<std::size_t>(h * w), 0);
      for (const d::PixTile& t : tiles) {
        REQUIRE(t.rows * t.cols >= 1);
        REQUIRE(t.rows * t.cols <= d::kMaxPix);
        // The tile's pixels in row-major order, from its own description.
        std::vector<std::int64_t> pixels;
        for (int p = 0; p < t.rows * t.cols; ++p)
          pixels.push_back(t.wrap ? t.row * w + t.col + p : (t.row + p / t.cols) * w + t.col + p % t.cols);
        // tile_offsets in a plane with other strides (a padded, strided source) must agree.
        const std::int64_t row_stride = 3 * w + 5, col_stride = 2;
        std::int64_t off[d::kMaxPix];
        d::tile_offsets(t, row_stride, col_stride, off);
        for (int p = 0; p < t.rows * t.cols; ++p) {
          const std::int64_t q = pixels[static_cast<std::size_t>(p)];
          REQUIRE(q >= 0);
          REQUIRE(q < h * w);
          CHECK(off[p] == (q / w - t.row) * row_stride + (q % w - t.col) * col_stride);
          ++hits[static_cast<std::size_t>(q)];
        }
      }
      CHECK(std::count(hits.begin(), hits.end(), 1) == h * w);
    }
  // With 6-pixel tiles (AVX2), a 7-wide plane is covered by runs of 5-6 pixels, not 4 + 3.
  if (d::kMaxPix == 6) {
    std::vector<d::PixTile> tiles;
    d::pixel_tiles(tiles, 7, 7);
    CHECK(tiles.size() == 9);
  }
}
