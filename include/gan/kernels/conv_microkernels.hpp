#pragma once
// Register-blocked float micro-kernels of the direct convolution (kernels/conv_direct.hpp).
// Both vectorise over a block of kBlock = kVecs registers of channels and broadcast the other
// operand straight from a zero-padded NCHW plane, so no im2col matrix is ever built:
//
//   conv_tile:   out[p][c] = sum_{r < R, t < T} src[r*chan_stride + tap[t] + pix(p)] * w[r][t][c]
//                pix(p) = i*row_stride + j*S for pixel p = i*NC + j of an RT x NC tile.
//                Forward: r = input channel, t = (kh, kw), c = output channel.
//                Data gradient: r = output channel, t = a tap of one stride phase, c = input channel.
//   wgrad_tile:  dwp[g][kw][c] += sum_{pixels q} x[g][row(q) + kw] * dyT[q][c]
//                Weight gradient: c = output channel, g = input channel, kw = tap column.
//
// Accumulators: kVecs*RT*NC (resp. kVecs*G*KW) registers, at most 28 of AVX-512's 32
// (kMaxPix = 14) and 12 of AVX2's 16, leaving room for the two weight (dy) registers and a
// broadcast. conv_tile_at takes its pixels anywhere in the plane (runs that wrap at a row end),
// for planes whose rows do not split into full tiles (7-wide planes with 6-pixel tiles).
// Pixel and tap displacements are compile-time, so every broadcast is one load. Every loop
// over the accumulators outside the reduction is unrolled (#pragma GCC unroll): left rolled,
// GCC kept them in memory, zeroed, spilled and reloaded around the reduction, 3 vector moves
// per accumulator per tile (+4-6 % on 1 thread for shape 9's gradients, shape 4's forward and
// shape 7's weight gradient when they went, Zen 4; none slower).

#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "gan/kernels/simd.hpp"

