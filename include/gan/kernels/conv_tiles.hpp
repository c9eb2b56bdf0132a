#pragma once
// Pixel tiles of the channel-blocked direct conv (kernels/conv_direct.hpp): how an output
// plane is covered by tiles of at most kMaxPix pixels, the tile's reduction, its epilogue
// (pixel-major tile to NCHW, + bias, = or +=), and the split of a long reduction into chunks
// whose packed weights stay in L2.

#include <algorithm>
#include <cstdint>
#include <utility>
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

// Where the taps of a conv's tiles land in a zero-padded source: tap t of output pixel (i, j)
// reads source row i * stride_h + row[t] and column j * stride_w + col[t], and the image
// fills rows [row_lo, row_hi) and columns [col_lo, col_hi) of it.
struct TapReach {
  std::vector<std::int64_t> row, col;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t row_lo = 0, row_hi = 0, col_lo = 0, col_hi = 0;
};

// A set of an edge tile's taps that skip the same pixels: rows 0 (both of the tile's rows), 1
// (only its first) or 2 (only its second), cols (TapSkip column bits), the taps sel[first, +n).
struct TilePart {
  std::uint8_t rows, cols;
  std::uint16_t n;
  std::uint32_t first;
};

// Per tile, the parts its taps split into where some of its pixels read only padding under
// some taps (a k4 s2 p1 layer on a 7x7 output does 14 % of its multiply-adds on zeros); none
// for a tile that reads no padding, one that wraps, or more than 255 taps.
class TileSkips {
 public:
  // Tiles [begin, end) of `tiles` read their source as r says. Tiles not marked have no parts.
  void mark(const std::vector<PixTile>& tiles, std::size_t begin, std::size_t end, const TapReach& r) {
    if (range_.size() < end) range_.resize(end, {0, 0});
    const std::size_t taps = r.row.size();
    if (taps > 255) return;
    auto outside = [](std::int64_t v, std::int64_t lo, std::int64_t hi) { return v < lo || v >= hi; };
    std::vector<int> key(taps);  // per tap: rows * 4 + cols, or -1 when it skips every pixel
    for (std::size_t i = begin; i < end; ++i) {
      const PixTile& pt = tiles[i];
      if (pt.wrap) continue;
      const int pixels = pt.rows * pt.cols;
      int skipped = 0;  // multiply-adds (per channel pair) the parts leave out
      for (std::size_t t = 0; t < taps; ++t) {
        const std::int64_t row = pt.row * r.stride_h + r.row[t], col = pt.col * r.stride_w + r.col[t];
        const bool skip0 = outside(row, r.row_lo, r.row_hi);
        const bool skip1 = pt.rows == 2 && outside(row + r.stride_h, r.row_lo, r.row_hi);
        const int cols = (outside(col, r.col_lo, r.col_hi) ? kSkipFirstCol : 0) |
                         (outside(col + (pt.cols - 1) * r.stride_w, r.col_lo, r.col_hi) ? kSkipLastCol : 0);
        const int rows = skip0 ? (pt.rows == 2 && !skip1 ? 2 : -1) : (skip1 ? 1 : 0);
        key[t] = rows < 0 || (pt.cols == 1 && cols) ? -1 : rows * 4 + cols;
        const int kept_rows = rows == 0 ? pt.rows : 1, kept_cols = pt.cols - (cols & 1) - (cols >> 1);
        skipped += key[t] < 0 ? pixels : pixels - kept_rows * kept_cols;
      }
      // Each part is another pass over the tile's channels: worth it when the parts leave out
      // more than 1/16 of the work (Zen 4: shape 8's transposed forward, 8-wide phase rows
      // whose end pixels skip 1 of 2 taps, 6 %, ran 2 % slower in parts).
      if (16 * skipped <= static_cast<int>(taps) * pixels) continue;
      const std::uint32_t part0 = static_cast<std::uint32_t>(parts_.size());
      for (int k = 0; k < 12; ++k) {
        const std::uint32_t first = static_cast<std::uint32_t>(sel_.size());
        for (std::size_t t = 0; t < taps; ++t)
          if (key[t] == k) sel_.push_back(static_cast<std::uint8_t>(t));
        const std::uint32_t n = static_cast<std::uint32_t>(sel_.size()) - first;
        if (n > 0)
          parts_.push_back({static_cast<std::uint8_t>(k / 4), static_cast<std::uint8_t>(k % 4),
                            static_cast<std::uint16_t>(n), first});
      }
      range_[i] = {part0, static_cast<std::uint32_t>(parts_.size())};
    }
  }
  bool edge(std::size_t tile) const { return tile < range_.size() && range_[tile].second > range_[tile].first; }
  const TilePart* begin(std::size_t tile) const { return parts_.data() + range_[tile].first; }
  const TilePart* end(std::size_t tile) const { return parts_.data() + range_[tile].second; }
  const std::uint8_t* sel() const { return sel_.data(); }

 private:
  std::vector<std::pair<std::uint32_t, std::uint32_t>> range_;
  std::vector<TilePart> parts_;
  std::vector<std::uint8_t> sel_;
};

// The tile's reduction (conv_tile / conv_tile_at); src points at its first pixel's source,
// row_stride and s step the source by one output row and column. With skips (tile i of them)
// an edge tile runs in parts that leave out the multiply-adds on padding.
inline void run_conv_tile(float* tile, const float* src, const PixTile& t, std::int64_t chan_stride,
                          std::int64_t row_stride, std::int64_t s, int R, const std::int64_t* tap, int T,
                          const float* w, const TileSkips* skips = nullptr, std::size_t i = 0) {
  if (skips && skips->edge(i)) {
    // Each part goes over all R channels (a few channels at a time, so that their weights stay
    // in L1 from part to part, ran slower: the parts of a data-gradient phase have 1-2 taps).
    std::fill(tile, tile + t.rows * t.cols * kBlock, 0.f);
    for (const TilePart* part = skips->begin(i); part != skips->end(i); ++part) {
      const bool one_row = part->rows != 0 && t.rows == 2, second = part->rows == 2;
      conv_tile_part_fn(one_row ? 1 : t.rows, t.cols, static_cast<int>(s), part->cols)(
          tile + (second ? t.cols * kBlock : 0), src + (second ? row_stride : 0), chan_stride, row_stride, R, tap,
          skips->sel() + part->first, part->n, T, w);
    }
    return;
  }
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
