#pragma once
// The float fast path of the conv kernels: direct convolution on zero-padded NCHW planes with
// the weights reordered into channel blocks of kBlock (32 on AVX-512), micro-kernels in
// kernels/conv_microkernels.hpp. Nothing is im2col'd: each broadcast operand is read from the
// padded plane where it lies, the vector operand from the reordered weights (or dy^T).
//
//   forward:        y[n, oc, :, :]  vector over oc, reduction over (ic, kh, kw)
//   backward data:  split into stride^2 phases (the output pixels ih = rh + s*a); each phase is
//                   a stride-1 correlation of dy with the taps kh = kh0 + s*t that reach it,
//                   vector over ic, reduction over (oc, taps): no multiplications by zero.
//                   With fewer than 4 input channels: tap planes w^T dy, then col2im.
//   backward weight: dw[oc, ic, kh, kw] vector over oc, reduction over images and pixels of
//                   dy^T (pixel-major dy) times the padded input; accumulated in a packed
//                   (oc-block, ic, kh, kw, lane) buffer, added to dw once at the end.
//
// Every reorder (weights, padding, dy^T) happens inside these calls and is part of their cost.
// Scratch comes from the caching allocator (Tensor<float>::empty), so steady state maps no
// new pages. OpenMP over images, or over (channel block, pixel tile) when the batch is
// smaller than the team. Shapes are as in kernels/conv2d.hpp; (oh, ow) is the conv's output
// extent passed explicitly (see ConvShape::as_conv()).

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gan/config.hpp"
#include "gan/core/parallel.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_microkernels.hpp"