namespace gan {
namespace kernels {
namespace direct {

using Vec = simd::simd_batch<float>;
inline constexpr int kLanes = static_cast<int>(Vec::size);
// Two channel vectors per block, broadcasting each pixel to both: one vector of 8 with 14
// pixels on AVX2 (16 registers) ran its L1 tile at 65 against 85 GFLOP/s for 2 x 6 on Zen 3,
// where the broadcasts, one per FMA there, are what saturates.
inline constexpr int kVecs = 2;
inline constexpr int kBlock = kVecs * kLanes;             // channels per block
inline constexpr int kMaxPix = kLanes >= 16 ? 14 : 6;     // pixels (taps) per tile
inline constexpr int kMaxGroup = 6;                       // wgrad: input channels per tile

// conv_tile's sums, left in acc for the caller's epilogue (inlined, so they stay in registers).
template <int RT, int NC, int S>
[[gnu::always_inline]] inline void conv_tile_sums(Vec (&acc)[kVecs][RT * NC], const float* src,
                                                  std::int64_t chan_stride, std::int64_t row_stride, int R,
                                                  const std::int64_t* tap, int T, const float* w) {
  constexpr int P = RT * NC;
#pragma GCC unroll 16
  for (int v = 0; v < kVecs; ++v)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) acc[v][p] = Vec(0.f);
  for (int r = 0; r < R; ++r, src += chan_stride) {
    for (int t = 0; t < T; ++t, w += kBlock) {
      const float* p0 = src + tap[t];
      Vec wv[kVecs];
      for (int v = 0; v < kVecs; ++v) wv[v] = Vec::load_aligned(w + v * kLanes);
#pragma GCC unroll 16
      for (int j = 0; j < NC; ++j) {
        const Vec b(p0[j * S]);
        for (int v = 0; v < kVecs; ++v) acc[v][j] = xsimd::fma(b, wv[v], acc[v][j]);
      }
      if constexpr (RT == 2) {
        const float* p1 = p0 + row_stride;
#pragma GCC unroll 16
        for (int j = 0; j < NC; ++j) {
          const Vec b(p1[j * S]);
          for (int v = 0; v < kVecs; ++v) acc[v][NC + j] = xsimd::fma(b, wv[v], acc[v][NC + j]);
        }
      }
    }
  }
}

// out: (RT*NC, kBlock), 64-byte aligned; w: (R, T, kBlock), 64-byte aligned.
template <int RT, int NC, int S>
void conv_tile(float* out, const float* src, std::int64_t chan_stride, std::int64_t row_stride, int R,
               const std::int64_t* tap, int T, const float* w) {
  constexpr int P = RT * NC;
  Vec acc[kVecs][P];
  conv_tile_sums<RT, NC, S>(acc, src, chan_stride, row_stride, R, tap, T, w);
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v) acc[v][p].store_aligned(out + p * kBlock + v * kLanes);
}

// Bits of an edge tile's tap mask: the pixels that read only padding under that tap (zeros),
// whose multiply-adds conv_tile_part skips. Rows 0 and 1 of the tile, its first and last column.
enum TapSkip : std::uint8_t { kSkipFirstCol = 1, kSkipLastCol = 2, kSkipRow0 = 4, kSkipRow1 = 8 };

// conv_tile over the taps sel[0, n) of the tile's T (w: (R, T, kBlock)), without the first
// and / or last column (Cols: kSkipFirstCol | kSkipLastCol), adding to the accumulators in out.
// An edge tile runs as a few such parts, one per set of taps that skip the same pixels: a
// multiply-add under a run-time condition kept its accumulator on the stack.
template <int RT, int NC, int S, unsigned Cols>
void conv_tile_part(float* out, const float* src, std::int64_t chan_stride, std::int64_t row_stride, int R,
                    const std::int64_t* tap, const std::uint8_t* sel, int n, int T, const float* w) {
  constexpr int P = RT * NC, j0 = (Cols & kSkipFirstCol) ? 1 : 0, j1 = (Cols & kSkipLastCol) ? NC - 1 : NC;
  Vec acc[kVecs][P];
#pragma GCC unroll 16
  for (int v = 0; v < kVecs; ++v)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) acc[v][p] = Vec::load_aligned(out + p * kBlock + v * kLanes);
  for (int r = 0; r < R; ++r, src += chan_stride, w += T * kBlock) {
    for (int k = 0; k < n; ++k) {
      const float* p0 = src + tap[sel[k]];
      const float* wt = w + sel[k] * kBlock;
      Vec wv[kVecs];
      for (int v = 0; v < kVecs; ++v) wv[v] = Vec::load_aligned(wt + v * kLanes);
#pragma GCC unroll 16
      for (int j = j0; j < j1; ++j) {
        const Vec b(p0[j * S]);
        for (int v = 0; v < kVecs; ++v) acc[v][j] = xsimd::fma(b, wv[v], acc[v][j]);
      }
      if constexpr (RT == 2) {
        const float* p1 = p0 + row_stride;
#pragma GCC unroll 16
        for (int j = j0; j < j1; ++j) {
          const Vec b(p1[j * S]);
          for (int v = 0; v < kVecs; ++v) acc[v][NC + j] = xsimd::fma(b, wv[v], acc[v][NC + j]);
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v) acc[v][p].store_aligned(out + p * kBlock + v * kLanes);
}

using ConvTileFn = void (*)(float*, const float*, std::int64_t, std::int64_t, int, const std::int64_t*, int,
                            const float*);
using ConvTilePartFn = void (*)(float*, const float*, std::int64_t, std::int64_t, int, const std::int64_t*,
                                const std::uint8_t*, int, int, const float*);

namespace detail {
template <class Make, std::size_t... I>
constexpr auto instances(Make make, std::index_sequence<I...>) {
  using Fn = decltype(make(std::integral_constant<int, 1>{}));
  return std::array<Fn, sizeof...(I)>{make(std::integral_constant<int, static_cast<int>(I) + 1>{})...};
}
}  // namespace detail

// {make(1), ..., make(N)}, each argument a std::integral_constant: the table of a kernel's
// instantiations for 1..N pixels (rows), which the _fn lookups below index at run time.
template <int N, class Make>
constexpr auto instances(Make make) {
  return detail::instances(make, std::make_index_sequence<N>{});
}

// The instantiation for an rt x nc tile (rt in {1, 2}, nc <= kMaxPix / rt) and column stride s in {1, 2}.
inline ConvTileFn conv_tile_fn(int rt, int nc, int s) {
  static constexpr auto r1s1 = instances<kMaxPix>([](auto nc) { return &conv_tile<1, decltype(nc)::value, 1>; });
  static constexpr auto r1s2 = instances<kMaxPix>([](auto nc) { return &conv_tile<1, decltype(nc)::value, 2>; });
  static constexpr auto r2s1 = instances<kMaxPix / 2>([](auto nc) { return &conv_tile<2, decltype(nc)::value, 1>; });
  static constexpr auto r2s2 = instances<kMaxPix / 2>([](auto nc) { return &conv_tile<2, decltype(nc)::value, 2>; });
  if (rt == 2) return s == 1 ? r2s1[nc - 1] : r2s2[nc - 1];
  return s == 1 ? r1s1[nc - 1] : r1s2[nc - 1];
}

// The part kernel for an rt x nc tile, column stride s, columns skipped `cols` (< 4).
inline ConvTilePartFn conv_tile_part_fn(int rt, int nc, int s, unsigned cols) {
  auto by_cols = [](auto rt_c, auto s_c) {
    return instances<kMaxPix / decltype(rt_c)::value>([](auto nc) {
      constexpr int RT = decltype(rt_c)::value, S = decltype(s_c)::value, NC = decltype(nc)::value;
      return std::array<ConvTilePartFn, 4>{&conv_tile_part<RT, NC, S, 0>, &conv_tile_part<RT, NC, S, 1>,
                                           &conv_tile_part<RT, NC, S, 2>, &conv_tile_part<RT, NC, S, 3>};
    });
  };
  using One = std::integral_constant<int, 1>;
  using Two = std::integral_constant<int, 2>;
  static constexpr auto r1s1 = by_cols(One{}, One{}), r1s2 = by_cols(One{}, Two{});
  static constexpr auto r2s1 = by_cols(Two{}, One{}), r2s2 = by_cols(Two{}, Two{});
  if (rt == 2) return (s == 1 ? r2s1 : r2s2)[nc - 1][cols];
  return (s == 1 ? r1s1 : r1s2)[nc - 1][cols];
}

// conv_tile for P pixels at src + pix[p] (any offsets): the tile of a run of pixels that wraps
// at a row end. Each pixel's base is a register, each broadcast one load.
template <int P>
void conv_tile_at(float* out, const float* src, std::int64_t chan_stride, const std::int64_t* pix, int R,
                  const std::int64_t* tap, int T, const float* w) {
  Vec acc[kVecs][P];
  const float* base[P];
  for (int p = 0; p < P; ++p) base[p] = src + pix[p];
#pragma GCC unroll 16
  for (int v = 0; v < kVecs; ++v)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) acc[v][p] = Vec(0.f);
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t, w += kBlock) {
      const std::int64_t at = r * chan_stride + tap[t];
      Vec wv[kVecs];
      for (int v = 0; v < kVecs; ++v) wv[v] = Vec::load_aligned(w + v * kLanes);
#pragma GCC unroll 16
      for (int p = 0; p < P; ++p) {
        const Vec b(base[p][at]);
        for (int v = 0; v < kVecs; ++v) acc[v][p] = xsimd::fma(b, wv[v], acc[v][p]);
      }
    }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v) acc[v][p].store_aligned(out + p * kBlock + v * kLanes);
}

