#pragma once
// The stride-1 float forward pass of a conv with few input channels into many output channels
// and a wide kernel: issue 5's shape 9, SRCNN's 9x9 feature layer (1 -> 64 channels, pad 4 on
// 33x33). The panel path (kernels/conv_forward_panel.hpp) runs its vectors along output
// pixels, so every lane takes every tap column, including those that read padding: for shape
// 9 it computes 95.3 % of the counted multiply-adds, where those that read the image are
// 87.0 %. Here the lanes are output channels and a tile is a run of one output row, so every
// input column is multiplied into exactly the pixels whose taps reach it and no padding tap
// is computed. One register transpose per tile turns its pixel vectors into runs of y's
// planes. Shape 9 forward, Zen 4, Google Benchmark, 3 interleaved pairs against the panel:
// 114.9 -> 122.1 GFLOP/s on 1 thread, 224.2 -> 240.5 on 2. AVX-512 only: with AVX2's 16
// registers a 9-wide kernel row would leave 5 accumulators.
//
//   row_tile:  acc[j] += x[u] * w[kx]   for every input column u = j0 + j + kx - pad_w in
//                                        the row, j < P (pixels), kx < K (kernel width)

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_layout.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"

namespace gan {
namespace kernels {
namespace direct {

#if GAN_CONV_AVX512

// f(integral_constant<int, First>), ..., f(integral_constant<int, Last - 1>): loops whose
// indices must be constants, so that every accumulator stays a register.
template <int First, class F, int... I>
inline void unrolled_from(F&& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, First + I>{}), ...);
}
template <int First, int Last, class F>
inline void unrolled(F&& f) {
  if constexpr (Last > First) unrolled_from<First>(f, std::make_integer_sequence<int, Last - First>{});
}

// Kernel widths with row tiles, the odd ones of "same" convs from 5 to 9: narrower kernels
// lose little to padding taps (a 3x3 on 28x28 computes 2.4 % of them per dimension), and
// wider ones leave too few registers.
inline bool row_kernel_width(std::int64_t k) { return k == 5 || k == 7 || k == 9; }
// Pixels per tile: K weights, a broadcast and 16 accumulators fit in 32 registers, and one
// 16x16 transpose stores the whole tile. Shape 9 split as 17 + 16 pixels (two transposes)
// ran as fast as 3 x 11 (Zen 4). Rows are split into near-equal tiles, of 8 to 16 pixels
// when the rows have 8 or more; narrower planes go to the panel path, which keeps the
// instances (and every including file's compile time) down to 9 per kernel width.
inline constexpr int kRowPixelsMin = 8, kRowPixels = 16;

// The tile of P pixels of output row i, from column j0, for the kLanes output channels of one
// block. x: the input row that the first kernel row reads, of input channel 0 (rows x_row,
// channels x_plane floats apart); the tile reads its columns u0 + d for d in [d_lo, d_hi).
// w: the block's weights (in_c, kernel_h, K, kLanes) from the first kernel row read, w_chan
// floats per input channel. out: y at (first channel, i, j0), channel planes out_stride
// apart; the first `channels` lanes are stored.
struct RowTileArgs {
  float* out;
  std::int64_t out_stride;
  int channels;
  const float* x;
  std::int64_t x_row, x_plane;
  int in_c, kernel_rows;
  std::int64_t u0;
  int d_lo, d_hi;
  const float* w;
  std::int64_t w_chan;
  const float* bias;
  bool accumulate;
};

template <int K, int P>
void row_tile(const RowTileArgs& a) {
  const int d_lo = a.d_lo, d_hi = a.d_hi, rows = a.kernel_rows;
  Vec acc[P];
  unrolled<0, P>([&](auto j) { acc[j] = Vec(0.f); });
  for (int ic = 0; ic < a.in_c; ++ic) {
    // Column u0 of the row (u0 < 0 over left padding; only columns from d_lo on are read), so
    // that every broadcast is one load at a constant displacement: indexed x[u0 + d], GCC kept
    // 19 addresses live and spilled them (shape 9, 120 -> 109 GFLOP/s on 1 thread).
    const float* x = a.x + ic * a.x_plane + a.u0;
    const float* w = a.w + ic * a.w_chan;
    for (int r = 0; r < rows; ++r, x += a.x_row, w += K * kLanes) {
      Vec wk[K];
      unrolled<0, K>([&](auto k) { wk[k] = Vec::load_unaligned(w + k * kLanes); });
      // Input column d (from u0) reaches pixels j = d - kx: those with 0 <= d - j < K.
      unrolled<0, P + K - 1>([&](auto d) {
        if (d >= d_lo && d < d_hi) {
          constexpr int dv = decltype(d)::value;
          const Vec xb(x[dv]);
          unrolled<std::max(0, dv - K + 1), std::min(P, dv + 1)>(
              [&](auto j) { acc[j] = xsimd::fma(xb, wk[dv - j], acc[j]); });
        }
      });
    }
  }
  __m512 r[16];
  unrolled<0, 16>([&](auto j) {
    if constexpr (j < P)
      r[j] = acc[j].data;
    else
      r[j] = _mm512_setzero_ps();
  });
  transpose16(r);  // r[c]: channel c's P pixels
  // The stores may alias `a` as far as GCC knows: its fields are read into locals first.
  const __mmask16 pixels = lane_range(0, P);
  const float* bias = a.bias;
  float* out = a.out;
  const std::int64_t out_stride = a.out_stride;
  const bool accumulate = a.accumulate;
  const int channels = a.channels;
  unrolled<0, 16>([&](auto c) {
    if (c >= channels) return;
    __m512 v = r[c];
    if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[c]));
    float* d = out + c * out_stride;
    if (P == 16 && !accumulate)
      _mm512_storeu_ps(d, v);
    else
      masked_put(d, pixels, v, accumulate);
  });
}