namespace gan {
namespace kernels {
namespace direct {

// Threads for one call: the team, or one when already inside a parallel region.
inline int team_size() {
#if GAN_HAS_OPENMP
  if (omp_in_parallel()) return 1;
#endif
  return max_threads();
}

// This thread's slot in per-thread scratch of a call that uses `threads` (from team_size()):
// its number in our team, or 0 when the call runs alone (perhaps inside someone else's
// parallel region, where omp_get_thread_num() would be the outer team's number).
inline int team_slot(int threads) {
#if GAN_HAS_OPENMP
  return threads > 1 ? omp_get_thread_num() : 0;
#else
  (void)threads;
  return 0;
#endif
}

// body(i) for i in [0, n), statically split over `threads`.
template <class Body>
void parallel_items(int threads, std::int64_t n, Body&& body) {
#if GAN_HAS_OPENMP
  if (threads > 1 && n > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#endif
  (void)threads;
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

// Inside a parallel region: body(i) for i in [0, n), shared out over the team (a worksharing
// loop, ending in a barrier) when `shared`, else all of it on the calling thread. `shared`
// must be the same on every thread of the team.
template <class Body>
void team_for(bool shared, std::int64_t n, Body&& body) {
#if GAN_HAS_OPENMP
  if (shared) {
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#endif
  (void)shared;
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

// An rt x nc block of output pixels starting at (row, col); or, when wrap > 0, a run of nc
// pixels in row-major order from (row, col) of a plane wrap pixels wide (rt = 1).
struct PixTile {
  std::int64_t row, col;
  int rows, cols;
  std::int64_t wrap = 0;
};

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

inline constexpr int kPadChunks = 16;  // rows up to 256 floats take pad_plane's masked-vector copy

// dst (hp, wp) = src (h, w) placed with its origin at (top, left), zeros around it. Plain
// loops: rows are short (7 to 130 floats), where library calls cost more than the copy.
inline void pad_plane(float* dst, const float* src, std::int64_t h, std::int64_t w, std::int64_t hp, std::int64_t wp,
                      std::int64_t top, std::int64_t left) {
  const std::int64_t c0 = std::clamp<std::int64_t>(left, 0, wp), c1 = std::clamp<std::int64_t>(left + w, c0, wp);
#if GAN_CONV_AVX512
  // Every source row has the same column masks: work them out once (rows are often a single
  // vector, where computing them took as long as the copy).
  __mmask16 get[kPadChunks], put[kPadChunks];
  const int chunks = static_cast<int>(std::min<std::int64_t>((wp + 15) / 16, kPadChunks));
  for (int k = 0; k < chunks; ++k) get[k] = lane_range(c0 - 16 * k, c1 - 16 * k), put[k] = lane_range(0, wp - 16 * k);
#endif
  for (std::int64_t r = 0; r < hp; ++r) {
    float* d = dst + r * wp;
    const std::int64_t ih = r - top;
    if (ih < 0 || ih >= h || c1 == c0) {
      for (std::int64_t c = 0; c < wp; ++c) d[c] = 0.f;
      continue;
    }
#if GAN_CONV_AVX512
    if (kLanes == 16 && wp <= 16 * kPadChunks) {  // masked loads read only [c0, c1) and zero the rest of each 16
      const float* srow = src + ih * w - left;
      for (int k = 0; k < chunks; ++k) _mm512_mask_storeu_ps(d + 16 * k, put[k], _mm512_maskz_loadu_ps(get[k], srow + 16 * k));
      continue;
    }
#endif
    const float* srow = src + ih * w + (c0 - left);  // column c0 of the padded row
    for (std::int64_t c = 0; c < c0; ++c) d[c] = 0.f;
    for (std::int64_t c = c0; c < c1; ++c) d[c] = srow[c - c0];
    for (std::int64_t c = c1; c < wp; ++c) d[c] = 0.f;
  }
}

// Phase planes of a zero-padded plane: dst[py][px][i][j] = src[i*sh + py - top][j*sw + px - left]
// (0 outside src) for i < hq, j < wq, py < sh, px < sw; each plane hq*wq floats.
inline void split_phases(float* dst, const float* src, std::int64_t h, std::int64_t w, std::int64_t hq,
                         std::int64_t wq, std::int64_t sh, std::int64_t sw, std::int64_t top, std::int64_t left) {
  for (std::int64_t py = 0; py < sh; ++py)
    for (std::int64_t px = 0; px < sw; ++px) {
      // Columns j with 0 <= j*sw + px - left < w.
      const std::int64_t first = left - px, last = w - 1 + left - px;
      const std::int64_t j0 = std::clamp<std::int64_t>(first <= 0 ? 0 : (first + sw - 1) / sw, 0, wq);
      const std::int64_t j1 = std::clamp<std::int64_t>(last < 0 ? 0 : last / sw + 1, j0, wq);
      float* d = dst + (py * sw + px) * hq * wq;
      for (std::int64_t i = 0; i < hq; ++i, d += wq) {
        const std::int64_t ih = i * sh + py - top;
        if (ih < 0 || ih >= h) {
          for (std::int64_t j = 0; j < wq; ++j) d[j] = 0.f;
          continue;
        }
        const float* srow = src + ih * w + (j0 * sw + px - left);  // column j0 of this phase
        for (std::int64_t j = 0; j < j0; ++j) d[j] = 0.f;
        for (std::int64_t j = j0; j < j1; ++j) d[j] = srow[(j - j0) * sw];
        for (std::int64_t j = j1; j < wq; ++j) d[j] = 0.f;
      }
    }
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

inline std::int64_t blocks(std::int64_t channels) { return (channels + kBlock - 1) / kBlock; }

// Asks for part `part` of `parts` of the cache lines of p[0, floats), into L2: the next
// image's (or chunk's) input, a slice per tile of the current one.
inline void prefetch_part(const float* p, std::int64_t floats, std::int64_t part, std::int64_t parts) {
  const std::int64_t lines = (floats * static_cast<std::int64_t>(sizeof(float)) + 63) / 64;
  const std::int64_t per = (lines + parts - 1) / parts;
  const char* bytes = reinterpret_cast<const char*>(p);
  for (std::int64_t l = part * per, end = std::min(lines, l + per); l < end; ++l) __builtin_prefetch(bytes + 64 * l, 0, 2);
}

// Runs body(n, padded_image, item) for every image n and item in [0, items): per image on
// one thread with its own padded copy when the batch splits evenly over the team, otherwise
// all images padded first and the (image, item) pairs shared out. Image n's source (what pad
// reads) is the src_floats floats at src + n * src_image: all of the image, or the channels of
// one reduction chunk.
//
// Per image, the items also ask for the next image's source a slice at a time (into L2):
// padding otherwise waits on the input's cache misses, one plane row after another (shape 5's
// forward spent 9 % of its time in those loads), while the tiles leave the memory bus idle.
template <class Pad, class Body>
void for_padded_images(int threads, std::int64_t n, std::int64_t channels, std::int64_t plane, std::int64_t items,
                       const float* src, std::int64_t src_image, std::int64_t src_floats, Pad&& pad, Body&& body) {
  const bool per_image = threads == 1 || n % threads == 0 || n >= 4 * threads;
  if (per_image) {
    Tensor<float> buf = Tensor<float>::empty(Shape{std::min<std::int64_t>(threads, n), channels * plane});
    parallel_items(std::min<std::int64_t>(threads, n), n, [&](std::int64_t i) {
      float* xp = buf.data() + team_slot(threads) * channels * plane;
      for (std::int64_t c = 0; c < channels; ++c) pad(xp + c * plane, i, c);
      for (std::int64_t it = 0; it < items; ++it) {
        if (i + 1 < n) prefetch_part(src + (i + 1) * src_image, src_floats, it, items);
        body(i, xp, it);
      }
    });
    return;
  }
  Tensor<float> buf = Tensor<float>::empty(Shape{n, channels * plane});
  parallel_items(threads, n * channels, [&](std::int64_t i) { pad(buf.data() + i * plane, i / channels, i % channels); });
  parallel_items(threads, n * items, [&](std::int64_t i) {
    body(i / items, buf.data() + (i / items) * channels * plane, i % items);
  });
}

// dst[k * dst_stride + l] = src[l * src_stride + k] for the kBlock lanes l and k < cols,
// zero in lanes l >= rows: a panel of up to kBlock rows (channels) turned into `cols`
// channel vectors. Packs weights into channel blocks and dy into pixel-major dy^T. With
// `sums`, also sums[l] += the sum of row l (l < rows): the bias gradient, from the same loads.
inline void transpose_panel(float* dst, std::int64_t dst_stride, const float* src, std::int64_t src_stride,
                            std::int64_t rows, std::int64_t cols, float* sums = nullptr) {
#if GAN_CONV_AVX512 || GAN_CONV_AVX2
  using T = RegisterTranspose;
  constexpr int W = T::kWidth;
  if (kLanes == W) {  // W x W blocks through registers: contiguous reads, one row per cache line
    T::Reg total[kBlock / W];  // after the transpose, lane j of each vector is row half + j
    for (T::Reg& t : total) t = T::zero();
    for (std::int64_t k0 = 0; k0 < cols; k0 += W) {
      const T::Mask mk = T::first(cols - k0);
      for (int half = 0; half < kBlock; half += W) {
        T::Reg r[W];
        for (int j = 0; j < W; ++j)
          r[j] = half + j < rows ? T::load(src + (half + j) * src_stride + k0, mk) : T::zero();
        T::transpose(r);
        for (std::int64_t j = 0; j < std::min<std::int64_t>(W, cols - k0); ++j)
          T::store(dst + (k0 + j) * dst_stride + half, r[j]);
        if (sums)  // zero-masked lanes past cols add nothing
          for (int j = 0; j < W; ++j) total[half / W] = T::add(total[half / W], r[j]);
      }
    }
    if (sums)
      for (int half = 0; half < kBlock && half < rows; half += W) T::add_first(sums + half, rows - half, total[half / W]);
    return;
  }
#endif
  for (std::int64_t k0 = 0; k0 < cols; k0 += 16)
    for (std::int64_t l = 0; l < kBlock; ++l) {
      const std::int64_t k1 = std::min(cols, k0 + 16);
      for (std::int64_t k = k0; k < k1; ++k) dst[k * dst_stride + l] = l < rows ? src[l * src_stride + k] : 0.f;
    }
  if (sums)
    for (std::int64_t l = 0; l < rows; ++l)
      for (std::int64_t k = 0; k < cols; ++k) sums[l] += src[l * src_stride + k];
}

// The output plane of the pixel-vector forward pass is computed "wide": rows of the phase
// plane's width wq >= ow, flattened, so that 16 consecutive wide pixels read 16 consecutive
// floats of the phase-split input under every tap (no vector is cut at a row end; the
// wq - ow extra columns per row are computed and dropped). WideToDense copies such a plane
// to the dense (oh, ow) output with full-width stores: each output vector is one two-source
// permute of the two wide vectors it comes from (AVX-512), when their span allows.
struct WideToDense {
  std::int64_t oh = 0, ow = 0, wq = 0;
  bool permute = false;
  std::vector<std::int64_t> first;   // per output vector: the wide index of its lane 0
  std::vector<std::int32_t> index;   // per output vector: 16 lane offsets from `first` (< 32)

  WideToDense(std::int64_t h, std::int64_t w, std::int64_t wide_w) : oh(h), ow(w), wq(wide_w) {
#if GAN_CONV_AVX512
    const std::int64_t total = oh * ow, nv = (total + 15) / 16;
    permute = kLanes == 16;
    for (std::int64_t k = 0; k < nv && permute; ++k) {
      const std::int64_t o0 = 16 * k, f0 = o0 + (o0 / ow) * (wq - ow);
      first.push_back(f0);
      for (std::int64_t l = 0; l < 16; ++l) {
        const std::int64_t o = std::min(o0 + l, total - 1), off = o + (o / ow) * (wq - ow) - f0;
        permute = permute && off < 32;
        index.push_back(static_cast<std::int32_t>(off));
      }
    }
#endif
  }

  // dst (oh*ow floats) = (or +=) wide + bias; wide holds oh*wq floats plus 32 readable ones.
  void operator()(float* dst, const float* wide, float bias, bool accumulate) const {
#if GAN_CONV_AVX512
    if (permute) {
      const std::int64_t total = oh * ow, nv = static_cast<std::int64_t>(first.size());
      const __m512 bv = _mm512_set1_ps(bias);
      for (std::int64_t k = 0; k < nv; ++k) {
        const float* f = wide + first[static_cast<std::size_t>(k)];
        const __m512i idx = _mm512_loadu_si512(index.data() + 16 * k);
        __m512 v = _mm512_add_ps(_mm512_permutex2var_ps(_mm512_loadu_ps(f), idx, _mm512_loadu_ps(f + 16)), bv);
        float* d = dst + 16 * k;
        if (16 * k + 16 <= total) {
          if (accumulate) v = _mm512_add_ps(v, _mm512_loadu_ps(d));
          _mm512_storeu_ps(d, v);
        } else {
          masked_put(d, lane_range(0, total - 16 * k), v, accumulate);
        }
      }
      return;
    }
#endif
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        const float v = wide[i * wq + j] + bias;
        dst[i * ow + j] = accumulate ? dst[i * ow + j] + v : v;
      }
  }
};

// Forward pass for layers with few channels on both sides (fewer than 4 in, fewer than 16
// out, e.g. RGB -> 3): vectors along the wide output plane (above), where channel blocks of
// 32 would be mostly empty lanes. The padded input is split into stride_h x stride_w phase
// planes, so every tap reads a contiguous run of one phase plane; kPixCo output channels share
// each load. With more output channels, kernels/conv_forward_panel.hpp takes the pass before
// it gets here (issue 5's shapes 1 and 9); this path and the channel-blocked one both lost to
// it, on AVX-512 and on AVX2.
inline bool forward_pix_preferred(const ConvShape& s) {
  return s.in_c < 4 && (s.out_c < 16 || kLanes < 16) && s.dilation_h == 1 && s.dilation_w == 1;
}

inline void conv_forward_pix(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                             std::int64_t oh, std::int64_t ow, bool accumulate) {
  constexpr int co = kPixCo;
  const std::int64_t ic_n = s.in_c, oc_n = s.out_c, sh = s.stride_h, sw = s.stride_w, h = s.in_h, wd = s.in_w;
  const std::int64_t taps = s.kernel_h * s.kernel_w, ncb = (oc_n + co - 1) / co;
  const std::int64_t hq = oh + (s.kernel_h - 1) / sh, wq = ow + (s.kernel_w - 1) / sw, phase = hq * wq;
  // The last wide vector reads up to kLanes - 1 floats past the last phase plane's last row
  // (plus the column taps): zeros there.
  const std::int64_t slack = kLanes + (s.kernel_w - 1) / sw + 1, chan = sh * sw * phase + slack;
  const std::int64_t nvec = (oh * wq + kLanes - 1) / kLanes, wide_stride = nvec * kLanes + 2 * kLanes;
  const int threads = team_size();
  Tensor<float> wbuf = Tensor<float>::empty(Shape{ncb * ic_n * taps * co});  // (OC / co, IC, taps, co)
  float* wpk = wbuf.data();
  for (std::int64_t cb = 0; cb < ncb; ++cb)
    for (std::int64_t ic = 0; ic < ic_n; ++ic)
      for (std::int64_t t = 0; t < taps; ++t)
        for (std::int64_t c = 0; c < co; ++c) {
          const std::int64_t oc = cb * co + c;
          wpk[((cb * ic_n + ic) * taps + t) * co + c] = oc < oc_n ? w[(oc * ic_n + ic) * taps + t] : 0.f;
        }
  std::vector<std::int64_t> tap(static_cast<std::size_t>(taps));
  for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
    for (std::int64_t kw = 0; kw < s.kernel_w; ++kw)
      tap[static_cast<std::size_t>(kh * s.kernel_w + kw)] =
          ((kh % sh) * sw + kw % sw) * phase + (kh / sh) * wq + kw / sw;
  // Runs of at most pix_rows(co, 1) wide vectors, near-equal.
  const int most = pix_rows(co, 1);
  const std::int64_t pieces = (nvec + most - 1) / most;
  const WideToDense to_dense(oh, ow, wq);
  Tensor<float> wide = Tensor<float>::empty(Shape{threads, co * wide_stride});
  for_padded_images(
      threads, s.n, ic_n, chan, ncb, x, ic_n * h * wd, ic_n * h * wd,
      [&](float* dst, std::int64_t n, std::int64_t c) {
        split_phases(dst, x + (n * ic_n + c) * h * wd, h, wd, hq, wq, sh, sw, s.pad_h, s.pad_w);
        std::fill(dst + chan - slack, dst + chan, 0.f);
      },
      [&](std::int64_t n, const float* xq, std::int64_t cb) {
        float* out = wide.data() + team_slot(threads) * co * wide_stride;
        for (std::int64_t p = 0, v0 = 0; p < pieces; ++p) {
          const int run = static_cast<int>(nvec / pieces + (p < nvec % pieces ? 1 : 0));
          pix_tile_fn(run)(out + v0 * kLanes, wide_stride, xq + v0 * kLanes, chan, kLanes,
                                  static_cast<int>(ic_n), tap.data(), static_cast<int>(taps),
                                  wpk + cb * ic_n * taps * co);
          v0 += run;
        }
        for (int c = 0; c < co && cb * co + c < oc_n; ++c) {
          const std::int64_t oc = cb * co + c;
          to_dense(y + (n * oc_n + oc) * oh * ow, out + c * wide_stride, b ? b[oc] : 0.f, accumulate);
        }
      });
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

inline bool forward_supported(const ConvShape& s) { return s.stride_w == 1 || s.stride_w == 2; }

// y = conv(x, w) + b (b may be null), or y += conv(x, w) + b when accumulate (as the im2col
// path of conv2d_forward_impl; the data gradient below adds no bias when accumulating).
inline void conv_forward(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                         std::int64_t oh, std::int64_t ow, bool accumulate) {
  if (forward_pix_preferred(s)) return conv_forward_pix(y, x, w, b, s, oh, ow, accumulate);
  const std::int64_t ic_n = s.in_c, oc_n = s.out_c, taps = s.kernel_h * s.kernel_w, nb = blocks(oc_n);
  const std::int64_t hp = (oh - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1;
  const std::int64_t wp = (ow - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1, plane = hp * wp;
  const int threads = team_size();
  // w (OC, IC, KH, KW) -> (OC blocks, IC, KH*KW, kBlock), zero lanes past OC.
  const std::int64_t k_n = ic_n * taps;
  Tensor<float> wbuf = Tensor<float>::empty(Shape{nb * k_n * kBlock});
  float* wpk = wbuf.data();
  parallel_items(threads, nb, [&](std::int64_t ob) {
    transpose_panel(wpk + ob * k_n * kBlock, kBlock, w + ob * kBlock * k_n, k_n,
                    std::min<std::int64_t>(kBlock, oc_n - ob * kBlock), k_n);
  });
  std::vector<std::int64_t> tap(static_cast<std::size_t>(taps));
  for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
    for (std::int64_t kw = 0; kw < s.kernel_w; ++kw)
      tap[static_cast<std::size_t>(kh * s.kernel_w + kw)] = kh * s.dilation_h * wp + kw * s.dilation_w;
  std::vector<PixTile> tiles;
  pixel_tiles(tiles, oh, ow);
  const std::int64_t nt = static_cast<std::int64_t>(tiles.size()), y_plane = oh * ow, x_plane = s.in_h * s.in_w;
  const std::int64_t chunk = reduction_chunk(ic_n, taps);
  for_reduction_chunks(ic_n, chunk, accumulate, [&](std::int64_t c0, std::int64_t nc, bool add, bool first) {
    const float* bias = first ? b : nullptr;
    for_padded_images(
        threads, s.n, nc, plane, nb * nt, x + c0 * x_plane, ic_n * x_plane, nc * x_plane,
        [&](float* dst, std::int64_t n, std::int64_t c) {
          pad_plane(dst, x + (n * ic_n + c0 + c) * x_plane, s.in_h, s.in_w, hp, wp, s.pad_h, s.pad_w);
        },
        [&](std::int64_t n, const float* xp, std::int64_t item) {
          alignas(64) float tile[kTileRows * kBlock];
          const std::int64_t ob = item / nt;
          const PixTile& pt = tiles[static_cast<std::size_t>(item % nt)];
          run_conv_tile(tile, xp + pt.row * s.stride_h * wp + pt.col * s.stride_w, pt, plane, s.stride_h * wp,
                        s.stride_w, static_cast<int>(nc), tap.data(), static_cast<int>(taps),
                        wpk + (ob * ic_n + c0) * taps * kBlock);
          const std::int64_t oc0 = ob * kBlock;
          store_tile(y + (n * oc_n + oc0) * y_plane + pt.row * ow + pt.col, y_plane, ow, 1, tile, pt,
                     std::min<std::int64_t>(kBlock, oc_n - oc0), bias ? bias + oc0 : nullptr, add);
        });
  });
}

inline bool backward_data_supported(const ConvShape& s) { return s.dilation_h == 1 && s.dilation_w == 1; }

// The stride phases of a data gradient: input pixels ih = rh + sh*a (a < a_n) receive the taps
// kh = kh0 + sh*t (t < th) from dy rows a + dh - t; likewise for columns. dy is read padded by
// (top, left, bottom, right) so that every such row and column exists.
struct Phase {
  std::int64_t rh, rw, kh0, kw0, th, tw, dh, dw, a, b, tap_off;
};
struct PhasePlan {
  std::vector<Phase> phases;
  std::vector<std::int64_t> tap;  // per phase, from tap_off: offsets in the padded dy plane
  std::int64_t top = 0, left = 0, height = 0, width = 0;
};

inline PhasePlan plan_phases(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  PhasePlan plan;
  const std::int64_t h = s.in_h, wd = s.in_w, sh = s.stride_h, sw = s.stride_w;
  std::int64_t pb = 0, pr = 0, taps = 0;
  for (std::int64_t rh = 0; rh < sh; ++rh)
    for (std::int64_t rw = 0; rw < sw; ++rw) {
      Phase p{rh, rw, (rh + s.pad_h) % sh, (rw + s.pad_w) % sw, 0, 0, (rh + s.pad_h) / sh, (rw + s.pad_w) / sw,
              rh < h ? (h - rh + sh - 1) / sh : 0, rw < wd ? (wd - rw + sw - 1) / sw : 0, taps};
      p.th = p.kh0 < s.kernel_h ? (s.kernel_h - 1 - p.kh0) / sh + 1 : 0;
      p.tw = p.kw0 < s.kernel_w ? (s.kernel_w - 1 - p.kw0) / sw + 1 : 0;
      if (p.th * p.tw * p.a * p.b == 0) continue;  // no tap reaches these pixels: dx += 0
      plan.top = std::max(plan.top, p.th - 1 - p.dh), pb = std::max(pb, p.a - 1 + p.dh - (oh - 1));
      plan.left = std::max(plan.left, p.tw - 1 - p.dw), pr = std::max(pr, p.b - 1 + p.dw - (ow - 1));
      taps += p.th * p.tw;
      plan.phases.push_back(p);
    }
  plan.height = plan.top + oh + pb, plan.width = plan.left + ow + pr;
  for (const Phase& p : plan.phases)
    for (std::int64_t t = 0; t < p.th * p.tw; ++t) plan.tap.push_back((p.dh - t / p.tw) * plan.width + (p.dw - t % p.tw));
  return plan;
}

inline void conv_backward_data_taps(float* dx, const float* dy, const float* w, const ConvShape& s, std::int64_t oh,
                                    std::int64_t ow, const float* bias, bool accumulate);

// Whether the phases come in (even, odd) column pairs of a stride-2 data gradient with equal
// phase planes (an even input width), for store_tile_pair.
inline bool column_phases_pair(const PhasePlan& plan, const ConvShape& s) {
  if (!GAN_CONV_AVX512 || s.stride_w != 2 || s.in_w % 2 != 0 || plan.phases.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < plan.phases.size(); i += 2) {
    const Phase &even = plan.phases[i], &odd = plan.phases[i + 1];
    if (even.rw != 0 || odd.rw != 1 || even.rh != odd.rh) return false;
  }
  return true;
}

// dx += conv^T(dy, w): the data gradient, per stride phase. Without `accumulate`,
// dx = conv^T(dy, w) + bias (per input channel; bias may be null): the transposed conv's
// forward, or a gradient's first contribution. Tiles then write dx without reading it when
// the phases cover every pixel, else dx is filled with the bias (or zeros) first.
inline void conv_backward_data(float* dx, const float* dy, const float* w, const ConvShape& s, std::int64_t oh,
                               std::int64_t ow, const float* bias = nullptr, bool accumulate = true) {
  if (s.in_c < 4) return conv_backward_data_taps(dx, dy, w, s, oh, ow, bias, accumulate);
  const PhasePlan plan = plan_phases(s, oh, ow);
  const std::int64_t x_plane = s.in_h * s.in_w;
  if (!accumulate && static_cast<std::int64_t>(plan.phases.size()) != s.stride_h * s.stride_w) {
    parallel_items(team_size(), s.n * s.in_c, [&](std::int64_t i) {
      std::fill(dx + i * x_plane, dx + (i + 1) * x_plane, bias ? bias[i % s.in_c] : 0.f);
    });
    accumulate = true, bias = nullptr;
  }
  if (plan.phases.empty()) return;
  const std::int64_t ic_n = s.in_c, oc_n = s.out_c, wd = s.in_w, sh = s.stride_h, sw = s.stride_w;
  const std::int64_t nb = blocks(ic_n), wdp = plan.width, plane = plan.height * wdp;
  const int threads = team_size();
  // Per phase: w (OC, IC, KH, KW) -> (IC blocks, OC, taps of the phase, kBlock).
  std::vector<std::int64_t> w_off;
  std::int64_t w_size = 0;
  for (const Phase& p : plan.phases) w_off.push_back(w_size), w_size += nb * oc_n * p.th * p.tw * kBlock;
  Tensor<float> wbuf = Tensor<float>::empty(Shape{w_size});
  const std::int64_t kk = s.kernel_h * s.kernel_w;
  // Per (OC, IC block): w[oc, block, :, :] transposed to (tap, kBlock) once, then each tap's
  // vector copied to its phase. Reading w in place would take one cache line per lane.
  // Items go through w in memory order and ask for the next item's part before their own
  // transpose: shape 7's 16 MB of weights (a fifth of its transposed forward) otherwise came in
  // one demand miss at a time (Zen 5, 2 interleaved pairs: +21 % / +9 % on 1 / 2 threads).
  parallel_items(threads, nb * oc_n, [&](std::int64_t item) {
    const std::int64_t oc = item / nb, ib = item % nb, i = ib * oc_n + oc;
    const std::int64_t lanes = std::min<std::int64_t>(kBlock, ic_n - ib * kBlock);
    const float* const src_w = w + (oc * ic_n + ib * kBlock) * kk;
    if (item + 1 < nb * oc_n) prefetch_part(src_w + lanes * kk, kBlock * kk, 0, 1);
    std::vector<float> by_tap;  // only for kernels above 12x12 taps
    alignas(64) float small[144 * kBlock];
    float* tmp = small;
    if (kk > 144) by_tap.resize(static_cast<std::size_t>(kk * kBlock)), tmp = by_tap.data();
    transpose_panel(tmp, kBlock, src_w, kk, lanes, kk);
    for (std::size_t ph = 0; ph < plan.phases.size(); ++ph) {
      const Phase& p = plan.phases[ph];
      const std::int64_t taps = p.th * p.tw;
      for (std::int64_t th = 0, t = 0; th < p.th; ++th)
        for (std::int64_t tw = 0; tw < p.tw; ++tw, ++t) {
          const float* src = tmp + ((p.kh0 + s.stride_h * th) * s.kernel_w + p.kw0 + s.stride_w * tw) * kBlock;
          float* dst = wbuf.data() + w_off[ph] + (i * taps + t) * kBlock;
          for (int l = 0; l < kBlock; l += kLanes) Vec::load_unaligned(src + l).store_unaligned(dst + l);
        }
    }
  });
  struct Item {
    std::int32_t phase, block;
    std::int64_t tile;
  };
  // With AVX-512 and stride-2 columns, a tile computes both column phases of its pixels and
  // stores them interleaved (store_tile_pair): items name the even phase only.
  const bool paired = column_phases_pair(plan, s);
  // The lists keep their capacity from call to call (per calling thread): built afresh, shape
  // 6's (60 KB) took 6 new pages from the OS on every call once malloc had trimmed the heap.
  // Named through references, which the team's lambdas capture (a thread_local named in
  // a lambda is the running thread's own, empty on the others).
  thread_local std::vector<PixTile> kept_tiles;
  thread_local std::vector<Item> kept_items;
  std::vector<PixTile>& tiles = kept_tiles;
  std::vector<Item>& items = kept_items;
  tiles.clear(), items.clear();
  for (std::size_t ph = 0; ph < plan.phases.size(); ph += paired ? 2 : 1) {
    const std::size_t first = tiles.size();
    pixel_tiles(tiles, plan.phases[ph].a, plan.phases[ph].b);
    for (std::int64_t ib = 0; ib < nb; ++ib)
      for (std::size_t t = first; t < tiles.size(); ++t)
        items.push_back({static_cast<std::int32_t>(ph), static_cast<std::int32_t>(ib), static_cast<std::int64_t>(t)});
  }
  // With packed weights that fit in L2 next to a band of dy (<= 512 KB), go row band by row
  // band: the phases and channel blocks of one band read the same few rows of every dy plane,
  // which then come from L2; phase by phase, a large dy (shape 6: 128 planes of 66x66) streams
  // from L3 once per phase and block, over as many streams as planes (2 threads: 200 -> 280
  // GFLOP/s). Larger weights (shape 7: 16 MB) stay phase by phase, each phase's block reused.
  if (w_size <= (std::int64_t{1} << 17))
    std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
      return tiles[static_cast<std::size_t>(a.tile)].row < tiles[static_cast<std::size_t>(b.tile)].row;
    });
  std::int64_t most_taps = 1;
  for (const Phase& p : plan.phases) most_taps = std::max(most_taps, p.th * p.tw);
  const std::int64_t y_plane = oh * ow, chunk = reduction_chunk(oc_n, most_taps);
  for_reduction_chunks(oc_n, chunk, accumulate, [&](std::int64_t c0, std::int64_t nc, bool add, bool first) {
    const float* b = first && !accumulate ? bias : nullptr;  // as the taps path: no bias when adding
    for_padded_images(
        threads, s.n, nc, plane, static_cast<std::int64_t>(items.size()), dy + c0 * y_plane, oc_n * y_plane, nc * y_plane,
        [&](float* dst, std::int64_t n, std::int64_t c) {
          pad_plane(dst, dy + (n * oc_n + c0 + c) * y_plane, oh, ow, plan.height, wdp, plan.top, plan.left);
        },
        [&](std::int64_t n, const float* dyp, std::int64_t i) {
          alignas(64) float tile[kTileRows * kBlock];
          const Item& it = items[static_cast<std::size_t>(i)];
          const std::size_t ph = static_cast<std::size_t>(it.phase);
          const Phase& p = plan.phases[ph];
          const PixTile& t = tiles[static_cast<std::size_t>(it.tile)];
          const std::int64_t ic0 = it.block * kBlock;
          float* const dst = dx + (n * ic_n + ic0) * x_plane + (p.rh + sh * t.row) * wd + p.rw + sw * t.col;
          const std::int64_t lanes = std::min<std::int64_t>(kBlock, ic_n - ic0);
          if (x_plane >= kPrefetchPlane) prefetch_tile(dst, x_plane, sh * wd, sw, t, lanes);
          const float* src = dyp + (t.row + plan.top) * wdp + t.col + plan.left;
          auto reduce = [&](float* out, std::size_t phase) {
            const Phase& q = plan.phases[phase];
            const std::int64_t taps = q.th * q.tw;
            run_conv_tile(out, src, t, plane, wdp, 1, static_cast<int>(nc), plan.tap.data() + q.tap_off,
                          static_cast<int>(taps), wbuf.data() + w_off[phase] + (it.block * oc_n + c0) * taps * kBlock);
          };
          reduce(tile, ph);
#if GAN_CONV_AVX512
          if (paired) {
            alignas(64) float odd[kTileRows * kBlock];
            reduce(odd, ph + 1);
            return store_tile_pair(dst, x_plane, sh * wd, tile, odd, t, lanes, b ? b + ic0 : nullptr, add);
          }
#endif
          store_tile(dst, x_plane, sh * wd, sw, tile, t, lanes, b ? b + ic0 : nullptr, add);
        });
  });
}

// Data gradient for inputs with fewer than 4 channels (one-channel images), the way PyTorch's
// col2im takes it: per image and input channel, the tap planes cols[t] = sum over oc of
// w[oc, ic, t] * dy[oc] (vectors along dy's pixels, dy read in place, co taps per tile), then
// each row of dx gathers the tap rows that land on it. The phase-by-phase pixel tiles this
// replaced padded every dy plane first and held one channel's accumulators per tile: shape 1's
// data gradient and shape 4's forward ran at 10-11 GFLOP/s, now 24-40 (Zen 3, 1 thread,
// interleaved pairs, 2026-12-02); the gather is a quarter of that time.
inline void conv_backward_data_taps(float* dx, const float* dy, const float* w, const ConvShape& s, std::int64_t oh,
                                    std::int64_t ow, const float* bias, bool accumulate) {
  constexpr int co = kPixCo;  // taps per tile
  const std::int64_t ic_n = s.in_c, oc_n = s.out_c, kw_n = s.kernel_w, taps = s.kernel_h * kw_n;
  const std::int64_t groups = (taps + co - 1) / co, plane = oh * ow, wd = s.in_w, x_plane = s.in_h * wd;
  // A plane shorter than a vector is copied to kLanes-float slots; otherwise a partial last
  // vector is read as the plane's last kLanes pixels and its new lanes moved into place.
  const bool copy = plane < kLanes;
  const std::int64_t chan = copy ? kLanes : plane, vec_n = copy ? 1 : plane / kLanes;
  const std::int64_t tail = copy ? 0 : plane % kLanes, cols_stride = (vec_n + 1) * kLanes;
  const int most = pix_rows(co, 1);
  const std::int64_t runs = (vec_n + most - 1) / most, units = runs + (tail ? 1 : 0);
  // (IC, tap groups, OC, co): the weights one tile broadcasts, in the order it reads them.
  Tensor<float> wbuf = Tensor<float>::empty(Shape{ic_n * groups * oc_n * co});
  for (std::int64_t ic = 0; ic < ic_n; ++ic)
    for (std::int64_t g = 0; g < groups; ++g)
      for (std::int64_t oc = 0; oc < oc_n; ++oc)
        for (std::int64_t c = 0; c < co; ++c) {
          const std::int64_t t = g * co + c;
          wbuf.data()[((ic * groups + g) * oc_n + oc) * co + c] = t < taps ? w[(oc * ic_n + ic) * taps + t] : 0.f;
        }
  // Per column tap kw: the dy columns o in [lo, hi) that land inside dx, at o * sw + off,
  // which is column (o + shift) of the row's column phase (o * sw + off) mod sw.
  const std::int64_t sw = s.stride_w, mw = (wd + sw - 1) / sw;
  std::vector<std::int64_t> lo(static_cast<std::size_t>(kw_n)), hi(lo.size()), phase(lo.size()), shift(lo.size());
  for (std::int64_t kw = 0; kw < kw_n; ++kw) {
    const std::int64_t o = kw * s.dilation_w - s.pad_w;
    const std::size_t k = static_cast<std::size_t>(kw);
    lo[k] = o >= 0 ? 0 : (-o + sw - 1) / sw;
    hi[k] = wd - 1 - o < 0 ? 0 : std::min(ow, (wd - 1 - o) / sw + 1);
    phase[k] = ((o % sw) + sw) % sw, shift[k] = (o - phase[k]) / sw;
  }
  const std::int64_t tap0 = 0;
  // One tile: tap group g over vector unit u (a run, or the tail) of image plane set dyn.
  auto tile = [&](float* cols, const float* dyn, const float* wic, std::int64_t u, std::int64_t g) {
    float* out = cols + g * co * cols_stride;
    const float* wg = wic + g * oc_n * co;
    if (u == runs) {  // the tail: pixels plane - kLanes .. plane - 1, keep the last `tail`
      pix_tile_fn(1)(out + vec_n * kLanes, cols_stride, dyn + plane - kLanes, chan, kLanes, static_cast<int>(oc_n),
                            &tap0, 1, wg);
      for (int c = 0; c < co; ++c) {
        float* q = out + c * cols_stride + vec_n * kLanes;
        std::copy(q + kLanes - tail, q + kLanes, q);
      }
      return;
    }
    const std::int64_t v0 = u * (vec_n / runs) + std::min(u, vec_n % runs);
    const int len = static_cast<int>(vec_n / runs + (u < vec_n % runs ? 1 : 0));
    pix_tile_fn(len)(out + v0 * kLanes, cols_stride, dyn + v0 * kLanes, chan, kLanes, static_cast<int>(oc_n), &tap0,
                            1, wg);
  };
  // dx rows [r0, r1) of one plane: (bias or 0, or as they are) + every tap row landing there.
  // The tap rows are summed per column phase first (contiguous, vectorised), then interleaved.
  auto gather = [&](float* dxp, const float* cols, float* rowbuf, std::int64_t r0, std::int64_t r1, float b) {
    for (std::int64_t ih = r0; ih < r1; ++ih) {
      std::fill(rowbuf, rowbuf + sw * mw, 0.f);
      for (std::int64_t kh = 0; kh < s.kernel_h; ++kh) {
        const std::int64_t num = ih + s.pad_h - kh * s.dilation_h, row = num / s.stride_h;
        if (num < 0 || num % s.stride_h != 0 || row >= oh) continue;
        for (std::int64_t kw = 0; kw < kw_n; ++kw) {
          const std::size_t k = static_cast<std::size_t>(kw);
          const float* c = cols + (kh * kw_n + kw) * cols_stride + row * ow;
          float* r = rowbuf + phase[k] * mw;
          for (std::int64_t o = lo[k], m = lo[k] + shift[k]; o < hi[k]; ++o, ++m) r[m] += c[o];
        }
      }
      float* d = dxp + ih * wd;
      if (sw == 1) {
        if (accumulate)
          for (std::int64_t m = 0; m < wd; ++m) d[m] += rowbuf[m];
        else
          for (std::int64_t m = 0; m < wd; ++m) d[m] = rowbuf[m] + b;
      } else if (sw == 2 && wd % 2 == 0) {
        const float *even = rowbuf, *odd = rowbuf + mw;
        if (accumulate)
          for (std::int64_t m = 0; m < mw; ++m) d[2 * m] += even[m], d[2 * m + 1] += odd[m];
        else
          for (std::int64_t m = 0; m < mw; ++m) d[2 * m] = even[m] + b, d[2 * m + 1] = odd[m] + b;
      } else {
        for (std::int64_t iw = 0; iw < wd; ++iw) {
          const float v = rowbuf[(iw % sw) * mw + iw / sw];
          d[iw] = accumulate ? d[iw] + v : v + b;
        }
      }
    }
  };
  const int threads = team_size();
  const std::int64_t cols_size = groups * co * cols_stride, row_size = (sw * mw + kLanes - 1) / kLanes * kLanes;
  const std::int64_t items = s.n * ic_n, slot = cols_size + row_size + (copy ? oc_n * kLanes : 0);
  const bool per_item = items >= threads;  // else every item's tiles and rows are shared out
  Tensor<float> scratch = Tensor<float>::empty(Shape{per_item ? threads : 1, slot});
  auto source = [&](float* cols, std::int64_t n) {  // image n's dy, or its copy in slots
    const float* dyn = dy + n * oc_n * plane;
    if (!copy) return dyn;
    float* slots = cols + cols_size + row_size;
    for (std::int64_t oc = 0; oc < oc_n; ++oc) {
      std::copy(dyn + oc * plane, dyn + (oc + 1) * plane, slots + oc * kLanes);
      std::fill(slots + oc * kLanes + plane, slots + (oc + 1) * kLanes, 0.f);
    }
    return static_cast<const float*>(slots);
  };
  if (per_item) {
    parallel_items(threads, items, [&](std::int64_t i) {
      float* cols = scratch.data() + team_slot(threads) * slot;
      const std::int64_t n = i / ic_n, ic = i % ic_n;
      const float* dyn = source(cols, n);
      for (std::int64_t u = 0; u < units; ++u)
        for (std::int64_t g = 0; g < groups; ++g) tile(cols, dyn, wbuf.data() + ic * groups * oc_n * co, u, g);
      gather(dx + i * x_plane, cols, cols + cols_size, 0, s.in_h, bias ? bias[ic] : 0.f);
    });
    return;
  }
  float* cols = scratch.data();
  Tensor<float> rows = Tensor<float>::empty(Shape{threads, row_size});
  for (std::int64_t i = 0; i < items; ++i) {
    const std::int64_t n = i / ic_n, ic = i % ic_n;
    const float* dyn = source(cols, n);
    parallel_items(threads, units * groups, [&](std::int64_t j) {
      tile(cols, dyn, wbuf.data() + ic * groups * oc_n * co, j / groups, j % groups);
    });
    const std::int64_t bands = std::min<std::int64_t>(threads, s.in_h);
    parallel_items(threads, bands, [&](std::int64_t k) {
      gather(dx + i * x_plane, cols, rows.data() + team_slot(threads) * row_size, k * s.in_h / bands,
             (k + 1) * s.in_h / bands, bias ? bias[ic] : 0.f);
    });
  }
}

// d[c * kn + k] += sum over `copies` accumulators (acc_size apart) of a[k * kBlock + c], for
// the first `lanes` (<= 16, within one block) lanes c: packed weight-gradient lanes back to (OC, IC*KH*KW) rows.
inline void unpack_lanes(float* d, std::int64_t kn, const float* a, std::int64_t acc_size, int copies,
                         std::int64_t lanes) {
#if GAN_CONV_AVX512
  if (kLanes == 16) {  // 16 lanes x 16 k at a time, transposed in registers
    for (std::int64_t k0 = 0; k0 < kn; k0 += 16) {
      __m512 r[16];
      for (int j = 0; j < 16; ++j) {
        r[j] = _mm512_setzero_ps();
        if (k0 + j < kn)
          for (int cp = 0; cp < copies; ++cp) r[j] = _mm512_add_ps(r[j], _mm512_load_ps(a + cp * acc_size + (k0 + j) * kBlock));
      }
      transpose16(r);
      const __mmask16 m = lane_range(0, kn - k0);
      for (std::int64_t c = 0; c < lanes; ++c) masked_put(d + c * kn + k0, m, r[c], true);
    }
    return;
  }
#endif
  for (std::int64_t c = 0; c < lanes; ++c)
    for (std::int64_t k = 0; k < kn; ++k)
      for (int cp = 0; cp < copies; ++cp) d[c * kn + k] += a[cp * acc_size + k * kBlock + c];
}

inline bool backward_weight_supported(const ConvShape& s) {
  return s.dilation_h == 1 && s.dilation_w == 1 && wgrad_piece(s.kernel_w) > 0;
}

// dw += dL/dw, and db += dL/db when db is given (summed while dy is transposed; bias_grad
// is the pass for a bias gradient alone).
inline void conv_backward_weight(float* dw, const float* dy, const float* x, const ConvShape& s, std::int64_t oh,
                                 std::int64_t ow, float* db = nullptr) {
  const std::int64_t ic_n = s.in_c, oc_n = s.out_c, kh_n = s.kernel_h, kw_n = s.kernel_w, nb = blocks(oc_n);
  const std::int64_t ocp = nb * kBlock, hp = (oh - 1) * s.stride_h + kh_n, wp = (ow - 1) * s.stride_w + kw_n;
  const std::int64_t plane = hp * wp, pix = oh * ow, x_image = ic_n * plane, dy_image = pix * ocp;
  const std::int64_t piece = wgrad_piece(kw_n), pieces = (kw_n + piece - 1) / piece;
  const int group = wgrad_group(piece);
  const std::int64_t gstride = kh_n * kw_n * kBlock;
  // A tile holds `group` (input channel, kernel row) pairs x KW taps: several input channels
  // of one kernel row, or with fewer channels than that (a one-channel image) several
  // kernel rows of one channel, so the registers stay full (shape 1: 8 -> 24 accumulators).
  const bool by_rows = ic_n < group && kh_n > 1;
  const std::int64_t rows_per = std::min<std::int64_t>(group, kh_n), row_groups = (kh_n + rows_per - 1) / rows_per;
  const std::int64_t groups = by_rows ? ic_n * row_groups : (ic_n + group - 1) / group;
  const std::int64_t tiles = nb * groups * (by_rows ? 1 : kh_n) * pieces;
  // Images per chunk: each chunk reads and writes the whole accumulator once, each tile
  // streams the chunk's padded input and dy^T. Small accumulators (<= 2 MB): chunks that stay
  // in L2 (512 KB). Large ones (DCGAN-64's 512 -> 256 layer: 8 MB): 4 MB chunks, so the
  // accumulator is touched a few times per call and the chunk streams from L3. A single
  // image larger than the budget is reduced a band of output rows at a time.
  const std::int64_t acc_size = nb * ic_n * gstride, per_image = x_image + dy_image;
  const bool small_acc = acc_size <= (std::int64_t{1} << 19);
  const std::int64_t budget = small_acc ? std::int64_t{1} << 17 : std::int64_t{1} << 20;
  const std::int64_t chunk = std::clamp<std::int64_t>(budget / per_image, 1, std::max<std::int64_t>(s.n, 1));
  const std::int64_t band = chunk == 1 ? std::clamp<std::int64_t>(oh * budget / per_image, 1, oh) : oh;
  const int threads = team_size();
  // With a small accumulator and a batch to share, each thread reduces its own images into
  // its own accumulator, in its own L2, with no barrier until the final sum; otherwise the
  // team shares out the tiles of every chunk (one image, or an accumulator too big to copy).
  const bool own_images = threads > 1 && small_acc && s.n >= 2 * threads;
  const int copies = own_images ? threads : 1;
  Tensor<float> xbuf = Tensor<float>::empty(Shape{copies * chunk * x_image});
  Tensor<float> dbuf = Tensor<float>::empty(Shape{copies * chunk * dy_image});
  // The tiles of each copy's first chunk and band write the accumulator instead of adding to
  // it, so it needs no zeros first (shape 7: 16 MB zeroed, then read back; +10 % / +18 % on
  // 1 / 2 threads, Zen 5, 2 interleaved pairs). Every copy has images when there are enough.
  const bool tiles_write_all = s.n >= copies && oh > 0;
  Tensor<float> acc = tiles_write_all ? Tensor<float>::empty(Shape{copies * acc_size})
                                      : Tensor<float>::zeros(Shape{copies * acc_size});
  Tensor<float> bias_sums = db ? Tensor<float>::zeros(Shape{threads * ocp}) : Tensor<float>();  // per thread
  const WgradGeom adding{x_image, by_rows ? wp : plane, wp, dy_image, kBlock, ow, s.stride_h, s.stride_w};
  WgradGeom writing = adding;
  writing.overwrite = tiles_write_all;
  const std::int64_t x_plane = s.in_h * s.in_w;
#if GAN_HAS_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
    const bool shared = !own_images;
    const int me = own_images ? team_slot(threads) : 0;
    const std::int64_t n_lo = s.n * me / copies, n_hi = s.n * (me + 1) / copies;
    float* const xb = xbuf.data() + me * chunk * x_image;
    float* const dyt = dbuf.data() + me * chunk * dy_image;
    float* const ac = acc.data() + me * acc_size;
    for (std::int64_t n0 = n_lo; n0 < n_hi; n0 += chunk) {
      const std::int64_t cnt = std::min(chunk, n_hi - n0);
      team_for(shared, cnt * ic_n, [&](std::int64_t i) {
        pad_plane(xb + i * plane, x + (n0 * ic_n + i) * x_plane, s.in_h, s.in_w, hp, wp, s.pad_h, s.pad_w);
      });
      // dy^T: (OC blocks, pixels, kBlock) per image. A block's pixels are then one contiguous run
      // that stays in L1 over its tiles; as (pixels, OC padded) rows, a pixel's vectors were
      // ocp floats apart (shape 7: 4 KB, every load on the same L1 set).
      team_for(shared, cnt * nb, [&](std::int64_t i) {
        const std::int64_t n = i / nb, oc0 = (i % nb) * kBlock;
        transpose_panel(dyt + n * dy_image + oc0 * pix, kBlock, dy + ((n0 + n) * oc_n + oc0) * pix, pix,
                        std::min<std::int64_t>(kBlock, oc_n - oc0), pix,
                        db ? bias_sums.data() + team_slot(threads) * ocp + oc0 : nullptr);
      });
      // The next chunk's input and dy, a slice per tile (see for_padded_images).
      const std::int64_t next = n0 + cnt, next_cnt = std::min(chunk, n_hi - next);
      for (std::int64_t r0 = 0; r0 < oh; r0 += band) {
        const std::int64_t r1 = std::min(oh, r0 + band);
        team_for(shared, tiles, [&](std::int64_t t) {
          if (r0 == 0 && next_cnt > 0) {
            prefetch_part(x + next * ic_n * x_plane, next_cnt * ic_n * x_plane, t, tiles);
            prefetch_part(dy + next * oc_n * pix, next_cnt * oc_n * pix, t, tiles);
          }
          const std::int64_t kw0 = (t % pieces) * piece, u = t / pieces;  // u: the tile's (block, group, row)
          std::int64_t ob, ic0, kh;
          int gs;
          if (by_rows) {
            ob = u / groups, ic0 = (u % groups) / row_groups, kh = (u % row_groups) * rows_per;
            gs = static_cast<int>(std::min(rows_per, kh_n - kh));
          } else {
            ob = u / (groups * kh_n), ic0 = ((u / kh_n) % groups) * group, kh = u % kh_n;
            gs = static_cast<int>(std::min<std::int64_t>(group, ic_n - ic0));
          }
          wgrad_tile_fn(std::min(piece, kw_n - kw0), gs)(ac + (((ob * ic_n + ic0) * kh_n + kh) * kw_n + kw0) * kBlock,
                                                          by_rows ? kw_n * kBlock : gstride,
                                                          xb + ic0 * plane + kh * wp + kw0, dyt + ob * pix * kBlock,
                                                          n0 == n_lo && r0 == 0 ? writing : adding, cnt, r0, r1);
        });
      }
    }
#if GAN_HAS_OPENMP
    if (own_images) {
#pragma omp barrier
    }
#endif
    // dw[oc, k] += sum over copies of acc[oc block, k, oc lane]
    constexpr int per = kBlock < 16 ? kBlock : 16;  // lanes per unpack_lanes call, within one block
    team_for(true, (oc_n + per - 1) / per, [&](std::int64_t i) {
      const std::int64_t oc = i * per, kn = ic_n * kh_n * kw_n, lanes = std::min<std::int64_t>(per, oc_n - oc);
      const float* a = acc.data() + (oc / kBlock) * ic_n * gstride + oc % kBlock;
      unpack_lanes(dw + oc * kn, kn, a, acc_size, copies, lanes);
    });
    if (db)
      team_for(true, oc_n, [&](std::int64_t oc) {
        for (int t = 0; t < threads; ++t) db[oc] += bias_sums.data()[t * ocp + oc];
      });
  }
}

// db[c] += sum of dy[n, c, :, :] over images and pixels; dy: (N, C, plane). Four vector
// accumulators per plane: a scalar sum would wait on the add latency for every element.
inline void bias_grad(float* db, const float* dy, std::int64_t n, std::int64_t c, std::int64_t plane) {
  const std::int64_t vec_end = plane - plane % (4 * kLanes);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t oc = 0; oc < c; ++oc) {
      const float* row = dy + (i * c + oc) * plane;
      Vec a0(0.f), a1(0.f), a2(0.f), a3(0.f);
      for (std::int64_t p = 0; p < vec_end; p += 4 * kLanes) {
        a0 += Vec::load_unaligned(row + p), a1 += Vec::load_unaligned(row + p + kLanes);
        a2 += Vec::load_unaligned(row + p + 2 * kLanes), a3 += Vec::load_unaligned(row + p + 3 * kLanes);
      }
      float sum = simd::hsum((a0 + a1) + (a2 + a3));
      for (std::int64_t p = vec_end; p < plane; ++p) sum += row[p];
      db[oc] += sum;
    }
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