using ConvTileAtFn = void (*)(float*, const float*, std::int64_t, const std::int64_t*, int, const std::int64_t*, int,
                              const float*);

inline ConvTileAtFn conv_tile_at_fn(int pixels) {
  static constexpr auto table = instances<kMaxPix>([](auto p) { return &conv_tile_at<decltype(p)::value>; });
  return table[pixels - 1];
}

// Extents the weight-gradient tile needs besides its pointers.
struct WgradGeom {
  std::int64_t x_image, x_plane, x_row;  // strides of the input: image, channel, row
  std::int64_t dy_image, dy_pixel;       // strides of dyT: image, pixel (kBlock: blocks of pixel-major rows)
  std::int64_t out_w, stride_h, stride_w;
  bool overwrite = false;  // the first pass over the accumulators: write them, do not add
  // Columns of the padded row (from the tile's first tap column) that hold the image: a
  // pixel's taps outside [col_lo, col_hi) read padding, and edge pixels skip them.
  std::int64_t col_lo = 0, col_hi = std::int64_t{1} << 40;
  // Where the tile's first tap lies in x: output row oh reads row oh * stride_h + row_shift
  // of x, and column c of the padded row (as col_lo) is column c - col_shift of x.
  std::int64_t row_shift = 0, col_shift = 0;
};

