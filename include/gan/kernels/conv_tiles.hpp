#pragma once
// Pixel tiles of the channel-blocked direct conv (kernels/conv_direct.hpp): how an output
// plane is covered by tiles of at most kMaxPix pixels, the tile's reduction, its epilogue
// (pixel-major tile to NCHW, + bias, = or +=), and the split of a long reduction into chunks
// whose packed weights stay in L2.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gan/kernels/conv_microkernels.hpp"

namespace gan {
namespace kernels {
namespace direct {

// An rt x nc block of output pixels starting at (row, col); or, when wrap > 0, a run of nc
// pixels in row-major order from (row, col) of a plane wrap pixels wide (rt = 1).
struct PixTile {
  std::int64_t row, col;
  int rows, cols;
  std::int64_t wrap = 0;
};

// The last grid row a tile covers (a run that wraps ends rows below its first).
inline std::int64_t last_row(const PixTile& t) {
  return t.wrap ? t.row + (t.col + t.cols - 1) / t.wrap : t.row + t.rows - 1;
}

// Covers an (h, w) grid with tiles of at most kMaxPix pixels: two rows at a time when a row
// is short (DCGAN's 7-wide planes), otherwise near-equal pieces of one row; or near-equal runs
// that wrap at the row ends when those need a tenth fewer tiles. With AVX2's 6-pixel tiles a
// 7-wide plane took pieces of 4 and 3 pixels, 6-8 accumulators, too few to hide the FMA
// latency; runs cost a register per pixel offset (shape 5's 28-wide rows, 131 runs against
// 140 pieces, ran 10 % slower as runs).
inline void pixel_tiles(std::vector<PixTile>& out, std::int64_t h, std::int64_t w) {
  if (h * w == 0) return;
  const bool pairs = 2 * w <= kMaxPix;
  const std::int64_t pieces = (w + kMaxPix - 1) / kMaxPix;
  const std::int64_t rect = pairs ? (h + 1) / 2 : h * pieces, runs = (h * w + kMaxPix - 1) / kMaxPix;
  if (10 * runs < 9 * rect) {
    const std::int64_t base = h * w / runs, extra = h * w % runs;
    for (std::int64_t r = 0, q = 0; r < runs; ++r) {
      const int n = static_cast<int>(base + (r < extra ? 1 : 0));
      out.push_back({q / w, q % w, 1, n, w});
      q += n;
    }
    return;
  }
  if (pairs) {
    for (std::int64_t r = 0; r < h; r += 2) out.push_back({r, 0, r + 1 < h ? 2 : 1, static_cast<int>(w)});
    return;
  }
  const std::int64_t base = w / pieces, extra = w % pieces;
  for (std::int64_t r = 0; r < h; ++r)
    for (std::int64_t p = 0, col = 0; p < pieces; ++p) {
      const int cols = static_cast<int>(base + (p < extra ? 1 : 0));
      out.push_back({r, col, 1, cols});
      col += cols;
    }
}

// off[p] = the offset of the tile's pixel p from its first, in a plane with the given row and
// column strides. Stepped from pixel to pixel: it runs once per tile, where two 64-bit
// divisions per pixel cost more than the rest of the call.
inline void tile_offsets(const PixTile& t, std::int64_t row, std::int64_t col, std::int64_t* off) {
  const std::int64_t width = t.wrap ? t.wrap : t.col + t.cols;
  std::int64_t j = t.col, row_start = -t.col * col;
  for (int p = 0; p < t.rows * t.cols; ++p) {
    off[p] = row_start + j * col;
    if (++j == width) j = t.wrap ? 0 : t.col, row_start += row;
  }
}

// The tile's reduction (conv_tile / conv_tile_at); src points at its first pixel's source,
// row_stride and s step the source by one output row and column.
inline void run_conv_tile(float* tile, const float* src, const PixTile& t, std::int64_t chan_stride,
                          std::int64_t row_stride, std::int64_t s, int R, const std::int64_t* tap, int T,
                          const float* w) {
  if (!t.wrap) return conv_tile_fn(t.rows, t.cols, static_cast<int>(s))(tile, src, chan_stride, row_stride, R, tap, T, w);
  std::int64_t off[kMaxPix];
  tile_offsets(t, row_stride, s, off);
  conv_tile_at_fn(t.cols)(tile, src, chan_stride, off, R, tap, T, w);
}

// Writes a finished tile (pixels x kBlock lanes) to dst(c, i, j) = dst[c*chan + i*row + j*col]
// for the first `channels` lanes: = tile + bias, or += when accumulating.
inline void store_tile(float* dst, std::int64_t chan, std::int64_t row, std::int64_t col, const float* tile,
                       const PixTile& pt, std::int64_t channels, const float* bias, bool accumulate) {
#if GAN_CONV_AVX512
  // A run that wraps at the row ends of a destination as wide as its plane (a stride-1
  // forward or phase) is contiguous there: the one row of pt.cols pixels it is described as.
  const bool contiguous_run = col == 1 && row == pt.wrap;
  if (kLanes == 16 && (col == 1 || col == 2) && (!pt.wrap || contiguous_run))
    return store_tile_avx512(dst, chan, row, col, tile, pt.rows, pt.cols, channels, bias, accumulate);
#endif
  std::int64_t off[kMaxPix];
  tile_offsets(pt, row, col, off);
  const int pixels = pt.rows * pt.cols;
  for (std::int64_t c = 0; c < channels; ++c) {
    const float bv = bias ? bias[c] : 0.f;
    float* dc = dst + c * chan;
    const float* t = tile + c;
    if (accumulate)
      for (int p = 0; p < pixels; ++p) dc[off[p]] += t[p * kBlock] + bv;
    else
      for (int p = 0; p < pixels; ++p) dc[off[p]] = t[p * kBlock] + bv;
  }
}

#if GAN_CONV_AVX512
// store_tile for the even (tile0) and odd (tile1) column phases of a stride-2 data gradient at
// the same phase pixels pt: dst is the even phase's first pixel, rows `row` floats apart.
inline void store_tile_pair(float* dst, std::int64_t chan, std::int64_t row, const float* tile0, const float* tile1,
                            const PixTile& pt, std::int64_t channels, const float* bias, bool accumulate) {
  int first[kMaxPix], count[kMaxPix], segments = 0;
  std::int64_t offset[kMaxPix];
  if (!pt.wrap) {
    for (int i = 0; i < pt.rows; ++i, ++segments) first[i] = i * pt.cols, count[i] = pt.cols, offset[i] = i * row;
  } else {  // a run cut at the row ends of its plane
    for (int p = 0; p < pt.cols; p += count[segments++]) {
      const std::int64_t q = pt.col + p, i = q / pt.wrap, j = q % pt.wrap;
      first[segments] = p, count[segments] = static_cast<int>(std::min<std::int64_t>(pt.cols - p, pt.wrap - j));
      offset[segments] = i * row + 2 * (j - pt.col);
    }
  }
  store_tile_pair_avx512(dst, chan, tile0, tile1, segments, first, count, offset, channels, bias, accumulate);
}
#endif

// Asks for the cache lines store_tile will read and write, before the tile's reduction runs:
// on large planes (a 128x128 data gradient) the destination is in L3 or beyond, and the
// accumulating epilogue otherwise waits on one miss per channel row.
inline constexpr std::int64_t kPrefetchPlane = 64 * 64;  // floats per channel plane

inline void prefetch_tile(float* dst, std::int64_t chan, std::int64_t row, std::int64_t col, const PixTile& pt,
                          std::int64_t channels) {
  if (pt.wrap) {  // a run over one or more rows: each pixel's line (repeats hit the same line)
    std::int64_t off[kMaxPix];
    tile_offsets(pt, row, col, off);
    for (std::int64_t c = 0; c < channels; ++c)
      for (int p = 0; p < pt.cols; ++p) __builtin_prefetch(dst + c * chan + off[p], 1, 3);
    return;
  }
  const std::int64_t span = (pt.cols - 1) * col + 1;
  for (std::int64_t c = 0; c < channels; ++c)
    for (int i = 0; i < pt.rows; ++i) {
      const float* d = dst + c * chan + i * row;
      for (std::int64_t k = 0; k < span; k += 16) __builtin_prefetch(d + k, 1, 3);
      __builtin_prefetch(d + span - 1, 1, 3);
    }
}

// Channels of the reduction per pass over a conv's tiles. A tile reduces over every input
// channel and tap; with many channels (shape 7: 1024, 256 KB of packed weights per phase and
// channel block of 16 on AVX2) neither the weights nor the source rows stay in L2 from one
// tile to the next. In chunks, each pass's packed weights per block fit in a budget, and the
// passes after the first add to the output (Zen 3, 4 interleaved pairs: shape 7's transposed forward +28 % /
// +19 % on 1 / 2 threads, shape 8 +0 / +10 %). The budget was measured per ISA, on the one
// machine of each we had: AVX2 on Zen 3 (512 KB L2): 64 KB, 32 and 128 KB slower. AVX-512 on
// Zen 5 (1 MB L2, blocks of 32 channels): 256 KB; 64 KB chunked shapes 2, 5 and 6 too and cost
// them 5-15 %, 128 KB was no better, and no chunks at all cost shape 7 6-8 % (4 interleaved
// pairs each, 2026-12-02).
inline std::int64_t reduction_chunk(std::int64_t channels, std::int64_t taps) {
  constexpr std::int64_t kBudget = (kLanes >= 16 ? 256 : 64) * 1024;  // bytes of packed weights per block
  if (channels <= 0) return 1;
  const std::int64_t fit = std::max<std::int64_t>(kBlock, kBudget / (taps * kBlock * 4));
  const std::int64_t n = (channels + fit - 1) / fit;
  return (channels + n - 1) / n;  // near-equal chunks
}

// pass(c0, nc, add, first) for the reduction chunks [c0, c0 + nc) of `channels`: `add` says
// whether the pass adds to the output (accumulate, or any chunk after the first), `first`
// whether it is the first chunk, the one that adds a bias if the caller's rule allows one.
template <class Pass>
void for_reduction_chunks(std::int64_t channels, std::int64_t chunk, bool accumulate, Pass&& pass) {
  for (std::int64_t c0 = 0; c0 < channels; c0 += chunk)
    pass(c0, std::min(chunk, channels - c0), accumulate || c0 > 0, c0 == 0);
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
