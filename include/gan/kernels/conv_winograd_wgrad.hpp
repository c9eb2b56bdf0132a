#pragma once
// The weight gradient of a 4x4 stride-2 conv (DCGAN's) on Winograd's F(4x4, 2x2), with 25
// products per 4x4 tile of dy and channel pair instead of 64. Split by stride phase as in
// kernels/conv_winograd.hpp, dw(o, c, 2a+p, 2b+q) = dw'(o, c', a, b) with c' = (p, q, c), the
// weight gradient of a 2x2 stride-1 correlation of the phase planes xph:
//
//   dw'(o, c', a, b) = sum over n, i, j of dy(n, o, i, j) xph(n, c', i + a, j + b)
//
// F(4, 2) computes y = A^T [(G g) . (B^T d)], so its gradient in g is G^T [(A dy) . (B^T d)],
// and summed over the 4x4 tiles of dy and the 5x5 windows of xph under them,
//
//   dw' = G^T [ sum over tiles (A dY A^T) . (B^T X B) ] G
//
// For each of the 25 points the sum over tiles is a product (c' x tiles)(tiles x o): the GEMM
// tile (kernels/gemm_tiles.hpp) broadcasting 14 transformed input channels of a tile (stored
// channels-contiguous per tile) against 32 transformed dy channels. Both sides are built from
// channel-blocked copies of x and dy (16 and 32 channels per pixel), so each transform loads
// and stores whole vectors of channels.
//
// Precision: on one 128x128 image 64 -> 128 channels (and 8 66x66 images 64 -> 64), inputs and
// dy in [-1, 1], the fp32 result was 2.1e-6 (2.8e-6) of the largest gradient off a double sum,
// the direct kernel's 1.8e-6 (2.0e-6).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "gan/config.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_layout.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"
#include "gan/kernels/conv_winograd_transforms.hpp"
#include "gan/kernels/gemm_tiles.hpp"