// One pixel's multiply-adds: dv times its G x KW input values (xr[g][c0 - shift + kw], xr the
// rows); an edge pixel (Edge) skips the taps whose column c0 + kw lies outside [lo, hi):
// padding, zeros, which an input read in place does not hold.
template <int KW, int G, bool Edge>
inline void wgrad_pixel(Vec (&acc)[kVecs][G * KW], const float* const* xr, const Vec* dv,
                        std::int64_t c0, std::int64_t lo, std::int64_t hi, std::int64_t shift) {
  const std::int64_t c = c0 - shift;
#pragma GCC unroll 16
  for (int gi = 0; gi < G; ++gi) {
#pragma GCC unroll 16
    for (int kw = 0; kw < KW; ++kw) {
      if (Edge && (c0 + kw < lo || c0 + kw >= hi)) continue;
      const Vec b(xr[gi][c + kw]);
      for (int v = 0; v < kVecs; ++v) acc[v][gi * KW + kw] = xsimd::fma(b, dv[v], acc[v][gi * KW + kw]);
    }
  }
}

// dwp: G groups of (KW, kBlock) accumulators, group stride gstride; x points at input channel
// g = 0 of image 0 (its tap (kh, kw0) placed by g.row_shift and g.col_shift); dyt at the
// tile's channel block of image 0. Reduces over images [0, images) and output rows [oh0, oh1)
// of each, added to dwp (or written over it, with g.overwrite). The pixels whose taps reach
// into the side padding are peeled off each row (a k4 s2 p1 layer on 7-wide planes: 2 of 7
// pixels, 1 of their 4 taps).
template <int KW, int G>
void wgrad_tile(float* dwp, std::int64_t gstride, const float* x, const float* dyt, const WgradGeom& g,
                std::int64_t images, std::int64_t oh0, std::int64_t oh1) {
  constexpr int J = G * KW;
  Vec acc[kVecs][J];
#pragma GCC unroll 16
  for (int j = 0; j < J; ++j)
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v)
      acc[v][j] = g.overwrite ? Vec(0.f) : Vec::load_aligned(dwp + (j / KW) * gstride + (j % KW) * kBlock + v * kLanes);
  const std::int64_t sw = g.stride_w, lo = g.col_lo, hi = g.col_hi;
  // Pixels [0, left) and [right, out_w) have taps in the padding.
  const std::int64_t left = std::clamp<std::int64_t>((std::max<std::int64_t>(lo, 0) + sw - 1) / sw, 0, g.out_w);
  const std::int64_t right =
      std::clamp<std::int64_t>((std::max<std::int64_t>(hi - KW + 1, 0) + sw - 1) / sw, left, g.out_w);
  for (std::int64_t n = 0; n < images; ++n)
    for (std::int64_t oh = oh0; oh < oh1; ++oh) {
      const float* xr[G];
      for (int gi = 0; gi < G; ++gi)
        xr[gi] = x + n * g.x_image + gi * g.x_plane + (oh * g.stride_h + g.row_shift) * g.x_row;
      const float* d = dyt + n * g.dy_image + oh * g.out_w * g.dy_pixel;
      // The pixels [from, to) of the row, interior or edge ones.
      auto pixels = [&](auto edge, std::int64_t from, std::int64_t to) {
        for (std::int64_t ow = from; ow < to; ++ow, d += g.dy_pixel) {
          Vec dv[kVecs];
          for (int v = 0; v < kVecs; ++v) dv[v] = Vec::load_aligned(d + v * kLanes);
          wgrad_pixel<KW, G, decltype(edge)::value>(acc, xr, dv, ow * sw, lo, hi, g.col_shift);
        }
      };
      pixels(std::true_type{}, 0, left);
      pixels(std::false_type{}, left, right);
      pixels(std::true_type{}, right, g.out_w);
    }
#pragma GCC unroll 16
  for (int j = 0; j < J; ++j)
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v) acc[v][j].store_aligned(dwp + (j / KW) * gstride + (j % KW) * kBlock + v * kLanes);
}

using WgradTileFn = void (*)(float*, std::int64_t, const float*, const float*, const WgradGeom&, std::int64_t,
                             std::int64_t, std::int64_t);

// Channels per weight-gradient tile for kernel width kw (0 when kw > kMaxPix: unsupported).
inline int wgrad_group(std::int64_t kw) {
  if (kw < 1 || kw > kMaxPix) return 0;
  const int g = kMaxPix / static_cast<int>(kw);
  return g < kMaxGroup ? g : kMaxGroup;
}