using RowTileFn = void (*)(const RowTileArgs&);

// The tile for kernel width k (row_kernel_width) and p pixels (kRowPixelsMin..kRowPixels).
inline RowTileFn row_tile_fn(std::int64_t k, std::int64_t p) {
  constexpr int widths = kRowPixels - kRowPixelsMin + 1, below = kRowPixelsMin - 1;
  static constexpr auto k5 = instances<widths>([](auto p) { return &row_tile<5, decltype(p)::value + below>; });
  static constexpr auto k7 = instances<widths>([](auto p) { return &row_tile<7, decltype(p)::value + below>; });
  static constexpr auto k9 = instances<widths>([](auto p) { return &row_tile<9, decltype(p)::value + below>; });
  const auto& table = k == 5 ? k5 : k == 7 ? k7 : k9;
  return table[static_cast<std::size_t>(p - kRowPixelsMin)];
}

// Whether the row tiles take a forward pass: stride 1, few input channels (their taps are the
// whole reduction), a kernel width with tiles, rows of kRowPixelsMin or more, and output
// channels that fill the lanes of their blocks but for at most an eighth.
inline bool forward_rows_preferred(const ConvShape& s) {
  const std::int64_t lanes = (s.out_c + kLanes - 1) / kLanes * kLanes;
  return s.stride_h == 1 && s.stride_w == 1 && s.dilation_h == 1 && s.dilation_w == 1 && s.in_c < 4 &&
         row_kernel_width(s.kernel_w) && s.out_w() >= kRowPixelsMin && 8 * (lanes - s.out_c) <= s.out_c;
}

// y = conv(x, w) + b (b may be null), or y += conv(x, w) + b when accumulate, as conv_forward.
inline void conv_forward_rows(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                              std::int64_t oh, std::int64_t ow, bool accumulate) {
  const std::int64_t ic_n = s.in_c, kh_n = s.kernel_h, kw_n = s.kernel_w, oc_n = s.out_c;
  const std::int64_t blocks_n = (oc_n + kLanes - 1) / kLanes, taps = kh_n * kw_n;
  const std::int64_t x_plane = s.in_h * s.in_w, y_plane = oh * ow;
  Tensor<float> packed = Tensor<float>::empty(Shape{blocks_n * ic_n * taps * kLanes});  // (OC / 16, IC, KH, KW, 16)
  pack_channel_groups(packed.data(), w, oc_n, ic_n * taps, kLanes);
  const std::int64_t tiles_n = (ow + kRowPixels - 1) / kRowPixels;
  const int threads = team_size();
  // Items: (image, channel block, band of output rows); bands only when images x blocks
  // leave a thread with fewer than 4 items.
  const std::int64_t bands = std::clamp<std::int64_t>(4 * threads / std::max<std::int64_t>(1, s.n * blocks_n), 1, oh);
  parallel_items(threads, s.n * blocks_n * bands, [&](std::int64_t item) {
    const std::int64_t band = item % bands, cb = item / bands % blocks_n, n = item / bands / blocks_n;
    const std::int64_t oc0 = cb * kLanes;
    RowTileArgs a{};
    a.out_stride = y_plane;
    a.channels = static_cast<int>(std::min<std::int64_t>(kLanes, oc_n - oc0));
    a.x_row = s.in_w, a.x_plane = x_plane, a.in_c = static_cast<int>(ic_n);
    a.w_chan = taps * kLanes;
    a.bias = b ? b + oc0 : nullptr;
    a.accumulate = accumulate;
    for (std::int64_t i = band * oh / bands; i < (band + 1) * oh / bands; ++i) {
      // The kernel rows that read the image for output row i; with none, the row is bias.
      const std::int64_t ky0 = std::clamp<std::int64_t>(s.pad_h - i, 0, kh_n);
      const std::int64_t ky1 = std::clamp<std::int64_t>(s.in_h + s.pad_h - i, ky0, kh_n);
      a.kernel_rows = static_cast<int>(ky1 - ky0);
      a.x = x + n * ic_n * x_plane + (ky1 > ky0 ? (i + ky0 - s.pad_h) * s.in_w : 0);
      a.w = packed.data() + (cb * ic_n * taps + ky0 * kw_n) * kLanes;
      for (std::int64_t t = 0, j0 = 0; t < tiles_n; ++t) {
        const std::int64_t p = ow / tiles_n + (t < ow % tiles_n ? 1 : 0);
        a.out = y + (n * oc_n + oc0) * y_plane + i * ow + j0;
        a.u0 = j0 - s.pad_w;
        a.d_lo = static_cast<int>(std::clamp<std::int64_t>(-a.u0, 0, p + kw_n - 1));
        a.d_hi = static_cast<int>(std::clamp<std::int64_t>(s.in_w - a.u0, a.d_lo, p + kw_n - 1));
        row_tile_fn(kw_n, p)(a);
        j0 += p;
      }
    }
  });
}

#endif

}  // namespace direct
}  // namespace kernels
}  // namespace gan
