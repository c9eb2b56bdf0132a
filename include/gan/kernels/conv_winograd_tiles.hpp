#pragma once
// The data movement of the Winograd kernels (kernels/conv_winograd.hpp) around their point
// products, for one tile or one group of tiles at a time: the geometry of a correlation, the
// weights' transform into U, the inputs' gather and transform into V (lanes = tiles), and the
// output transform of M written back into NCHW planes (lanes = output channels).

#include <algorithm>
#include <cstdint>

#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"
#include "gan/kernels/conv_winograd_transforms.hpp"

namespace gan {
namespace kernels {
namespace direct {
namespace winograd {

inline constexpr std::int64_t kChunkTiles = 2 * kLanes;  // tiles per chunk: one gather per lane

// base[offset[l]] for the lanes l set in `inside` (also given as bits), zero in the others;
// AVX-512's masked gather reads no memory for those.
inline Vec masked_gather(const float* base, const std::int32_t* offset, const float* inside, std::uint32_t bits) {
#if defined(__AVX512F__)
  if constexpr (kLanes == 16)
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), static_cast<__mmask16>(bits), _mm512_load_si512(offset),
                                    base, 4);
#endif
  (void)bits;
  using IVec = xsimd::batch<std::int32_t, Vec::arch_type>;
  const auto in = Vec::load_aligned(inside) != Vec(0.f);
  return xsimd::select(in, Vec::gather(base, IVec::load_aligned(offset)), Vec(0.f));
}

// One call's geometry in the correlation's terms: channel c' of the virtual input Z and
// channel o' of the result, each a (phase of a) plane of a real NCHW tensor.
//   Z(c', u, v) = src(c' / phases_in, step_in*u + r - off_in, step_in*v + s - off_in), (r, s) = c''s
//   phase, zero outside the plane; result (o', u, v) goes to dst likewise, where inside it.
struct Geometry {
  std::int64_t n = 0;
  std::int64_t src_c = 0, src_h = 0, src_w = 0, dst_c = 0, dst_h = 0, dst_w = 0;
  int phases_in = 1, phases_out = 1;
  std::int64_t off_in = 0, off_out = 0;
  std::int64_t tiles_h = 0, tiles_w = 0;  // output tiles of (u, v)
  std::int64_t in_channels() const { return src_c * phases_in; }
  std::int64_t out_channels() const { return dst_c * phases_out; }
  std::int64_t tiles() const { return n * tiles_h * tiles_w; }
};

inline int step_of(int phases) { return phases == 4 ? 2 : 1; }

// Where tap (a, b) of the correlation's weight (o', c') sits in the real weight (OC, IC, k, k):
// at lane_part(o', a, b) + chan_part(c', a, b), one term per side, so each side's offsets are
// computed once. For the 4x4 stride-2 conv (phased), the forward's c' = (c, p, q) and the data
// gradient's o' = (c, p, q) (above); the data gradient flips the taps.
struct WeightIndex {
  std::int64_t in_c = 0;  // the conv's input channels
  int kernel = 4;
  bool phased = true, data_gradient = false;
  std::int64_t lane_part(std::int64_t o, int a, int b) const {
    const std::int64_t k = kernel;
    if (!data_gradient) return o * in_c * k * k;
    if (!phased) return (o * k + k - 1 - a) * k + k - 1 - b;
    const std::int64_t ph = o % 4;
    return o / 4 * 16 + (2 * (1 - a) + ph / 2) * 4 + 2 * (1 - b) + ph % 2;
  }
  std::int64_t chan_part(std::int64_t c, int a, int b) const {
    const std::int64_t k = kernel;
    if (data_gradient) return c * in_c * k * k;
    if (!phased) return (c * k + a) * k + b;
    const std::int64_t ph = c % 4;
    return c / 4 * 16 + (2 * a + ph / 2) * 4 + 2 * b + ph % 2;
  }
};

// Transformed weights U: (point, block of kBlock output channels, c', kBlock lanes), zero past the
// last output channel. F(4x4, 2x2): 6.25x the weights (3.3 MB for shape 2), 7-9 % of the forward
// of shapes 2 and 3 on 1 thread, 14-17 % of shape 8's data gradient (52 MB; perf, Zen 5).
// A point ends in kLanes more floats: the transform writes a channel's points together, and
// 128 KB apart (shape 2) they would all fall in one set of L1 and of L2. With that and whole rows
// (both vectors of a block per channel), shape 2's transform alone, best of 500 calls on 1 thread:
// 139-153 us in 4 of 7 alternating runs and 203-214 in 3, against 191-221 in all 7.
inline std::int64_t u_point_floats(std::int64_t blocks, std::int64_t zc) { return blocks * zc * kBlock + kLanes; }

template <class F>
void transform_weights(float* u, const float* w, const Geometry& g, const WeightIndex& at, int threads) {
  constexpr int taps = F::kTaps * F::kTaps, points = F::kIn * F::kIn;
  const std::int64_t zc = g.in_channels(), yc = g.out_channels(), blocks = (yc + kBlock - 1) / kBlock;
  const std::int64_t point = u_point_floats(blocks, zc);
  // A block at a time, both of its vectors per channel, so each point's rows are written whole.
  parallel_items(threads, blocks, [&](std::int64_t ob) {
    alignas(64) std::int32_t offset[kVecs][taps][kLanes];
    alignas(64) float inside[kVecs][kLanes];
    std::uint32_t bits[kVecs] = {};
    for (int v = 0; v < kVecs; ++v)
      for (int l = 0; l < kLanes; ++l) {
        const std::int64_t o = ob * kBlock + v * kLanes + l;
        inside[v][l] = o < yc ? 1.f : 0.f;
        bits[v] |= o < yc ? 1u << l : 0u;
        for (int t = 0; t < taps; ++t)
          offset[v][t][l] = static_cast<std::int32_t>(o < yc ? at.lane_part(o, t / F::kTaps, t % F::kTaps) : 0);
      }
    for (std::int64_t c = 0; c < zc; ++c)
      for (int v = 0; v < kVecs; ++v) {
        Vec g_taps[taps], half[F::kIn * F::kTaps], full[points];
        for (int t = 0; t < taps; ++t)
          g_taps[t] = masked_gather(w + at.chan_part(c, t / F::kTaps, t % F::kTaps), offset[v][t], inside[v], bits[v]);
        for (int b = 0; b < F::kTaps; ++b) F::weight_1d(half + b, g_taps + b, F::kTaps);  // columns: (kIn, kTaps)
        for (int r = 0; r < F::kIn; ++r) F::weight_1d(full + r * F::kIn, half + r * F::kTaps, 1);  // rows
        for (int pt = 0; pt < points; ++pt)
          full[pt].store_aligned(u + pt * point + (ob * zc + c) * kBlock + v * kLanes);
      }
  });
}

// Whether transform_inputs loads the tiles' window rows (AVX-512) rather than gathering each input.
#if defined(__AVX512F__)
inline constexpr bool kWindowLoads = kLanes == 16;
#else
inline constexpr bool kWindowLoads = false;
#endif

// Lane l of a gather group is tile first + l (l < lanes); per input element e of its tile and
// input phase, the offset of its pixel in an image-stacked source and whether it is inside.
template <class F>
struct GatherPlan {
  static constexpr int kPoints = F::kIn * F::kIn;
  alignas(64) std::int32_t offset[4][kPoints][kLanes];
  alignas(64) float inside[4][kPoints][kLanes];
  std::uint32_t inside_bits[4][kPoints];  // lane l of inside as bit l
  // The same inputs as windows (transform_inputs on AVX-512): lane l's tile reads rows
  // window_row[l] + [0, step * kIn) of the plane (those inside it) and, of the window's step * kIn
  // columns, [lo[l], hi[l]): the plane's, the first at window_at[l] + row * src_w.
  std::int64_t window_at[kLanes], window_row[kLanes];
  int lo[kLanes], hi[kLanes];
  // Per image of the group, the run of a channel's plane its windows read: [span_at, + span_len).
  std::int64_t span_at[kLanes], span_len[kLanes];
  int spans = 0;
};

// The image of tile t and the tile's row and column of tiles.
struct TilePlace {
  std::int64_t image, row, col;
};
inline TilePlace place_of(const Geometry& g, std::int64_t t) {
  const std::int64_t per_image = g.tiles_h * g.tiles_w;
  return {t / per_image, t % per_image / g.tiles_w, t % g.tiles_w};
}

template <class F>
void plan_gather(GatherPlan<F>& plan, const Geometry& g, std::int64_t first, int lanes) {
  const int step = step_of(g.phases_in);
  const std::int64_t image = g.src_c * g.src_h * g.src_w;
  plan.spans = 0;
  std::int64_t span_image = -1, top = 0, bottom = 0;  // the open span's image and plane rows
  const auto close_span = [&] {
    if (span_image < 0 || bottom <= top) return;
    plan.span_at[plan.spans] = span_image * image + top * g.src_w;
    plan.span_len[plan.spans++] = (bottom - top) * g.src_w;
  };
  for (int l = 0; l < kLanes; ++l) {
    const bool real = l < lanes;
    const TilePlace at = place_of(g, real ? first + l : 0);
    const std::int64_t row0 = step * at.row * F::kOut - g.off_in, col0 = step * at.col * F::kOut - g.off_in;
    if (real) {  // tiles go image by image, so each image's lanes are consecutive
      const std::int64_t lo_row = std::max<std::int64_t>(0, row0);
      const std::int64_t hi_row = std::min<std::int64_t>(g.src_h, row0 + step * F::kIn);
      if (at.image != span_image) close_span(), span_image = at.image, top = lo_row, bottom = hi_row;
      top = std::min(top, lo_row), bottom = std::max(bottom, hi_row);
    }
    plan.window_row[l] = row0;
    plan.lo[l] = static_cast<int>(std::max<std::int64_t>(0, -col0));
    plan.hi[l] = real ? static_cast<int>(std::min<std::int64_t>(step * F::kIn, g.src_w - col0)) : 0;
    plan.window_at[l] = at.image * image + col0 + plan.lo[l];
    if (kWindowLoads) continue;  // the gathers' offsets are not read
    for (int ph = 0; ph < g.phases_in; ++ph)
      for (int e = 0; e < GatherPlan<F>::kPoints; ++e) {
        const std::int64_t row = step * (at.row * F::kOut + e / F::kIn) + ph / 2 - g.off_in;
        const std::int64_t col = step * (at.col * F::kOut + e % F::kIn) + ph % 2 - g.off_in;
        const bool in = real && row >= 0 && row < g.src_h && col >= 0 && col < g.src_w;
        plan.offset[ph][e][l] = static_cast<std::int32_t>(in ? at.image * image + row * g.src_w + col : 0);
        plan.inside[ph][e][l] = in ? 1.f : 0.f;
        plan.inside_bits[ph][e] = (l == 0 ? 0u : plan.inside_bits[ph][e]) | (in ? 1u << l : 0u);
      }
  }
  close_span();
}

// Where V (point, c', tile) has row (point, c'): `row` floats apart per c', `point` apart per point.
struct VLayout {
  std::int64_t row, point;
  float* at(float* v, int pt, std::int64_t c) const { return v + pt * point + c * row; }
};

// V for one group of a chunk: its inputs transformed, stored at rows
// row0 .. row0 + kLanes - 1 (lanes past the group's tiles hold zeros the next group overwrites).
// Channel by channel, all phases of one together, so its planes stay in L1.
template <class F>
void transform_inputs(float* vbuf, const VLayout& vl, std::int64_t row0, const float* src, const Geometry& g,
                      const GatherPlan<F>& plan) {
  constexpr int points = GatherPlan<F>::kPoints;
  const std::int64_t plane = g.src_h * g.src_w;
#if defined(__AVX512F__)
  // Each tile's window rows loaded (zero outside the plane) and turned lanes-as-tiles by 16x16
  // transposes: 16 loads and 64 shuffles per window row against a gather per input, which took
  // ~30 cycles each on Zen 4 (18 % of shape 2's forward).
  const int step = step_of(g.phases_in), side = step * F::kIn;
  alignas(64) float window[2 * F::kIn][16][16];  // [window row][window column][lane]
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#endif
  for (std::int64_t c = 0; c < g.src_c; ++c) {
    const float* base = src + c * plane;
    // The next channel's windows into L1 while this one is transformed: they are scattered over
    // the group's images, so the hardware prefetchers miss them, and the window loads waited on
    // L3 for over half of this function's time (shape 2's forward, Zen 5).
    if (c + 1 < g.src_c)
      for (int k = 0; k < plan.spans; ++k) prefetch_run(base + plane + plan.span_at[k], plan.span_len[k]);
#if defined(__AVX512F__)
    if constexpr (kWindowLoads) {
      for (int rho = 0; rho < side; ++rho) {
        __m512 r[16];
        for (int l = 0; l < 16; ++l) {
          const std::int64_t row = plan.window_row[l] + rho;
          const int lo = plan.lo[l], n = plan.hi[l] - lo;
          r[l] = _mm512_setzero_ps();
          if (n <= 0 || row < 0 || row >= g.src_h) continue;
          r[l] = _mm512_maskz_loadu_ps(lane_range(0, n), base + plan.window_at[l] + row * g.src_w);
          if (lo > 0)  // a window past the plane's left edge: its columns from lo on
            r[l] = _mm512_maskz_permutexvar_ps(lane_range(lo, 16), _mm512_sub_epi32(iota, _mm512_set1_epi32(lo)), r[l]);
        }
        transpose16(r);
        for (int k = 0; k < side; ++k) _mm512_store_ps(window[rho][k], r[k]);
      }
    }
#endif
    for (int ph = 0; ph < g.phases_in; ++ph) {
      Vec d[points];
#if defined(__AVX512F__)
      if constexpr (kWindowLoads) {
        for (int e = 0; e < points; ++e)
          d[e] = Vec::load_aligned(window[step * (e / F::kIn) + ph / 2][step * (e % F::kIn) + ph % 2]);
      } else
#endif
        for (int e = 0; e < points; ++e)
          d[e] = masked_gather(base, plan.offset[ph][e], plan.inside[ph][e], plan.inside_bits[ph][e]);
      for (int col = 0; col < F::kIn; ++col) F::input_1d(d + col, F::kIn);  // down columns
      for (int row = 0; row < F::kIn; ++row) F::input_1d(d + row * F::kIn, 1);  // along rows
      const std::int64_t cc = c * g.phases_in + ph;
      for (int pt = 0; pt < points; ++pt) d[pt].store_unaligned(vl.at(vbuf, pt, cc) + row0);
    }
  }
}

#if defined(__AVX512F__)
// The 4x4 outputs y[pixel][lane] of F(4x4, 2x2)'s forward (phases_out == 1) for output channels
// o0 .. o0 + 15 at tile `at` into their image of dst (+ bias, or added): lane l is channel o0 + l,
// so each row of the tile holds 4 adjacent outputs of one row for each of 16 channels. They go as
// 64 masked stores of 4 floats after a 4 x 16 transpose, instead of 16 masked scatters of 16 lanes.
inline void store_tile_plain_avx512(float* dst, const float (*y)[16], const Geometry& g, const TilePlace& at,
                                    std::int64_t o0, const float* bias, bool accumulate) {
  constexpr int kOut = 4;
  const std::int64_t h = g.dst_h, w = g.dst_w, off = g.off_out;
  const std::int64_t col0 = kOut * at.col - off;  // output column of the tile's first pixel
  const std::int64_t lo = std::max<std::int64_t>(0, -col0), hi = std::min<std::int64_t>(kOut, w - col0);
  if (hi <= lo) return;
  // A row's lanes [lo, hi) moved to the front, to be stored from column col0 + lo.
  const __m128i front = _mm_min_epi32(_mm_add_epi32(_mm_set1_epi32(static_cast<int>(lo)), _mm_setr_epi32(0, 1, 2, 3)),
                                      _mm_set1_epi32(3));
  const __mmask8 cols = static_cast<__mmask8>((1u << (hi - lo)) - 1);
  const int channels = static_cast<int>(std::min<std::int64_t>(16, g.dst_c - o0));
  const std::int64_t plane = h * w;
  float* first = dst + (at.image * g.dst_c + o0) * plane + col0 + lo;
  for (int i = 0; i < kOut; ++i) {
    const std::int64_t r = kOut * at.row + i - off;
    if (r < 0 || r >= h) continue;
    const __m512 y0 = _mm512_load_ps(y[i * kOut]), y1 = _mm512_load_ps(y[i * kOut + 1]);
    const __m512 y2 = _mm512_load_ps(y[i * kOut + 2]), y3 = _mm512_load_ps(y[i * kOut + 3]);
    const __m512d a = _mm512_castps_pd(unpacklo(y0, y1)), b = _mm512_castps_pd(unpackhi(y0, y1));
    const __m512d c = _mm512_castps_pd(unpacklo(y2, y3)), d = _mm512_castps_pd(unpackhi(y2, y3));
    // 128-bit block q of rows[k] is channel 4q + k's 4 pixels
    alignas(64) float rows[4][16];
    _mm512_store_ps(rows[0], _mm512_castpd_ps(unpacklo(a, c)));
    _mm512_store_ps(rows[1], _mm512_castpd_ps(unpackhi(a, c)));
    _mm512_store_ps(rows[2], _mm512_castpd_ps(unpacklo(b, d)));
    _mm512_store_ps(rows[3], _mm512_castpd_ps(unpackhi(b, d)));
    float* row = first + r * w;
    for (int l = 0; l < channels; ++l) {
      __m128 v = _mm_permutevar_ps(_mm_load_ps(rows[l % 4] + 4 * (l / 4)), front);
      if (bias) v = _mm_add_ps(v, _mm_set1_ps(bias[o0 + l]));
      float* out = row + l * plane;
      if (accumulate) v = _mm_add_ps(v, _mm_maskz_loadu_ps(cols, out));
      _mm_mask_storeu_ps(out, cols, v);
    }
  }
}

// The same for F(4x4, 2x2)'s data gradient (phases_out == 4): lane l is channel
// o0 / 4 + l / 4, row phase (l / 2) % 2, column phase l % 2, so a tile row's 4 pixels carry, for
// each of the 4 channels and 2 row phases, 8 adjacent outputs of one dx row (column 2j + q). They
// go as 32 masked stores of 8 floats after a 64-bit transpose, instead of 16 scatters of 16
// lanes that wrote 8 cache lines each.
inline void store_tile_phased_avx512(float* dst, const float (*y)[16], const Geometry& g, const TilePlace& at,
                                     std::int64_t o0, const float* bias, bool accumulate) {
  constexpr int kOut = 4;
  const std::int64_t h = g.dst_h, w = g.dst_w, off = g.off_out;
  const std::int64_t col0 = 2 * kOut * at.col - off;  // dx column of the tile's first output
  const std::int64_t lo = std::max<std::int64_t>(0, -col0), hi = std::min<std::int64_t>(2 * kOut, w - col0);
  if (hi <= lo) return;
  // The segment's lanes [lo, hi) moved to the front, to be stored from column col0 + lo.
  const __m256i front = _mm256_min_epi32(
      _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(lo)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
      _mm256_set1_epi32(7));
  const __mmask8 cols = static_cast<__mmask8>((1u << (hi - lo)) - 1);
  const __m512i pairs_01 = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i pairs_23 = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  const std::int64_t c0 = o0 / 4, plane = h * w;
  float* image = dst + at.image * g.dst_c * plane;
  for (int i = 0; i < kOut; ++i) {
    __m512d d[kOut];
    for (int j = 0; j < kOut; ++j) d[j] = _mm512_castps_pd(_mm512_load_ps(y[i * kOut + j]));
    // 64-bit element m of d[j] is (channel m / 2, row phase m % 2) at columns 2j, 2j + 1.
    __m512d seg[2][2];  // [row phase][channels 0-1 | 2-3]: two 8-float segments each
    for (int p = 0; p < 2; ++p) {
      const __m512d a = p ? unpackhi(d[0], d[1]) : unpacklo(d[0], d[1]);
      const __m512d b = p ? unpackhi(d[2], d[3]) : unpacklo(d[2], d[3]);
      seg[p][0] = _mm512_permutex2var_pd(a, pairs_01, b);
      seg[p][1] = _mm512_permutex2var_pd(a, pairs_23, b);
    }
    for (int p = 0; p < 2; ++p) {
      const std::int64_t r = 2 * (kOut * at.row + i) + p - off;
      if (r < 0 || r >= h) continue;
      for (int k = 0; k < 4; ++k) {
        const std::int64_t c = c0 + k;
        if (c >= g.dst_c) break;
        const __m512d two = seg[p][k / 2];
        __m256 v = _mm256_castpd_ps(k % 2 ? _mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xF, two, 1)
                                                : _mm512_castpd512_pd256(two));
        v = _mm256_permutexvar_ps(front, v);
        if (bias) v = _mm256_add_ps(v, _mm256_set1_ps(bias[c]));
        float* out = image + c * plane + r * w + col0 + lo;
        if (accumulate) v = _mm256_add_ps(v, _mm256_maskz_loadu_ps(cols, out));
        _mm256_mask_storeu_ps(out, cols, v);
      }
    }
  }
}
#endif

// The kOut x kOut outputs (A^T M A) of chunk row `row`, tile `tile`, for output channel block
// ob, from M (point, chunk tile, kBlock), written to dst: + dst when accumulate, + bias(o' /
// phases_out) when bias.
template <class F>
void scatter_outputs(float* dst, const float* mbuf, const Geometry& g, std::int64_t tile, std::int64_t row,
                     std::int64_t ob, const float* bias, bool accumulate) {
  constexpr int points = F::kIn * F::kIn, out = F::kOut;
  const std::int64_t yc = g.out_channels();
  const TilePlace at = place_of(g, tile);
  const int step = step_of(g.phases_out);
  for (int v = 0; v < kVecs; ++v) {
    const std::int64_t o0 = ob * kBlock + v * kLanes;
    if (o0 >= yc) return;
    Vec m[points], t[out * F::kIn];
    alignas(64) float y[out * out][kLanes];
    for (int pt = 0; pt < points; ++pt)
      m[pt] = Vec::load_aligned(mbuf + (pt * kChunkTiles + row) * kBlock + v * kLanes);
    for (int col = 0; col < F::kIn; ++col) F::output_1d(t + col, m + col, F::kIn, F::kIn);
    for (int r = 0; r < out; ++r) {
      Vec pixels[out];
      F::output_1d(pixels, t + r * F::kIn, 1, 1);
      for (int j = 0; j < out; ++j) pixels[j].store_aligned(y[r * out + j]);
    }
#if defined(__AVX512F__)
    if constexpr (kLanes == 16 && out == 4) {  // F(2x2, 3x3) stores rows of tiles (conv_winograd_rows.hpp)
      if (g.phases_out == 4)
        store_tile_phased_avx512(dst, y, g, at, o0, bias, accumulate);
      else
        store_tile_plain_avx512(dst, y, g, at, o0, bias, accumulate);
      continue;
    }
#endif
    float* image = dst + at.image * g.dst_c * g.dst_h * g.dst_w;
    for (int l = 0; l < kLanes && o0 + l < yc; ++l) {
      const std::int64_t c = (o0 + l) / g.phases_out, ph = (o0 + l) % g.phases_out;
      float* plane = image + c * g.dst_h * g.dst_w;
      const float add = bias ? bias[c] : 0.f;
      for (int i = 0; i < out; ++i) {
        const std::int64_t rr = step * (at.row * out + i) + ph / 2 - g.off_out;
        if (rr < 0 || rr >= g.dst_h) continue;
        for (int j = 0; j < out; ++j) {
          const std::int64_t cc = step * (at.col * out + j) + ph % 2 - g.off_out;
          if (cc < 0 || cc >= g.dst_w) continue;
          float& o = plane[rr * g.dst_w + cc];
          o = (accumulate ? o : 0.f) + y[i * out + j][l] + add;
        }
      }
    }
  }
}

}  // namespace winograd
}  // namespace direct
}  // namespace kernels
}  // namespace gan