// Tap columns per weight-gradient tile (the kernel row is cut into pieces of this width).
// With AVX-512's 14 pixel slots, whole rows (measured there). With AVX2's 6, the width that
// makes the fewest passes over dy^T per input channel, ceil(kw / width) / wgrad_group(width):
// kernel width 4 in pieces of 2 x 3 channels (12 accumulators) instead of 4 x 1 (8, latency-
// bound), and widths 7 and 9 at all (they exceed a tile).
inline std::int64_t wgrad_piece(std::int64_t kw) {
  if (kw < 1) return 0;
  if (kMaxPix >= 14 && kw <= kMaxPix) return kw;
  std::int64_t best = 1;
  for (std::int64_t p = 2; p <= std::min<std::int64_t>(kw, kMaxPix); ++p) {
    const std::int64_t pieces = (kw + p - 1) / p, best_pieces = (kw + best - 1) / best;
    if (pieces * wgrad_group(best) <= best_pieces * wgrad_group(p)) best = p;  // ties: the wider piece
  }
  return best;
}

inline WgradTileFn wgrad_tile_fn(std::int64_t kw, int group) {
  // [kw - 1][group - 1]; null where kw * group taps exceed a tile
  static constexpr auto table = instances<kMaxPix>([](auto kw) {
    return instances<kMaxGroup>([](auto g) {
      constexpr int KW = decltype(kw)::value, G = decltype(g)::value;
      if constexpr (KW * G <= kMaxPix) return &wgrad_tile<KW, G>;
      else return WgradTileFn{nullptr};
    });
  });
  return table[kw - 1][group - 1];
}

// ---- pixel-vector tile: for layers where the channel side is tiny (1 or 3 channels) ----
//
//   out[c][i][v*kLanes + l] = sum_{r < R, t < T} src[r*chan_stride + tap[t] + i*row_stride + v*kLanes + l] * w[r][t][c]
//
// Vectors run along output pixels, the CO weights of each (r, t) are broadcast. Used for the
// forward pass when both sides have few channels (fewer than 4 in; row_stride = kLanes walks
// a flattened "wide" phase-split plane, with readable zero slack at its end) and for the data
// gradient's tap planes when the input has fewer than 4 (CO taps, R = dy channels, T = 1, dy
// read in place): blocking over channels would leave most lanes empty there. Every lane is
// stored; the callers drop or move the ones past the valid pixels.

inline constexpr int kRegs = kLanes >= 16 ? 32 : 16;

// Rows of a tile buffer: kMaxPix pixels, rounded up to the 16 rows the AVX-512 transpose reads.
inline constexpr int kTileRows = kMaxPix < 16 ? 16 : kMaxPix;

#if defined(__AVX512F__)
// The AVX-512 data movement of the epilogues and reorders (a 16x16 transpose takes 64
// shuffles instead of 256 scalar moves). xsimd 8 has no transpose, so these name the
// intrinsics directly; every caller keeps a plain-loop path for other ISAs.
#define GAN_CONV_AVX512 1

// GCC 12's unmasked unpack/shuffle/permute intrinsics start from _mm512_undefined_ps() and
// trip -Wuninitialized once inlined; the masked forms with an explicit source do not.
inline __m512 unpacklo(__m512 a, __m512 b) { return _mm512_mask_unpacklo_ps(a, 0xFFFF, a, b); }
inline __m512 unpackhi(__m512 a, __m512 b) { return _mm512_mask_unpackhi_ps(a, 0xFFFF, a, b); }
inline __m512d unpacklo(__m512d a, __m512d b) { return _mm512_mask_unpacklo_pd(a, 0xFF, a, b); }
inline __m512d unpackhi(__m512d a, __m512d b) { return _mm512_mask_unpackhi_pd(a, 0xFF, a, b); }
template <int Imm>
__m512 shuffle(__m512 a, __m512 b) { return _mm512_mask_shuffle_ps(a, 0xFFFF, a, b, Imm); }
template <int Imm>
__m512 shuffle_f32x4(__m512 a, __m512 b) { return _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, b, Imm); }

