// The Winograd kernels (kernels/conv_winograd.hpp: F(4x4, 2x2) for 4x4 stride-2 convs, F(2x2, 3x3)
// for 3x3 stride-1 ones) against the reference, called directly on shapes the dispatch would not
// give them (few channels, one tile, odd planes, every padding), so each edge of the tiling and of
// the stride phases is checked; and through the public kernels on a DCGAN layer and a residual
// block's conv, where the dispatch takes them.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "conv_test_util.hpp"
#include "gan/core/parallel.hpp"
#include "gan/kernels/conv_winograd.hpp"
#include "gan/kernels/conv_winograd_wgrad.hpp"

using namespace conv_test;
namespace d = gan::kernels::direct;

namespace {

// The weight and bias gradients of a 4x4 stride-2 conv s on F(4x4, 2x2), added onto random
// values, against the reference in double; and the weight gradient alone (no bias).
void check_winograd_wgrad(const ConvShape& s, gan::Rng& rng) {
  INFO(show(s));
  const std::int64_t oh = s.out_h(), ow = s.out_w();
  auto x = random_vector<float>(s.input_shape().numel(), rng);
  auto dy = random_vector<float>(s.output_shape().numel(), rng);
  auto dw = random_vector<float>(s.weight_shape().numel(), rng), db = random_vector<float>(s.out_c, rng);
  std::vector<double> dw_ref(dw.begin(), dw.end()), db_ref(db.begin(), db.end());
  ref::conv2d_backward_weight(dw_ref.data(), db_ref.data(), converted<double>(dy).data(), converted<double>(x).data(),
                              s);
  const std::vector<float> dw_start = dw;
  d::conv_backward_weight_winograd(dw.data(), dy.data(), x.data(), s, oh, ow, db.data());
  expect_close(dw, dw_ref, "weight gradient, added");
  expect_close(db, db_ref, "bias gradient, added");
  std::vector<float> dw_alone(dw_start.size(), 0.f);
  std::vector<double> dw_alone_ref(dw_start.size(), 0.0);
  for (std::size_t i = 0; i < dw_ref.size(); ++i) dw_alone_ref[i] = dw_ref[i] - dw_start[i];
  d::conv_backward_weight_winograd(dw_alone.data(), dy.data(), x.data(), s, oh, ow, nullptr);
  expect_close(dw_alone, dw_alone_ref, "weight gradient without bias");
}

// Winograd's fp32 error grows with the reduction length k (channels x taps) against the output's
// scale, about as sqrt(k): 256 -> 96 channels (k = 4096), 12 draws: the forward's error 0.95 of
// the plain tolerance on average, 1.30 at most; 64 -> 64 (k = 1024) 0.53 / 0.70; 17 -> 33
// (k = 272) 0.21 / 0.43. Past 1024 terms the tolerance grows as sqrt(k / 1024).
double winograd_slack(std::int64_t k) { return std::max(1.0, std::sqrt(static_cast<double>(k) / 1024.0)); }

// Forward and data gradient of conv s by the Winograd kernels, with and without bias and
// accumulation, against the reference in double.
void check_winograd(const ConvShape& s, gan::Rng& rng) {
  INFO(show(s));
  const std::int64_t oh = s.out_h(), ow = s.out_w();
  REQUIRE(d::winograd_supported(s, oh, ow));
  auto x = random_vector<float>(s.input_shape().numel(), rng);
  auto w = random_vector<float>(s.weight_shape().numel(), rng);
  auto b = random_vector<float>(s.out_c, rng), bx = random_vector<float>(s.in_c, rng);
  auto dy = random_vector<float>(s.output_shape().numel(), rng);
  const auto xr = converted<double>(x), wr = converted<double>(w), dyr = converted<double>(dy);
  const auto br = converted<double>(b);
  const double fwd_slack = winograd_slack(s.in_c * s.kernel_h * s.kernel_w);
  const double bwd_slack = winograd_slack(s.out_c * s.kernel_h * s.kernel_w);

  std::vector<double> y_ref(dy.size());
  ref::conv2d_forward(y_ref.data(), xr.data(), wr.data(), br.data(), s);
  std::vector<float> y(dy.size(), 123.f);  // must be overwritten
  d::conv_forward_winograd(y.data(), x.data(), w.data(), b.data(), s, oh, ow, false);
  expect_close(y, y_ref, "forward with bias", fwd_slack);
  auto y_acc = random_vector<float>(static_cast<std::int64_t>(dy.size()), rng);
  std::vector<double> y_acc_ref(y_acc.begin(), y_acc.end());
  const std::size_t out_plane = static_cast<std::size_t>(oh * ow), out_channels = static_cast<std::size_t>(s.out_c);
  for (std::size_t i = 0; i < y_ref.size(); ++i) y_acc_ref[i] += y_ref[i] - br[i / out_plane % out_channels];
  d::conv_forward_winograd(y_acc.data(), x.data(), w.data(), nullptr, s, oh, ow, true);
  expect_close(y_acc, y_acc_ref, "forward accumulating", fwd_slack);

  // Data gradient: onto NaN with a per-input-channel bias (the transposed conv's forward), and
  // accumulating onto random values.
  std::vector<double> dx_ref(x.size(), 0.0);
  ref::conv2d_backward_data(dx_ref.data(), dyr.data(), wr.data(), s);
  std::vector<double> dx_bias_ref(dx_ref);
  const std::size_t plane = static_cast<std::size_t>(s.in_h * s.in_w), channels = static_cast<std::size_t>(s.in_c);
  for (std::size_t i = 0; i < dx_bias_ref.size(); ++i) dx_bias_ref[i] += bx[i / plane % channels];
  std::vector<float> dx(x.size(), std::numeric_limits<float>::quiet_NaN());
  d::conv_backward_data_winograd(dx.data(), dy.data(), w.data(), s, oh, ow, bx.data(), false);
  expect_close(dx, dx_bias_ref, "data gradient with bias, overwriting", bwd_slack);
  auto dx_acc = random_vector<float>(s.input_shape().numel(), rng);
  std::vector<double> dx_acc_ref(dx_acc.begin(), dx_acc.end());
  for (std::size_t i = 0; i < dx_ref.size(); ++i) dx_acc_ref[i] += dx_ref[i];
  d::conv_backward_data_winograd(dx_acc.data(), dy.data(), w.data(), s, oh, ow, nullptr, true);
  expect_close(dx_acc, dx_acc_ref, "data gradient accumulating", bwd_slack);
}

// check(rng) on 1 and 2 threads, each time from a generator seeded `seed` (the same draws).
template <class Check>
void on_one_and_two_threads(std::uint64_t seed, Check&& check) {
  const int before = gan::max_threads();
  for (int threads : {1, 2}) {
    gan::set_num_threads(threads);
    INFO("threads ", threads);
    gan::Rng rng(seed);
    check(rng);
  }
  gan::set_num_threads(before);
}

}  // namespace

TEST_CASE("Winograd kernels match the reference on odd shapes, every padding, 1 and 2 threads") {
  on_one_and_two_threads(41, [](gan::Rng& rng) {
    for (std::int64_t pad : {0, 1, 2, 3}) {
      INFO("padding ", pad);
      // F(4x4, 2x2), 4x4 stride 2
      check_winograd(make_shape(1, 1, 4, 4, 1, 4, 2, pad), rng);       // one channel each way, one tile
      check_winograd(make_shape(1, 3, 5, 7, 2, 4, 2, pad), rng);       // odd planes, a part-filled lane block
      check_winograd(make_shape(3, 17, 14, 14, 33, 4, 2, pad), rng);  // 7x7 output (DCGAN), 33 = 32 + 1 channels
      check_winograd(make_shape(2, 5, 19, 23, 40, 4, 2, pad), rng);    // tiles across image boundaries in a chunk
      check_winograd(make_shape(5, 20, 9, 30, 7, 4, 2, pad), rng);     // wide rows, more than one chunk
      // F(2x2, 3x3), 3x3 stride 1
      check_winograd(make_shape(1, 1, 3, 3, 1, 3, 1, pad), rng);       // one channel each way, 1 + 2 pad outputs
      check_winograd(make_shape(1, 3, 5, 7, 2, 3, 1, pad), rng);       // odd planes, a part-filled lane block
      check_winograd(make_shape(2, 17, 14, 14, 33, 3, 1, pad), rng);  // 33 = 32 + 1 channels
      check_winograd(make_shape(3, 5, 9, 30, 7, 3, 1, pad), rng);      // wide rows, more than one chunk
    }
    // Transformed weights over 8 MB (2.5M floats both ways): one copy that the threads share,
    // where smaller ones get a copy per thread.
    check_winograd(make_shape(1, 256, 8, 8, 96, 4, 2, 1), rng);
  });
}

TEST_CASE("the Winograd weight gradient matches the reference on odd shapes, every padding, 1 and 2 threads") {
  on_one_and_two_threads(44, [](gan::Rng& rng) {
    for (std::int64_t pad : {0, 1, 2, 3}) {
      INFO("padding ", pad);
      check_winograd_wgrad(make_shape(1, 1, 4, 4, 1, 4, 2, pad), rng);      // one channel each way, one tile
      check_winograd_wgrad(make_shape(1, 3, 5, 7, 2, 4, 2, pad), rng);      // odd planes, part-filled vectors
      check_winograd_wgrad(make_shape(3, 17, 14, 14, 33, 4, 2, pad), rng);  // 7x7 output (DCGAN), 33 = 32 + 1
      check_winograd_wgrad(make_shape(2, 5, 19, 23, 40, 4, 2, pad), rng);   // tiles of two images in a pass
      // 2 threads split its 3 blocks of input channels 1 + 2 (one pass each); the last is part-filled
      check_winograd_wgrad(make_shape(1, 40, 10, 13, 24, 4, 2, pad), rng);
    }
    // More tiles than a pass (kWgradTiles): the second pass adds to the point sums.
    check_winograd_wgrad(make_shape(10, 6, 40, 44, 20, 4, 2, 1), rng);  // 300 tiles
  });
}

TEST_CASE("the conv kernels take the Winograd path for a DCGAN layer and agree with the reference") {
  // D's second conv (issue 5's shape 2, its channels cut to the fewest the dispatch takes: 16 x 4
  // phases in, 64 out) with a batch that gives every thread two chunks of tiles, and G's matching
  // transposed conv, whose forward is the conv's data gradient.
  gan::Rng rng(42);
  const ConvShape conv = make_shape(16 * gan::max_threads(), 16, 14, 14, 64, 4, 2, 1);
  const ConvShape convt = make_shape(16 * gan::max_threads(), 64, 7, 7, 16, 4, 2, 1, 1, 0, true);
  const int threads = d::team_size();
  CHECK(d::winograd_pays(conv, 7, 7, false, threads));
  CHECK(d::winograd_pays(conv, 7, 7, true, threads));
  check_against_reference<float>(conv, true, rng);
  check_against_reference<float>(convt, true, rng);
}

TEST_CASE("the conv kernels take the Winograd weight gradient for a large image and agree with the reference") {
  // Issue 5's shape 6 (one 128x128 image, 64 -> 128 channels) cut to a 64x65 image of 64
  // channels (just over 1 MB) into 64: the direct kernel would pad it whole. The weight and
  // bias gradients only: the reference for all three passes, unoptimised under ASan, would
  // triple the test's time.
  gan::Rng rng(45);
  const ConvShape s = make_shape(1, 64, 64, 65, 64, 4, 2, 1);
  CHECK(d::winograd_wgrad_pays(s, s.out_h(), s.out_w()));
  CHECK_FALSE(d::winograd_wgrad_pays(make_shape(64, 64, 14, 14, 128, 4, 2, 1), 7, 7));  // DCGAN's: small images
  const ConvShape k3s1 = make_shape(1, 64, 64, 65, 64, 3, 1, 1);  // Winograd F(2x2, 3x3) for the other passes
  CHECK(d::winograd_supported(k3s1, k3s1.out_h(), k3s1.out_w()));
  CHECK_FALSE(d::winograd_wgrad_pays(k3s1, k3s1.out_h(), k3s1.out_w()));
  auto x = random_vector<float>(s.input_shape().numel(), rng);
  auto dy = random_vector<float>(s.output_shape().numel(), rng);
  std::vector<float> dw(static_cast<std::size_t>(s.weight_shape().numel()), 0.f), db(64, 0.f);
  std::vector<double> dw_ref(dw.size(), 0.0), db_ref(db.size(), 0.0);
  gan::kernels::conv2d_backward_weight(dw.data(), db.data(), dy.data(), x.data(), s);
  ref::conv2d_backward_weight(dw_ref.data(), db_ref.data(), converted<double>(dy).data(), converted<double>(x).data(),
                              s);
  expect_close(dw, dw_ref, "weight gradient");
  expect_close(db, db_ref, "bias gradient");
}

TEST_CASE("the conv kernels take the Winograd path for a residual block's 3x3 conv and agree with the reference") {
  // Issue 5's shape 5 (64 -> 64 channels, 3x3, padding 1) on smaller planes, with a batch that
  // gives every thread two chunks of tiles.
  gan::Rng rng(43);
  const ConvShape conv = make_shape(4 * gan::max_threads(), 64, 10, 10, 64, 3, 1, 1);
  const int threads = d::team_size();
  CHECK(d::winograd_pays(conv, 10, 10, false, threads));
  CHECK(d::winograd_pays(conv, 10, 10, true, threads));
  check_against_reference<float>(conv, true, rng);
}