namespace gan {
namespace kernels {
namespace direct {

namespace winograd {

inline constexpr int kWgradPoints = F4x4_2x2::kIn * F4x4_2x2::kIn;
// Tiles per pass of the transforms and products: the point sums (S) are read and written once
// per pass, and a pass's transformed tiles (V and M) take 25 x 256 x (c' + o) floats.
inline constexpr std::int64_t kWgradTiles = 256;

// Sizes of a weight gradient on F(4x4, 2x2): c' padded to whole vectors per phase, o to blocks.
struct WgradPlan {
  std::int64_t icp, cpp, nb, ocp, tiles_h, tiles_w, tiles;
  WgradPlan(const ConvShape& s, std::int64_t oh, std::int64_t ow)
      : icp((s.in_c + kLanes - 1) / kLanes * kLanes), cpp(4 * icp), nb(blocks(s.out_c)), ocp(nb * kBlock),
        tiles_h((oh + 3) / 4), tiles_w((ow + 3) / 4), tiles(s.n * tiles_h * tiles_w) {}
  std::int64_t sums() const { return kWgradPoints * cpp * ocp; }
};

// B^T X B of the 5x5 window of phase (p, q) under tile column tj of a row of tiles, kLanes
// channels of xb: x rows [top, top + 10) blocked by channel (each row in_w pixels of kLanes
// channels), only rows [lo, hi) filled (the others lie outside the image). Point k goes to
// v + k * stride.
inline void wgrad_input_tile(float* v, std::int64_t stride, const float* xb, const ConvShape& s, std::int64_t top,
                             std::int64_t lo, std::int64_t hi, std::int64_t tj, int p, int q) {
  Vec d[kWgradPoints];
  for (int r = 0; r < 5; ++r) {
    const std::int64_t row = 2 * r + p;  // from top
    for (int c = 0; c < 5; ++c) {
      const std::int64_t col = 2 * (4 * tj + c) + q - s.pad_w;
      const bool inside = top + row >= lo && top + row < hi && col >= 0 && col < s.in_w;
      d[r * 5 + c] = inside ? Vec::load_aligned(xb + (row * s.in_w + col) * kLanes) : Vec(0.f);
    }
  }
  for (int r = 0; r < 5; ++r) F4x4_2x2::input_1d(d + r * 5, 1);
  for (int c = 0; c < 5; ++c) F4x4_2x2::input_1d(d + c, 5);
  for (int k = 0; k < kWgradPoints; ++k) d[k].store_aligned(v + k * stride);
}

// A dY A^T of the 4x4 tile at column tj of a row of tiles of dyb: `rows` (<= 4) rows of ow
// pixels of kBlock channels, zeros below them and past the plane. Point k goes to m + k * stride.
inline void wgrad_dy_tile(float* m, std::int64_t stride, const float* dyb, std::int64_t rows, std::int64_t ow,
                          std::int64_t tj) {
  for (int v = 0; v < kVecs; ++v) {
    Vec e[kWgradPoints];
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) {
        const std::int64_t j = 4 * tj + c;
        e[r * 5 + c] = r < rows && j < ow ? Vec::load_aligned(dyb + (r * ow + j) * kBlock + v * kLanes) : Vec(0.f);
      }
    for (int r = 0; r < 4; ++r) F4x4_2x2::output_adjoint_1d(e + r * 5, 1);
    for (int c = 0; c < 5; ++c) F4x4_2x2::output_adjoint_1d(e + c, 5);
    for (int k = 0; k < kWgradPoints; ++k) e[k].store_aligned(m + k * stride + v * kLanes);
  }
}

}  // namespace winograd

// Whether the weight gradient of a winograd_supported conv s (output oh x ow) runs on F(4x4, 2x2):
// its 4x4 stride-2 kind (not 3x3 stride 1), at least 64 channels on each side (as winograd_pays
// asks of the other passes), point sums up to 8 MB, at least 60 % of the tiles' pixels in the
// plane, and an input image over 1 MB, which the direct kernel pads whole and then reads back a
// band of rows at a time, where this blocks a row of tiles' rows at a time. Zen 5, interleaved runs
// of a scratch loop, F(4x4, 2x2) over the direct kernel: one 128x128 image 64 -> 128 channels
// +52-68 % on 1 thread, +15 % on 2; a batch of 64 14x14 images (DCGAN's 64 -> 128 conv) +18-31 % on
// 1 thread but -11 % on 2, its transposed twin (no bias gradient) -6 % and -15 %.
inline bool winograd_wgrad_pays(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  if (s.kernel_h != 4 || s.in_c < 64 || s.out_c < 64) return false;
  const winograd::WgradPlan plan(s, oh, ow);
  return plan.sums() <= (std::int64_t{1} << 21) && oh * ow >= 0.6 * (plan.tiles_h * plan.tiles_w * 16) &&
         s.in_c * s.in_h * s.in_w > (std::int64_t{1} << 18);
}

// dw += the weight gradient, db += the bias gradient (db may be null) of a conv that
// winograd_wgrad_pays; x, dy, dw as in conv_backward_weight.
inline void conv_backward_weight_winograd(float* dw, const float* dy, const float* x, const ConvShape& s,
                                          std::int64_t oh, std::int64_t ow, float* db) {
  using winograd::kWgradPoints;
  const winograd::WgradPlan plan(s, oh, ow);
  const std::int64_t ic_n = s.in_c, oc_n = s.out_c, icp = plan.icp, nb = plan.nb, ocp = plan.ocp;
  const std::int64_t plane = s.in_h * s.in_w, pix = oh * ow, cbs = icp / kLanes, tw = plan.tiles_w;
  // Passes of whole rows of tiles (across images). A row of tiles reads 10 rows of x (5 window
  // rows in each of 2 phases) and 4 of dy, blocked by channels into the thread's own buffers
  // just before its transforms, so they stay in L1 / L2.
  const std::int64_t tile_rows = s.n * plan.tiles_h;
  const int threads = team_size();
  // Each thread takes rows of tiles as it goes (an atomic counter, so a vCPU that runs slower
  // takes fewer; as fast as a static split in 5 interleaved rounds, with less waiting at the
  // end) and sums them into its own V, M and S, with no barrier until the last step. Shared,
  // the V and M that one thread transformed were read by the other in its products (shape 2,
  // 2 threads, Zen 5: 1.1x one thread).
  // When that leaves each thread one pass or less (one 128x128 image), the threads split the input
  // channels instead: each transforms all of dy but only its own channels of x, and its sums are
  // its own part of dw, so no thread sums and transforms a whole S of its own and nothing is
  // summed across them.
  const std::int64_t most_rows = (tile_rows + threads - 1) / threads;
  const bool split_channels = threads > 1 && most_rows <= winograd::kWgradTiles / tw && cbs >= threads;
  const std::int64_t pass_rows =
      std::clamp<std::int64_t>(winograd::kWgradTiles / tw, 1, split_channels ? tile_rows : most_rows);
  const std::int64_t chunk = pass_rows * tw, x_rows = 10;
  // Thread k's channel blocks: [cbs * k / threads, cbs * (k + 1) / threads) when split, at most most_cbs.
  const std::int64_t most_cbs = split_channels ? (cbs + threads - 1) / threads : cbs;
  ThreadSlots xrows(threads, most_cbs * x_rows * s.in_w * kLanes), dyrows(threads, nb * 4 * ow * kBlock);
  // V: point, tile, c'. M: point, block, tile, kBlock. S: c', point, o (a (c', o) pair's points
  // one 12.8 KB run for the last step, where as point-major planes they were 25 pages apart).
  // With the channels split, a point of V and of M ends in kLanes more floats (a tile's 25 points
  // are stored together, 128 KB apart on shape 6): 2 threads, shape 6, medians of 15-21 rotated
  // runs of a scratch loop, 348 -> 416 and 365 -> 386 GFLOP/s. On the tile split the same padding
  // cost 8-9 % (354 -> 327, 302 -> 275); why was not pinned down.
  const std::int64_t pad = split_channels ? kLanes : 0, m_point = nb * chunk * kBlock + pad;
  ThreadSlots vbuf(threads, kWgradPoints * (chunk * 4 * most_cbs * kLanes + pad));
  ThreadSlots mbuf(threads, kWgradPoints * m_point);
  const bool parts = threads > 1 && !split_channels;
  ThreadSlots sbuf(threads, kWgradPoints * 4 * most_cbs * kLanes * ocp);
  ThreadSlots dw_parts(parts ? threads : 0, s.out_c * s.in_c * 16);
  ThreadSlots bias_sums(db ? threads : 0, ocp, true);
  std::vector<char> summed(static_cast<std::size_t>(threads), 0);  // whether copy k's S holds sums
  std::atomic<std::int64_t> next_row{0};
  // x rows [top, top + 10) of row of tiles r, those inside the image: [lo, hi).
  auto x_span = [&](std::int64_t r, std::int64_t& top, std::int64_t& lo, std::int64_t& hi) {
    top = 8 * (r % plan.tiles_h) - s.pad_h, lo = std::max<std::int64_t>(top, 0);
    hi = std::max(lo, std::min(top + x_rows, s.in_h));
  };
#if GAN_HAS_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
    const int me = team_slot(threads);
    // The thread's channel blocks [cb0, cb1); its V rows and S hold its own c': per phase, its channels.
    const std::int64_t cb0 = split_channels ? cbs * me / threads : 0;
    const std::int64_t cb1 = split_channels ? cbs * (me + 1) / threads : cbs;
    const std::int64_t icv = (cb1 - cb0) * kLanes, cpv = 4 * icv, v_point = chunk * cpv + pad;
    const std::int64_t panels = (cpv + kMaxPix - 1) / kMaxPix;
    float* const sums_db = db && (!split_channels || me == 0) ? bias_sums.at(me) : nullptr;
    float* const xr = xrows.at(me);
    float* const dr = dyrows.at(me);
    float* const vs = vbuf.at(me);
    float* const ms = mbuf.at(me);
    float* const ss = sbuf.at(me);
    // Row of tiles r into place k of the pass: its x and dy rows blocked by channel, then the
    // transforms of its tiles.
    auto transform_row = [&](std::int64_t r, std::int64_t k) {
      const std::int64_t n = r / plan.tiles_h, ti = r % plan.tiles_h;
      std::int64_t top, lo, hi;
      // x rows [top, top + 10) of every channel block, those inside the image; dy rows
      // [4 ti, 4 ti + 4) of every block, those inside the plane (the bias sums take each once).
      x_span(r, top, lo, hi);
      for (std::int64_t cb = cb0; cb < cb1 && lo < hi; ++cb)
        transpose_panel<kLanes>(xr + ((cb - cb0) * x_rows + lo - top) * s.in_w * kLanes, kLanes,
                                x + (n * ic_n + cb * kLanes) * plane + lo * s.in_w, plane,
                                std::min<std::int64_t>(kLanes, ic_n - cb * kLanes), (hi - lo) * s.in_w);
      const std::int64_t dy_rows = std::min<std::int64_t>(4, oh - 4 * ti);
      for (std::int64_t ob = 0; ob < nb; ++ob)
        transpose_panel(dr + ob * 4 * ow * kBlock, kBlock, dy + (n * oc_n + ob * kBlock) * pix + 4 * ti * ow, pix,
                        std::min<std::int64_t>(kBlock, oc_n - ob * kBlock), dy_rows * ow,
                        sums_db ? sums_db + ob * kBlock : nullptr);
      for (std::int64_t tj = 0; tj < tw; ++tj) {
        const std::int64_t t = k * tw + tj;  // in the pass
        for (int phase = 0; phase < 4; ++phase)
          for (std::int64_t cb = cb0; cb < cb1; ++cb)
            winograd::wgrad_input_tile(vs + t * cpv + phase * icv + (cb - cb0) * kLanes, v_point,
                                       xr + (cb - cb0) * x_rows * s.in_w * kLanes, s, top, lo, hi, tj, phase / 2,
                                       phase % 2);
        for (std::int64_t ob = 0; ob < nb; ++ob)
          winograd::wgrad_dy_tile(ms + (ob * chunk + t) * kBlock, m_point, dr + ob * 4 * ow * kBlock,
                                  dy_rows, ow, tj);
      }
    };
    // The x and dy rows of row of tiles r, into L2.
    auto prefetch_row = [&](std::int64_t r) {
      const std::int64_t n = r / plan.tiles_h, ti = r % plan.tiles_h;
      std::int64_t top, lo, hi;
      x_span(r, top, lo, hi);
      const std::int64_t c0 = cb0 * kLanes, cn = std::min(ic_n, cb1 * kLanes) - c0;
      prefetch_rows_part(x + (n * ic_n + c0) * plane + lo * s.in_w, cn, plane, (hi - lo) * s.in_w, 0, 1);
      const std::int64_t dy_floats = std::min<std::int64_t>(4, oh - 4 * ti) * ow;
      prefetch_rows_part(dy + n * oc_n * pix + 4 * ti * ow, oc_n, pix, dy_floats, 0, 1);
    };
    // S += the products of a pass of `tiles` tiles (S = them, for the copy's first).
    auto products = [&](std::int64_t tiles) {
      for (std::int64_t i = 0; i < kWgradPoints * nb; ++i) {
        const std::int64_t pt = i / nb, ob = i % nb;
        const float* v = vs + pt * v_point;
        const float* m = ms + pt * m_point + ob * chunk * kBlock;
        float* sp = ss + pt * ocp + ob * kBlock;
        for (std::int64_t pp = 0; pp < panels; ++pp) {
          const std::int64_t c0 = pp * cpv / panels, c1 = (pp + 1) * cpv / panels;
          gemm_tile_fn(static_cast<int>(c1 - c0))(sp + c0 * kWgradPoints * ocp, kWgradPoints * ocp, summed[me] != 0,
                                                  v + c0, cpv, static_cast<int>(tiles), m, nullptr);
        }
      }
      summed[me] = 1;
    };
    // The row after the current one is taken before the current one is transformed, so its
    // rows can be on their way meanwhile.
    std::int64_t own_row = 0;
    auto take_row = [&] { return split_channels ? own_row++ : next_row.fetch_add(1); };
    std::int64_t r = take_row();
    while (r < tile_rows) {
      std::int64_t k = 0;
      for (; k < pass_rows && r < tile_rows; ++k) {
        const std::int64_t after = take_row();
        if (after < tile_rows) prefetch_row(after);
        transform_row(r, k);
        r = after;
      }
      products(k * tw);
    }
    // dw' = G^T S G per (c', o) of this copy's S, kLanes output channels at a time, added into
    // dw(o, c, 2a+p, 2b+q); with more threads splitting the tiles, written into the copy's own
    // dw-shaped part first, and those summed into dw after: S is 6x the size of dw, and read across
    // the cores (~200 ns apart here) it took longer than the products (shape 6, 2 threads, Zen 5).
    const std::int64_t ovecs = ocp / kLanes;
    float* const dst = parts ? dw_parts.at(me) : dw;
    for (std::int64_t i = 0; i < cpv * ovecs && summed[me]; ++i) {
      const std::int64_t cp = i / ovecs, o0 = i % ovecs * kLanes, phase = cp / icv, c = cb0 * kLanes + cp % icv;
      if (c >= ic_n || o0 >= oc_n) continue;
      Vec e[kWgradPoints];
      for (int k = 0; k < kWgradPoints; ++k) e[k] = Vec::load_aligned(ss + (cp * kWgradPoints + k) * ocp + o0);
      for (int row = 0; row < 5; ++row) winograd::F4x4_2x2::weight_adjoint_1d(e + row * 5, 1);
      for (int b = 0; b < 2; ++b) winograd::F4x4_2x2::weight_adjoint_1d(e + b, 5);
      alignas(64) float out[4][kLanes];
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) e[a * 5 + b].store_aligned(out[a * 2 + b]);
      const std::int64_t p = phase / 2, q = phase % 2;
      for (std::int64_t l = 0; l < std::min<std::int64_t>(kLanes, oc_n - o0); ++l)
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) {
            float& to = dst[((o0 + l) * ic_n + c) * 16 + (2 * a + p) * 4 + 2 * b + q];
            to = parts ? out[a * 2 + b][l] : to + out[a * 2 + b][l];
          }
    }
#if GAN_HAS_OPENMP
    if (parts) {
#pragma omp barrier
    }
#endif
    if (parts) {
      const std::int64_t dw_n = oc_n * ic_n * 16, runs = (dw_n + 4095) / 4096;
      team_for(true, runs, [&](std::int64_t run) {
        for (std::int64_t j = run * 4096; j < std::min(dw_n, (run + 1) * 4096); ++j)
          for (int copy = 0; copy < threads; ++copy)
            if (summed[copy]) dw[j] += dw_parts.at(copy)[j];
      });
    }
  }
  if (db)
    for (std::int64_t oc = 0; oc < oc_n; ++oc)
      for (int t = 0; t < threads; ++t) db[oc] += bias_sums.at(t)[oc];
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