// In place: r[c] lane j = old r[j] lane c.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = unpacklo(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = unpackhi(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i + 0] = shuffle<_MM_SHUFFLE(1, 0, 1, 0)>(t[4 * i + 0], t[4 * i + 2]);
    r[4 * i + 1] = shuffle<_MM_SHUFFLE(3, 2, 3, 2)>(t[4 * i + 0], t[4 * i + 2]);
    r[4 * i + 2] = shuffle<_MM_SHUFFLE(1, 0, 1, 0)>(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = shuffle<_MM_SHUFFLE(3, 2, 3, 2)>(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = shuffle_f32x4<0x88>(r[i], r[4 + i]);
    t[4 + i] = shuffle_f32x4<0xDD>(r[i], r[4 + i]);
    t[8 + i] = shuffle_f32x4<0x88>(r[8 + i], r[12 + i]);
    t[12 + i] = shuffle_f32x4<0xDD>(r[8 + i], r[12 + i]);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = shuffle_f32x4<0x88>(t[i], t[8 + i]);
    r[8 + i] = shuffle_f32x4<0xDD>(t[i], t[8 + i]);
    r[4 + i] = shuffle_f32x4<0x88>(t[4 + i], t[12 + i]);
    r[12 + i] = shuffle_f32x4<0xDD>(t[4 + i], t[12 + i]);
  }
}

// Lanes [lo, hi) of 16.
inline __mmask16 lane_range(std::int64_t lo, std::int64_t hi) {
  lo = lo < 0 ? 0 : (lo > 16 ? 16 : lo), hi = hi < 0 ? 0 : (hi > 16 ? 16 : hi);
  if (hi <= lo) return 0;
  return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

inline void masked_put(float* d, __mmask16 m, __m512 v, bool accumulate) {
  if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, d));
  _mm512_mask_storeu_ps(d, m, v);
}

// The blocked epilogue for destination column strides 1 and 2: tile (kTileRows x kBlock,
// rows * cols <= 16 valid pixels p = i*cols + j) to dst[c*chan + i*row + j*col], channels
// c < channels, = or += (tile + bias[c]).
inline void store_tile_avx512(float* dst, std::int64_t chan, std::int64_t row, std::int64_t col, const float* tile,
                              int rows, int cols, std::int64_t channels, const float* bias, bool accumulate) {
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const int n0 = cols < 8 ? cols : 8, n1 = cols - n0;  // stride 2: pixels 0-7 and 8-15
  const __mmask16 m1 = lane_range(0, cols), even0 = static_cast<__mmask16>(0x5555u & ((1u << (2 * n0)) - 1u));
  const __mmask16 even1 = static_cast<__mmask16>(0x5555u & ((1u << (2 * n1)) - 1u));
  for (int h = 0; h * 16 < channels; ++h) {
    __m512 r[16];
    for (int j = 0; j < 16; ++j) r[j] = _mm512_load_ps(tile + j * kBlock + h * 16);
    transpose16(r);
    const int nc = static_cast<int>(channels - h * 16 < 16 ? channels - h * 16 : 16);
    for (int c = 0; c < nc; ++c) {
      __m512 v = r[c];
      if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[h * 16 + c]));
      float* dc = dst + (h * 16 + c) * chan;
      for (int i = 0; i < rows; ++i) {
        const __m512i shift = _mm512_add_epi32(iota, _mm512_set1_epi32(i * cols));
        const __m512 vi = i == 0 ? v : _mm512_mask_permutexvar_ps(v, 0xFFFF, shift, v);
        float* d = dc + i * row;
        if (col == 1) {
          masked_put(d, m1, vi, accumulate);
        } else {
          masked_put(d, even0, _mm512_maskz_expand_ps(0x5555, vi), accumulate);
          if (n1 > 0)
            masked_put(d + 16, even1, _mm512_maskz_expand_ps(0x5555, shuffle_f32x4<0xEE>(vi, vi)), accumulate);
        }
      }
    }
  }
}

