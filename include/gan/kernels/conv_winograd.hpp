#pragma once
// Winograd convolution for the convs of GAN nets with many channels, forward and data gradient
// (the transposed conv's forward), on fewer multiply-adds than the direct kernels:
//  - 4x4 stride 2 (DCGAN): split by stride phase, a 2x2 stride-1 correlation, run as F(4x4, 2x2);
//    25 products per 4x4 tile instead of 64.
//      forward:   y(o, i, j) = sum_{c,p,q,a,b} w(o, c, 2a+p, 2b+q) x(c, 2(i+a)+p-pad, 2(j+b)+q-pad)
//                 input channels c' = (c, p, q) of the phase planes of x, output channels o.
//      data grad: dx(c, 2u+p-pad, 2v+q-pad) = sum_{o,a,b} w(o, c, 2(1-a)+p, 2(1-b)+q) dy(o, u+a-1, v+b-1)
//                 input channels o of dy shifted by one, output channels o' = (c, p, q) of dx's phases.
//  - 3x3 stride 1 (residual blocks): F(2x2, 3x3), 16 products per 2x2 tile instead of 36.
//      forward:   y(o, i, j) = sum_{c,a,b} w(o, c, a, b) x(c, i+a-pad, j+b-pad)
//      data grad: dx(c, h, v) = sum_{o,a,b} w(o, c, 2-a, 2-b) dy(o, h+a-(2-pad), v+b-(2-pad))
// The transforms are in kernels/conv_winograd_transforms.hpp; the weight gradient of the 4x4
// stride-2 convs, on large images, in kernels/conv_winograd_wgrad.hpp. Per tile, the sum over input
// channels c' is, for each transform point, a product (tiles x c') (c' x o'): the direct
// kernels' conv_tile with one tap. Tiles go in chunks of 2 * kLanes, gathered across images, so
// each product has rows to fill a tile whatever the plane.
//
// Precision: F(4x4, 2x2)'s transforms scale values by up to 8. On shape 2 (batch 8, inputs and
// weights in [-1, 1]) the fp32 results were 6.6e-6 (forward) and 3.7e-6 (data gradient) of the
// largest output off a double sum, the direct kernels' 1.2e-6 and 0.9e-6;
// test_conv_winograd.cpp holds both algorithms to 1e-5.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"
#include "gan/kernels/conv_winograd_rows.hpp"
#include "gan/kernels/conv_winograd_tiles.hpp"

namespace gan {
namespace kernels {
namespace direct {
namespace winograd {

// How the tiles are cut into chunks (contiguous ranges of up to kChunkTiles tiles) and each chunk
// into groups of up to kLanes, one vector of V each. F(4x4, 2x2) gathers, so its groups run across
// rows of tiles and images; F(2x2, 3x3)'s are runs within a row of tiles (rows longer than kLanes
// cut in near-equal runs), so transform_row_avx512 can load them, and its chunks whole groups.
template <class F>
class Chunks {
 public:
  static constexpr bool kRowGroups = std::is_same_v<F, F2x2_3x3>;
  // V's rows: a group's vector may start at any row below kChunkTiles.
  static constexpr std::int64_t kVRow = kRowGroups ? kChunkTiles + kLanes : kChunkTiles;

  explicit Chunks(const Geometry& g) : tiles_(g.tiles()), row_(g.tiles_w) {
    const std::int64_t runs = (row_ + kLanes - 1) / kLanes;
    run_ = kRowGroups ? (row_ + runs - 1) / runs : kLanes;
    per_chunk_ = kRowGroups ? std::max<std::int64_t>(1, kChunkTiles / run_) : 2;
    groups_ = kRowGroups ? g.n * g.tiles_h * runs : (tiles_ + kLanes - 1) / kLanes;
    runs_per_row_ = runs;
  }
  std::int64_t count() const { return (groups_ + per_chunk_ - 1) / per_chunk_; }
  // Chunk k's tiles: [first(k), first(k + 1)).
  std::int64_t first(std::int64_t k) const {
    const std::int64_t group = k * per_chunk_;
    if (group >= groups_) return tiles_;
    if (!kRowGroups) return group * kLanes;
    return group / runs_per_row_ * row_ + group % runs_per_row_ * run_;
  }
  // body(first tile, lanes) for each group of the chunk of tiles [first, end).
  template <class Body>
  void for_each_group(std::int64_t first, std::int64_t end, Body&& body) const {
    for (std::int64_t t = first; t < end;) {
      const std::int64_t in_row = kRowGroups ? std::min(run_, row_ - t % row_) : kLanes;
      const int lanes = static_cast<int>(std::min(in_row, end - t));
      body(t, lanes);
      t += lanes;
    }
  }

