#pragma once
// The AVX-512 data movement of F(2x2, 3x3) (kernels/conv_winograd.hpp), whose tiles go in groups
// of up to 16 along one row of tiles: there the lanes' inputs are every other float of a plane's
// row, and the lanes' outputs fill whole runs of an output row. So the inputs come from masked
// loads and permutes instead of gathers, and the outputs go through 16x16 transposes to plain
// masked stores instead of scatters (conv_winograd_tiles.hpp has the general versions).

#include <algorithm>
#include <cstdint>

#include "gan/kernels/conv_winograd_tiles.hpp"

#if defined(__AVX512F__)

namespace gan {
namespace kernels {
namespace direct {
namespace winograd {

// F(2x2, 3x3)'s transform_inputs for a group of tiles in one row of tiles, tile columns
// col0 .. col0 + lanes - 1 (lanes <= 16): there the lanes' inputs are every other float of a
// row, so each row of the tiles takes four masked loads and four permutes instead of four
// gathers (the gathers took 39 % of a 64 -> 64 channel 28x28 forward).
inline void transform_row_avx512(float* vbuf, const VLayout& vl, std::int64_t row0, const float* src,
                                 const Geometry& g, const TilePlace& at) {
  using F = F2x2_3x3;
  const std::int64_t zc = g.in_channels(), plane = g.src_h * g.src_w;
  const std::int64_t first_col = 2 * at.col - g.off_in;
  // Load k covers columns first_col + start[k] + 0..15; lanes outside the plane read nothing.
  constexpr int start[4] = {0, 16, 2, 18};
  __mmask16 in_plane[4];
  for (int k = 0; k < 4; ++k) {
    const std::int64_t c0 = first_col + start[k];
    const std::int64_t lo = std::clamp<std::int64_t>(-c0, 0, 16), hi = std::clamp<std::int64_t>(g.src_w - c0, 0, 16);
    in_plane[k] = static_cast<__mmask16>(hi > lo ? ((1u << hi) - 1) & ~((1u << lo) - 1) : 0u);
  }
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const float* image = src + at.image * g.src_c * plane;
  // The plane columns the group reads, and its rows in the plane (see transform_inputs' prefetch).
  const std::int64_t read_lo = std::max<std::int64_t>(0, first_col);
  const std::int64_t read_n = std::min<std::int64_t>(g.src_w, first_col + start[3] + 16) - read_lo;
  const std::int64_t top = std::max<std::int64_t>(0, 2 * at.row - g.off_in);
  const std::int64_t bottom = std::min<std::int64_t>(g.src_h, 2 * at.row - g.off_in + F::kIn);
  for (std::int64_t c = 0; c < zc; ++c) {
    if (c + 1 < zc)
      for (std::int64_t row = top; row < bottom; ++row)
        prefetch_run(image + (c + 1) * plane + row * g.src_w + read_lo, read_n);
    Vec d[16];
    for (int er = 0; er < F::kIn; ++er) {
      const std::int64_t row = 2 * at.row + er - g.off_in;
      if (row < 0 || row >= g.src_h) {
        for (int ec = 0; ec < F::kIn; ++ec) d[er * F::kIn + ec] = Vec(0.f);
        continue;
      }
      // The row's address as an integer: first_col may be -1 or -2, before the tensor's start.
      const std::uintptr_t at_row = reinterpret_cast<std::uintptr_t>(image + c * plane + row * g.src_w);
      __m512 v[4];
      for (int k = 0; k < 4; ++k) {
        const auto* from = reinterpret_cast<const float*>(at_row + (first_col + start[k]) * std::intptr_t{4});
        v[k] = _mm512_maskz_loadu_ps(in_plane[k], from);
      }
      d[er * 4 + 0] = _mm512_permutex2var_ps(v[0], even, v[1]);
      d[er * 4 + 1] = _mm512_permutex2var_ps(v[0], odd, v[1]);
      d[er * 4 + 2] = _mm512_permutex2var_ps(v[2], even, v[3]);
      d[er * 4 + 3] = _mm512_permutex2var_ps(v[2], odd, v[3]);
    }
    for (int col = 0; col < F::kIn; ++col) F::input_1d(d + col, F::kIn);
    for (int row = 0; row < F::kIn; ++row) F::input_1d(d + row * F::kIn, 1);
    for (int pt = 0; pt < 16; ++pt) d[pt].store_unaligned(vl.at(vbuf, pt, c) + row0);
  }
}

// 128-bit lanes of a and b picked by kImm, as _mm512_shuffle_f32x4 (see transpose_16x16).
template <int kImm>
__m512 lanes128(__m512 a, __m512 b) {
  return _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, b, kImm);
}

// r[i][j] -> r[j][i]: unpack pairs of rows, then 4x4 blocks within 128-bit lanes, then the
// 128-bit lanes across four vectors. (The masked forms with every lane set: GCC 12's plain
// ones start from an undefined vector that -Wall reports as uninitialised.)
inline void transpose_16x16(__m512* r) {
  constexpr __mmask16 all = 0xFFFF;
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_mask_unpacklo_ps(r[2 * i], all, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_mask_unpackhi_ps(r[2 * i], all, r[2 * i], r[2 * i + 1]);
  }
  // u[4i + j], 128-bit lane L: column 4L + j of rows 4i .. 4i + 3
  for (int i = 0; i < 4; ++i) {
    const __m512 a = t[4 * i], b = t[4 * i + 1], c = t[4 * i + 2], d = t[4 * i + 3];
    u[4 * i + 0] = _mm512_mask_shuffle_ps(a, all, a, c, 0x44);
    u[4 * i + 1] = _mm512_mask_shuffle_ps(a, all, a, c, 0xEE);
    u[4 * i + 2] = _mm512_mask_shuffle_ps(b, all, b, d, 0x44);
    u[4 * i + 3] = _mm512_mask_shuffle_ps(b, all, b, d, 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512 v0 = lanes128<0x44>(u[j], u[4 + j]), v1 = lanes128<0xEE>(u[j], u[4 + j]);
    const __m512 v2 = lanes128<0x44>(u[8 + j], u[12 + j]), v3 = lanes128<0xEE>(u[8 + j], u[12 + j]);
    r[j] = lanes128<0x88>(v0, v2), r[4 + j] = lanes128<0xDD>(v0, v2);
    r[8 + j] = lanes128<0x88>(v1, v3), r[12 + j] = lanes128<0xDD>(v1, v3);
  }
}

// F(2x2, 3x3)'s scatter_outputs for a group of `lanes` tiles in one row of tiles, from chunk row
// row0 on, output channel block ob: 8 tiles at a time make two output rows of 16 pixels x 16
// channels, transposed into 16 channel rows each.
inline void store_row_group_avx512(float* dst, const float* mbuf, const Geometry& g, const TilePlace& at, int lanes,
                                   std::int64_t row0, std::int64_t ob, const float* bias, bool accumulate) {
  using F = F2x2_3x3;
  constexpr int points = F::kIn * F::kIn;
  const std::int64_t yc = g.out_channels(), plane = g.dst_h * g.dst_w;
  float* image = dst + at.image * g.dst_c * plane;
  for (int v = 0; v < kVecs; ++v) {
    const std::int64_t o0 = ob * kBlock + v * kLanes;
    if (o0 >= yc) return;
    const int channels = static_cast<int>(std::min<std::int64_t>(kLanes, yc - o0));
    const __m512 add = bias ? _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << channels) - 1), bias + o0)
                            : _mm512_setzero_ps();
    for (int first = 0; first < lanes; first += 8) {
      const int tiles = std::min(8, lanes - first);
      __m512 rows[F::kOut][16];  // output row i, column 2t + j of the 8 tiles; lanes = channels
      for (int t = 0; t < 8; ++t) {
        Vec m[points], cols[F::kOut * F::kIn], y[F::kOut];
        if (t >= tiles) {
          for (int i = 0; i < F::kOut; ++i) rows[i][2 * t] = rows[i][2 * t + 1] = _mm512_setzero_ps();
          continue;
        }
        const float* from = mbuf + (row0 + first + t) * kBlock + v * kLanes;
        for (int pt = 0; pt < points; ++pt) m[pt] = Vec::load_aligned(from + pt * kChunkTiles * kBlock);
        for (int col = 0; col < F::kIn; ++col) F::output_1d(cols + col, m + col, F::kIn, F::kIn);
        for (int i = 0; i < F::kOut; ++i) {
          F::output_1d(y, cols + i * F::kIn, 1, 1);
          rows[i][2 * t] = _mm512_add_ps(y[0], add), rows[i][2 * t + 1] = _mm512_add_ps(y[1], add);
        }
      }
      const std::int64_t col0 = F::kOut * (at.col + first) - g.off_out;
      const std::int64_t width = std::min<std::int64_t>(2 * tiles, g.dst_w - col0);
      const __mmask16 in_row = static_cast<__mmask16>((1u << width) - 1);
      for (int i = 0; i < F::kOut; ++i) {
        const std::int64_t row = F::kOut * at.row + i - g.off_out;
        if (row >= g.dst_h) break;
        transpose_16x16(rows[i]);
        for (int c = 0; c < channels; ++c) {
          float* out = image + (o0 + c) * plane + row * g.dst_w + col0;
          __m512 r = rows[i][c];
          if (accumulate) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(in_row, out));
          _mm512_mask_storeu_ps(out, in_row, r);
        }
      }
    }
  }
}

}  // namespace winograd
}  // namespace direct
}  // namespace kernels
}  // namespace gan

#endif