// The epilogue of a stride-2 data gradient's two column phases, computed for the same
// pixels: tile0 holds the even destination columns, tile1 the odd ones. Interleaved, a run of
// n pixels is 2n contiguous floats, one full and one masked vector per channel instead of
// four masked stride-2 stores, and each destination line is read and written once instead
// of once per phase (a fifth of shape 6's data gradient, 4 MB of dx, went to those stores;
// paired it ran 4 % / 19 % faster on 1 / 2 threads, Zen 5, 4 interleaved pairs).
// Segment k: tile pixels [first[k], first[k] + count[k]) to dst + offset[k], count[k] <= 16.
inline void store_tile_pair_avx512(float* dst, std::int64_t chan, const float* tile0, const float* tile1,
                                   int segments, const int* first, const int* count, const std::int64_t* offset,
                                   std::int64_t channels, const float* bias, bool accumulate) {
  // Lane 2k of the low vector is pixel first + k of tile0, lane 2k + 1 the same pixel of tile1
  // (operand indices 16..31); the high vector continues at pixel first + 8.
  const __m512i even_odd = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  __m512i lo[kMaxPix], hi[kMaxPix];
  __mmask16 lo_mask[kMaxPix], hi_mask[kMaxPix];
  for (int k = 0; k < segments; ++k) {
    lo[k] = _mm512_add_epi32(even_odd, _mm512_set1_epi32(first[k]));
    hi[k] = _mm512_add_epi32(lo[k], _mm512_set1_epi32(8));
    lo_mask[k] = lane_range(0, 2 * count[k]), hi_mask[k] = lane_range(0, 2 * count[k] - 16);
  }
  alignas(64) float by_channel[2][16][16];  // [tile][channel][pixel]
  for (int h = 0; h * 16 < channels; ++h) {
    for (int t = 0; t < 2; ++t) {
      __m512 r[16];
      for (int j = 0; j < 16; ++j) r[j] = _mm512_load_ps((t ? tile1 : tile0) + j * kBlock + h * 16);
      transpose16(r);
      for (int c = 0; c < 16; ++c) _mm512_store_ps(by_channel[t][c], r[c]);
    }
    const int nc = static_cast<int>(channels - h * 16 < 16 ? channels - h * 16 : 16);
    for (int c = 0; c < nc; ++c) {
      const __m512 a = _mm512_load_ps(by_channel[0][c]), b = _mm512_load_ps(by_channel[1][c]);
      const __m512 bv = _mm512_set1_ps(bias ? bias[h * 16 + c] : 0.f);
      float* dc = dst + (h * 16 + c) * chan;
      for (int k = 0; k < segments; ++k) {
        masked_put(dc + offset[k], lo_mask[k], _mm512_add_ps(_mm512_permutex2var_ps(a, lo[k], b), bv), accumulate);
        if (hi_mask[k])
          masked_put(dc + offset[k] + 16, hi_mask[k], _mm512_add_ps(_mm512_permutex2var_ps(a, hi[k], b), bv),
                     accumulate);
      }
    }
  }
}

// The register transpose of the reorders (transpose_panel) in this ISA's words; the AVX2
// block below defines the same names, so transpose_panel has one body for both.
struct RegisterTranspose {
  static constexpr int kWidth = 16;
  using Reg = __m512;
  using Mask = __mmask16;
  static Mask first(std::int64_t n) { return lane_range(0, n); }
  static Reg load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static void store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static void transpose(Reg r[kWidth]) { transpose16(r); }
  static void add_first(float* d, std::int64_t n, Reg v) { masked_put(d, first(n), v, true); }  // d[l] += v[l], l < n
};
#else
#define GAN_CONV_AVX512 0
#endif

#if !GAN_CONV_AVX512 && defined(__AVX2__)
// The AVX2 counterpart for the reorders (transpose_panel): an 8x8 transpose in 24 shuffles.
#define GAN_CONV_AVX2 1

// In place: r[c] lane j = old r[j] lane c.
inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x20);
    r[4 + i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x31);
  }
}

// Lanes [0, n) of 8 set, for maskload / maskstore.
inline __m256i first_lanes(std::int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < 0 ? 0 : (n > 8 ? 8 : n))),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

struct RegisterTranspose {
  static constexpr int kWidth = 8;
  using Reg = __m256;
  using Mask = __m256i;
  static Mask first(std::int64_t n) { return first_lanes(n); }
  static Reg load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static void transpose(Reg r[kWidth]) { transpose8(r); }
  static void add_first(float* d, std::int64_t n, Reg v) {  // d[l] += v[l], l < n
    const Mask m = first(n);
    _mm256_maskstore_ps(d, m, _mm256_add_ps(v, _mm256_maskload_ps(d, m)));
  }
};
#else
#define GAN_CONV_AVX2 0
#endif


// Makes the compiler hold v in a register from here on. GCC otherwise folds a load used by
// several FMAs into each of them as a memory operand: CO reloads of an unaligned (usually
// cache-line-split) vector per row and tap, which made pix_tile load-bound at ~40% of peak.
inline void in_register(Vec& v) {
#if defined(__GNUC__)
  asm volatile("" : "+v"(v.data));
#else
  (void)v;
#endif
}

// out: channel c's RA*VB vectors at out + c * out_stride (aligned to the vector width).
template <int CO, int RA, int VB>
void pix_tile(float* out, std::int64_t out_stride, const float* src, std::int64_t chan_stride, std::int64_t row_stride,
              int R, const std::int64_t* tap, int T, const float* w) {
  Vec acc[CO][RA][VB];
#pragma GCC unroll 16
  for (int c = 0; c < CO; ++c)
#pragma GCC unroll 16
    for (int i = 0; i < RA; ++i)
#pragma GCC unroll 16
      for (int v = 0; v < VB; ++v) acc[c][i][v] = Vec(0.f);
  for (int r = 0; r < R; ++r, src += chan_stride)
    for (int t = 0; t < T; ++t, w += CO) {
      const float* p = src + tap[t];
      Vec wb[CO];
      for (int c = 0; c < CO; ++c) wb[c] = Vec(w[c]);
#pragma GCC unroll 16
      for (int i = 0; i < RA; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < VB; ++v) {
          Vec xv = Vec::load_unaligned(p + i * row_stride + v * kLanes);
          if constexpr (CO > 1) in_register(xv);
          for (int c = 0; c < CO; ++c) acc[c][i][v] = xsimd::fma(xv, wb[c], acc[c][i][v]);
        }
    }
#pragma GCC unroll 16
  for (int c = 0; c < CO; ++c)
#pragma GCC unroll 16
    for (int i = 0; i < RA; ++i)
#pragma GCC unroll 16
      for (int v = 0; v < VB; ++v) acc[c][i][v].store_aligned(out + c * out_stride + (i * VB + v) * kLanes);
}

using PixTileFn = void (*)(float*, std::int64_t, const float*, std::int64_t, std::int64_t, int, const std::int64_t*,
                           int, const float*);

// Rows per pixel tile for CO channels and VB vectors per row: as many as the registers allow.
constexpr int pix_rows(int co, int vb) {
  const int rows = (kRegs - 2 - co) / (co * vb);
  return rows < 14 ? rows : 14;
}

// Channels (or taps) per pixel-vector tile: 24 accumulators on AVX-512's 32 registers, 12 on
// AVX2's 16 (4 channels x 2 vectors left 8, too few to cover the FMA latency: shape 9's
// forward ran 19-25 % slower that way on Zen 3).
inline constexpr int kPixCo = kRegs >= 32 ? 4 : 2;

// The kPixCo x ra x 1 tile, 1 <= ra <= pix_rows(kPixCo, 1).
inline PixTileFn pix_tile_fn(int ra) {
  static constexpr auto table =
      instances<pix_rows(kPixCo, 1)>([](auto ra) { return &pix_tile<kPixCo, decltype(ra)::value, 1>; });
  return table[ra - 1];
}

// tap_tile: acc[r] += sum over pixels p of dy[r][p] * cols[p], over `images` images. The
// weight gradient of a one-channel image with at most kLanes taps, vectorised over the taps:
// r = output channel, dy read where it lies and broadcast; cols = the image's im2col,
// pixel-major, one vector of taps per pixel (aligned). The sums stay in registers over all
// the images. acc: R vectors (aligned); the next image's dy and cols start dy_image,
// cols_image further on.
template <int R>
void tap_tile(float* acc, const float* dy, std::int64_t dy_stride, std::int64_t dy_image, const float* cols,
              std::int64_t cols_image, int pixels, int images) {
  Vec sum[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) sum[r] = Vec(0.f);
  for (int n = 0; n < images; ++n, dy += dy_image, cols += cols_image)
    for (int p = 0; p < pixels; ++p) {
      const Vec c = Vec::load_aligned(cols + p * kLanes);
      for (int r = 0; r < R; ++r) sum[r] = xsimd::fma(Vec(dy[r * dy_stride + p]), c, sum[r]);
    }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) (Vec::load_aligned(acc + r * kLanes) + sum[r]).store_aligned(acc + r * kLanes);
}

using TapTileFn = void (*)(float*, const float*, std::int64_t, std::int64_t, const float*, std::int64_t, int, int);

// Output channels per tap tile, each a dy row read as a stream of broadcasts. Shape 1 on
// Zen 5 (64 channels in near-equal groups), against 12: 16 rows 9 % / 15 % slower on 1 / 2
// threads, 21-22 rows 25 % slower, 6-10 rows 1-6 % / 8-17 % slower (3 interleaved pairs each).
inline constexpr int kTapRows = 12;

// The rows-row tap tile, 1 <= rows <= kTapRows.
inline TapTileFn tap_tile_fn(int rows) {
  static constexpr auto table = instances<kTapRows>([](auto rows) { return &tap_tile<decltype(rows)::value>; });
  return table[rows - 1];
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