 private:
  std::int64_t tiles_, row_, run_ = kLanes, per_chunk_ = 2, groups_ = 0, runs_per_row_ = 1;
};

// The whole correlation of g, its weights read from w through `at`.
template <class F>
void correlate(float* dst, const float* src, const float* w, const WeightIndex& at, const Geometry& g,
               const float* bias, bool accumulate) {
  constexpr int points = F::kIn * F::kIn;
  const int threads = team_size();
  const std::int64_t zc = g.in_channels(), blocks = (g.out_channels() + kBlock - 1) / kBlock;
  const std::int64_t u_point = u_point_floats(blocks, zc), u_floats = points * u_point;
  // With U up to 8 MB, each thread transforms all the weights into a copy of its own, with no
  // wait for the other thread before its chunks. A shared U, written by both threads and read by
  // both, took 2 threads 2.5-2.7x the CPU time of 1 to transform, and 7-10 % of their time went
  // to waiting (three profiles of a loop of shape 2's forwards, Zen 5; the share varies from run
  // to run, the interleaved pairs in the notes are the measure): its lines had to leave the other
  // core's caches, and a cache line took ~200 ns from one core to the other on these machines
  // (a ping-pong, measured).
  const bool own_weights = threads > 1 && u_floats <= (std::int64_t{1} << 21);
  ThreadSlots ubuf(own_weights ? threads : 1, u_floats);
  if (!own_weights) transform_weights<F>(ubuf.at(0), w, g, at, threads);
  const Chunks<F> chunks(g);
  // A point's rows end in kLanes more floats: 4 KB apart (zc * kVRow floats), one channel's
  // points would share an L1 set.
  const VLayout vl{Chunks<F>::kVRow, zc * Chunks<F>::kVRow + kLanes};
  const std::int64_t vfloats = points * vl.point;
  ThreadSlots slots(threads, vfloats + points * kChunkTiles * kBlock);
  const std::int64_t tap = 0;
  auto run_chunk = [&](std::int64_t chunk, const float* u) {
    float* vbuf = slots.mine(threads);
    float* mbuf = vbuf + vfloats;
    const std::int64_t first = chunks.first(chunk), count = chunks.first(chunk + 1) - first;
    GatherPlan<F> plan;
    chunks.for_each_group(first, first + count, [&](std::int64_t t, int lanes) {
#if defined(__AVX512F__)
      if constexpr (Chunks<F>::kRowGroups && kLanes == 16)
        return transform_row_avx512(vbuf, vl, t - first, src, g, place_of(g, t));
#endif
      plan_gather(plan, g, t, lanes);
      transform_inputs(vbuf, vl, t - first, src, g, plan);
    });
    // A block of output channels at a time, so M stays small (100 KB) next to the chunk's V.
    const std::int64_t panels = (count + kMaxPix - 1) / kMaxPix;
    for (std::int64_t ob = 0; ob < blocks; ++ob) {
      for (int pt = 0; pt < points; ++pt)
        for (std::int64_t pp = 0; pp < panels; ++pp) {
          const std::int64_t r0 = pp * count / panels, r1 = (pp + 1) * count / panels;
          conv_tile_fn(1, static_cast<int>(r1 - r0), 1)(mbuf + (pt * kChunkTiles + r0) * kBlock,
                                                        vl.at(vbuf, pt, 0) + r0, vl.row, 0, static_cast<int>(zc),
                                                        &tap, 1, u + pt * u_point + ob * zc * kBlock);
        }
#if defined(__AVX512F__)
      if constexpr (Chunks<F>::kRowGroups && kLanes == 16) {
        chunks.for_each_group(first, first + count, [&](std::int64_t t, int lanes) {
          store_row_group_avx512(dst, mbuf, g, place_of(g, t), lanes, t - first, ob, bias, accumulate);
        });
        continue;
      }
#endif
      for (std::int64_t row = 0; row < count; ++row)
        scatter_outputs<F>(dst, mbuf, g, first + row, row, ob, bias, accumulate);
    }
  };
#if GAN_HAS_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
    const float* u = ubuf.at(0);
    if (own_weights) {
      float* mine = ubuf.mine(threads);
      transform_weights<F>(mine, w, g, at, 1);
      u = mine;
    }
    team_for(threads > 1, chunks.count(), [&](std::int64_t chunk) { run_chunk(chunk, u); });
  }
}

}  // namespace winograd

// The correlations of a winograd_supported conv (output oh x ow): its forward, and its data
// gradient, each with the weight index that goes with it.
inline bool winograd_phased(const ConvShape& s) { return s.kernel_h == 4; }
// The side of an output tile: 4 for F(4x4, 2x2), 2 for F(2x2, 3x3).
inline std::int64_t winograd_tile(const ConvShape& s) {
  return winograd_phased(s) ? winograd::F4x4_2x2::kOut : winograd::F2x2_3x3::kOut;
}

inline winograd::Geometry winograd_forward_geometry(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  const std::int64_t tile = winograd_tile(s);
  winograd::Geometry g;
  g.n = s.n, g.src_c = s.in_c, g.src_h = s.in_h, g.src_w = s.in_w;
  g.dst_c = s.out_c, g.dst_h = oh, g.dst_w = ow;
  g.phases_in = winograd_phased(s) ? 4 : 1, g.off_in = s.pad_h;
  g.tiles_h = (oh + tile - 1) / tile, g.tiles_w = (ow + tile - 1) / tile;
  return g;
}

inline winograd::Geometry winograd_backward_data_geometry(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  winograd::Geometry g;
  g.n = s.n, g.src_c = s.out_c, g.src_h = oh, g.src_w = ow;
  g.dst_c = s.in_c, g.dst_h = s.in_h, g.dst_w = s.in_w;
  const std::int64_t tile = winograd_tile(s);
  if (!winograd_phased(s)) {
    g.off_in = 2 - s.pad_h;
    g.tiles_h = (s.in_h + tile - 1) / tile, g.tiles_w = (s.in_w + tile - 1) / tile;
    return g;
  }
  g.off_in = 1, g.phases_out = 4, g.off_out = s.pad_h;
  // dx row h is row u = (h + pad) / 2 of phase (h + pad) % 2
  const std::int64_t rows = (s.in_h + s.pad_h + 1) / 2, cols = (s.in_w + s.pad_w + 1) / 2;
  g.tiles_h = (rows + tile - 1) / tile, g.tiles_w = (cols + tile - 1) / tile;
  return g;
}

// Whether the Winograd kernels can run conv s (output oh x ow): 4x4 stride 2 or 3x3 stride 1,
// no dilation, the same padding on both axes, and tensors small enough for 32-bit gather offsets.
inline bool winograd_supported(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  const std::int64_t biggest = std::max(
      {s.n * s.in_c * s.in_h * s.in_w, s.n * s.out_c * oh * ow, s.in_c * s.out_c * s.kernel_h * s.kernel_w});
  const bool k4s2 = s.kernel_h == 4 && s.kernel_w == 4 && s.stride_h == 2 && s.stride_w == 2;
  const bool k3s1 = s.kernel_h == 3 && s.kernel_w == 3 && s.stride_h == 1 && s.stride_w == 1;
  return (k4s2 || k3s1) && s.dilation_h == 1 && s.dilation_w == 1 && s.pad_h == s.pad_w &&
         biggest < std::numeric_limits<std::int32_t>::max();
}

// Whether they beat the direct kernels on a supported conv's forward (or data gradient) on
// `threads` threads: at least 64 channels on each side of the correlation, at least two chunks
// of tiles per thread (a 1-image 16x16 -> 32x32 transposed conv, 1024 -> 256 channels, in one
// chunk ran 2 threads at 55-73 % of the direct kernels' rate), and at least 60 % of the tiles'
// outputs inside the plane (a 16x16 data gradient tiles its 9-row phases as 12: 44 %, and ran
// no faster than the direct kernel). Zen 4, 1 thread, the direct kernels' time over these:
// shapes 2 and 3 both ways 1.22-1.33, a 1-image 128x128 conv 64 -> 128 1.39 / 1.46, the data
// gradient of an 8x8 transposed conv 512 -> 256 2.06; F(2x2, 3x3) on shape 5 (64 -> 64, 28x28,
// batch 64) 1.41 / 1.45.
inline bool winograd_pays(const ConvShape& s, std::int64_t oh, std::int64_t ow, bool backward_data, int threads) {
  const winograd::Geometry g =
      backward_data ? winograd_backward_data_geometry(s, oh, ow) : winograd_forward_geometry(s, oh, ow);
  const std::int64_t tile = winograd_tile(s);
  const double computed = static_cast<double>(g.tiles()) * static_cast<double>(tile * tile * g.out_channels());
  return g.in_channels() >= 64 && g.out_channels() >= 64 && g.tiles() >= 2 * threads * winograd::kChunkTiles &&
         static_cast<double>(g.n * g.dst_c * g.dst_h * g.dst_w) >= 0.6 * computed;
}

// y = conv(x, w) (+ b) (+ y when accumulate) for a winograd_supported conv with output oh x ow.
inline void conv_forward_winograd(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                                  std::int64_t oh, std::int64_t ow, bool accumulate) {
  const winograd::WeightIndex at{s.in_c, static_cast<int>(s.kernel_h), winograd_phased(s), false};
  const winograd::Geometry g = winograd_forward_geometry(s, oh, ow);
  if (winograd_phased(s)) return winograd::correlate<winograd::F4x4_2x2>(y, x, w, at, g, b, accumulate);
  winograd::correlate<winograd::F2x2_3x3>(y, x, w, at, g, b, accumulate);
}

// dx = conv^T(dy, w) (+ b per input channel) (+ dx when accumulate): the data gradient of a
// winograd_supported conv whose output is oh x ow.
inline void conv_backward_data_winograd(float* dx, const float* dy, const float* w, const ConvShape& s,
                                        std::int64_t oh, std::int64_t ow, const float* b, bool accumulate) {
  const winograd::WeightIndex at{s.in_c, static_cast<int>(s.kernel_h), winograd_phased(s), true};
  const winograd::Geometry g = winograd_backward_data_geometry(s, oh, ow);
  if (winograd_phased(s)) return winograd::correlate<winograd::F4x4_2x2>(dx, dy, w, at, g, b, accumulate);
  winograd::correlate<winograd::F2x2_3x3>(dx, dy, w, at, g, b, accumulate);
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan