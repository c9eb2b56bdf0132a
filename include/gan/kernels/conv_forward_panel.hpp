#pragma once
// The float forward pass of a conv with few input channels into many output channels: an
// image into a discriminator's first layer, or an SRCNN's 9x9 feature layer (issue 5's shapes
// 1 and 9; on AVX-512, stride 1 with a 5 to 9 wide kernel goes to the row tiles of
// kernels/conv_forward_rows.hpp instead, which skip the padding taps). Its reduction is short
// (input channels x taps, 16 or 81), so the channel-blocked path of
// kernels/conv_forward_direct.hpp spends much of each tile transposing pixel-major
// results into NCHW, and the pixel-vector path computes wide rows, 8 dropped columns in every
// 41 for shape 9. Here the reduction is laid out as a panel instead (im2row): for a strip of
// output pixels, one panel row per (input channel, tap) holds the strip's inputs under that
// tap, dense across output rows. A tile multiplies the panel by the weights of a few output
// channels, with vectors along the output pixels, and stores straight into y's planes: no
// transpose, no dropped columns. Two layouts of the panel:
//  - stride 1: none copied. Each image is laid out once as shifted planes (its padded plane
//    shifted by each tap column), where every panel row of every strip is a contiguous run,
//    read in place;
//  - other strides: packed per strip from the image's stride-phase planes (every tap of an
//    output row is one contiguous run there), serving every channel tile.
// Against the channel-blocked path on Zen 5 (AVX-512, 1 thread, 3 interleaved pairs): shape 1
// +32-37 %, shape 9 +6-24 %, shape 4's data gradient (the same pass) +43 %; 2 threads even
// to +11 % (all packed). Shifted planes against packing, shape 9: +4 % on 1 thread, +14 % on 2.
// Against the pixel-vector path in an AVX2 build on the same machine: +52-65 % (packed).
//
//   panel_tile:  y[c][p] = bias[c] + sum_k panel[k][p] * w[k][c]   (c < CO, p < RA vectors)

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_layout.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"

namespace gan {
namespace kernels {
namespace direct {

// Where a panel's rows lie: `groups` runs of `per_group` rows, row t of group g at
// group_offset[g] + t * stride floats from the strip's first pixel. A constant stride inside
// a group keeps the tile's inner loop free of table loads (+3-5 % on shape 1 over a table
// of every row).
struct PanelRows {
  const std::int64_t* group_offset;
  int groups, per_group;
  std::int64_t stride;
};

// out: channel c's RA vectors at out + c * out_stride (any alignment), the last one only
// `tail` lanes long (1 <= tail <= kLanes); the first `channels` of the CO are stored.
// Panel row k (of groups * per_group): RA vectors at panel + its offset (any alignment);
// w: (K, CO).
template <int CO, int RA>
void panel_tile(float* out, std::int64_t out_stride, int channels, int tail, const float* panel,
                const PanelRows& rows, const float* w, const float* bias, bool accumulate) {
  // Every loop over acc is unrolled to constant indices: with one left rolled (the zeroing, or
  // the stores up to `channels`) GCC kept acc in memory, zeroed, spilled and reloaded around
  // the reduction, which for shape 1's 16 taps per tile cost 15 % (68 -> 81 GFLOP/s, 1 thread).
  Vec acc[CO][RA];
#pragma GCC unroll 16
  for (int c = 0; c < CO; ++c)
#pragma GCC unroll 16
    for (int v = 0; v < RA; ++v) acc[c][v] = Vec(0.f);
  for (int g = 0; g < rows.groups; ++g) {
    const float* row = panel + rows.group_offset[g];
    for (int t = 0; t < rows.per_group; ++t, row += rows.stride, w += CO) {
      Vec wb[CO];
      for (int c = 0; c < CO; ++c) wb[c] = Vec(w[c]);
#pragma GCC unroll 16
      for (int v = 0; v < RA; ++v) {
        Vec xv = Vec::load_unaligned(row + v * kLanes);
        if constexpr (CO > 1) in_register(xv);
        for (int c = 0; c < CO; ++c) acc[c][v] = xsimd::fma(xv, wb[c], acc[c][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int c = 0; c < CO; ++c) {
    if (c == channels) break;
    const Vec b(bias ? bias[c] : 0.f);
    float* d = out + c * out_stride;
#pragma GCC unroll 16
    for (int v = 0; v + 1 < RA; ++v) {
      Vec r = acc[c][v] + b;
      if (accumulate) r += Vec::load_unaligned(d + v * kLanes);
      r.store_unaligned(d + v * kLanes);
    }
    float* last = d + (RA - 1) * kLanes;
    const Vec r = acc[c][RA - 1] + b;
#if GAN_CONV_AVX512
    if (kLanes == 16) {
      masked_put(last, lane_range(0, tail), r, accumulate);
      continue;
    }
#endif
    alignas(64) float lanes[kLanes];
    r.store_aligned(lanes);
    for (int l = 0; l < tail; ++l) last[l] = accumulate ? last[l] + lanes[l] : lanes[l];
  }
}

using PanelTileFn = void (*)(float*, std::int64_t, int, int, const float*, const PanelRows&, const float*,
                             const float*, bool);

// Output channels and pixel vectors per panel tile: 16 accumulators of AVX-512's 32
// registers, 12 of AVX2's 16. On Zen 5, 4 x 6 against 4 x 4 with shifted planes for both
// shapes: -2 to +3 % (3 pairs). With a panel packed per strip, 4 x 6 was the same on 1 thread
// and 7-21 % slower on 2 (a larger panel); 4 x 5, 6 x 4 and 4 x 3 up to 8 % slower than 4 x 4.
inline constexpr int kPanelCo = kRegs >= 32 ? 4 : 2;
inline constexpr int kPanelVecs = kRegs >= 32 ? 4 : 6;

// The kPanelCo x ra tile, 1 <= ra <= kPanelVecs.
inline PanelTileFn panel_tile_fn(int ra) {
  static constexpr auto table =
      instances<kPanelVecs>([](auto ra) { return &panel_tile<kPanelCo, decltype(ra)::value>; });
  return table[ra - 1];
}

// Whether the panel path takes a forward pass: few input channels (the reduction is their
// taps alone) into enough output channels to fill the tiles.
inline bool forward_panel_preferred(const ConvShape& s) {
  return s.in_c < 4 && s.out_c >= 4 * kPanelCo && s.dilation_h == 1 && s.dilation_w == 1;
}

// The part of a panel forward both layouts share: the weights packed in groups of kPanelCo
// output channels, the image's pixel vectors cut into strips (near-equal runs of at most
// kPanelVecs), and the tiles of one strip over a panel laid out either way.
class PanelStrips {
 public:
  // Taps in w's order (input channel, kernel row, column), or with kernel_rows_outer in the order
  // (kernel row, input channel, column), so that a run of kernel rows is a run of taps.
  PanelStrips(const float* w, const float* b, const ConvShape& s, std::int64_t oh, std::int64_t ow,
              bool kernel_rows_outer = false)
      : b_(b),
        oc_n_(s.out_c),
        k_n_(s.in_c * s.kernel_h * s.kernel_w),
        ncb_((s.out_c + kPanelCo - 1) / kPanelCo),
        pix_(oh * ow),
        nvec_((pix_ + kLanes - 1) / kLanes),
        strips_((nvec_ + kPanelVecs - 1) / kPanelVecs),
        weights_(Tensor<float>::empty(Shape{ncb_ * k_n_ * kPanelCo})) {  // (OC / co, IC * taps, co)
    Tensor<float> reordered = Tensor<float>::empty(Shape{kernel_rows_outer && s.in_c > 1 ? oc_n_ * k_n_ : 0});
    if (reordered.numel() > 0) {
      const std::int64_t ic_n = s.in_c, kh_n = s.kernel_h, kw_n = s.kernel_w;
      for (std::int64_t oc = 0; oc < oc_n_; ++oc)
        for (std::int64_t ic = 0; ic < ic_n; ++ic)
          for (std::int64_t ky = 0; ky < kh_n; ++ky)
            std::copy_n(w + oc * k_n_ + (ic * kh_n + ky) * kw_n, kw_n,
                        reordered.data() + oc * k_n_ + (ky * ic_n + ic) * kw_n);
      w = reordered.data();
    }
    pack_channel_groups(weights_.data(), w, oc_n_, k_n_, kPanelCo);
  }

  std::int64_t taps() const { return k_n_; }
  std::int64_t strips() const { return strips_; }
  std::int64_t first_vector(std::int64_t st) const { return st * (nvec_ / strips_) + std::min(st, nvec_ % strips_); }

  // The first and one-past-last output pixel of strip st.
  std::int64_t first_pixel(std::int64_t st) const { return first_vector(st) * kLanes; }
  std::int64_t end_pixel(std::int64_t st) const { return std::min(pix_, first_vector(st + 1) * kLanes); }

  // Image n's output pixels of strip st, from its panel (rows at panel + their offsets), whose
  // rows are the taps from first_tap on.
  void multiply(float* y, std::int64_t n, std::int64_t st, const float* panel, const PanelRows& rows,
                bool accumulate, std::int64_t first_tap = 0) const {
    const std::int64_t v0 = first_vector(st), v1 = first_vector(st + 1);
    const int tail = static_cast<int>(std::min<std::int64_t>(kLanes, pix_ - (v1 - 1) * kLanes));
    const PanelTileFn tile = panel_tile_fn(static_cast<int>(v1 - v0));
    for (std::int64_t cb = 0; cb < ncb_; ++cb) {
      const std::int64_t oc0 = cb * kPanelCo;
      const int channels = static_cast<int>(std::min<std::int64_t>(kPanelCo, oc_n_ - oc0));
      tile(y + (n * oc_n_ + oc0) * pix_ + v0 * kLanes, pix_, channels, tail, panel, rows,
           weights_.data() + (cb * k_n_ + first_tap) * kPanelCo, b_ ? b_ + oc0 : nullptr, accumulate);
    }
  }

 private:
  const float* b_;
  std::int64_t oc_n_, k_n_, ncb_, pix_, nvec_, strips_;
  Tensor<float> weights_;
};

// Stride 1: the tiles read the panel in place from shifted planes, one per (input channel, tap
// column kx): the padded plane's rows shifted by kx, oh + kh - 1 rows of ow,
// T[i][j] = x[i - pad_h][j + kx - pad_w], then zeros that vectors past the last pixel read.
// Tap (ic, ky, kx) of output pixel p (= i*ow + j) is T(ic, kx) at p + ky*ow, so each strip's
// panel row is one contiguous run. (Strided, the same idea takes a plane per row phase too,
// each serving kh / stride taps. For shape 1 that was 7-14 % slower than packing on 1 thread
// and ~9 % faster on 2, but 14-21 % slower in an AVX2 build.)
inline void conv_forward_shifted_planes(float* y, const float* x, const PanelStrips& ps, const ConvShape& s,
                                        std::int64_t oh, std::int64_t ow, bool accumulate) {
  const std::int64_t ic_n = s.in_c, kh_n = s.kernel_h, kw_n = s.kernel_w, rows = oh + kh_n - 1;
  const std::int64_t plane = (rows * ow + 2 * kLanes - 1) / kLanes * kLanes;
  std::vector<std::int64_t> group_offset(static_cast<std::size_t>(kh_n * ic_n));  // (ky, ic); then kx
  for (std::int64_t ky = 0; ky < kh_n; ++ky)
    for (std::int64_t ic = 0; ic < ic_n; ++ic)
      group_offset[static_cast<std::size_t>(ky * ic_n + ic)] = ic * kw_n * plane + ky * ow;
  // Per strip, the kernel rows [ky0, ky1) that read the image for some of its output rows: the
  // others read only padding rows (zeros), and with the groups in kernel-row order they are cut
  // off the strip's tap run. Shape 9 (k9 p4 on 33x33): 108.5 -> 115.0 GFLOP/s on 1 thread, +3-6 % on 2
  // (3 interleaved pairs, Zen 4).
  std::vector<PanelRows> strip_rows;
  std::vector<std::int64_t> strip_first_tap;
  for (std::int64_t st = 0; st < ps.strips(); ++st) {
    const std::int64_t i0 = ps.first_pixel(st) / ow, i1 = (ps.end_pixel(st) - 1) / ow;
    const std::int64_t ky0 = std::clamp<std::int64_t>(s.pad_h - i1, 0, kh_n);
    const std::int64_t ky1 = std::clamp<std::int64_t>(s.in_h + s.pad_h - i0, ky0, kh_n);
    strip_rows.push_back(PanelRows{group_offset.data() + ky0 * ic_n, static_cast<int>((ky1 - ky0) * ic_n),
                                   static_cast<int>(kw_n), plane});
    strip_first_tap.push_back(ky0 * ic_n * kw_n);
  }
  const std::int64_t x_plane = s.in_h * s.in_w, x_image = ic_n * x_plane;
  for_padded_images(
      team_size(), s.n, ic_n * kw_n, plane, ps.strips(), x, x_image, x_image,
      [&](float* dst, std::int64_t n, std::int64_t q) {
        pad_plane(dst, x + (n * ic_n + q / kw_n) * x_plane, s.in_h, s.in_w, rows, ow, s.pad_h, s.pad_w - q % kw_n);
        std::fill(dst + rows * ow, dst + plane, 0.f);
      },
      [&](std::int64_t n, const float* shifted, std::int64_t st) {
        const auto i = static_cast<std::size_t>(st);
        ps.multiply(y, n, st, shifted + ps.first_pixel(st), strip_rows[i], accumulate, strip_first_tap[i]);
      });
}

// dst[0, n) = src[0, n) in whole vectors: up to kLanes - 1 floats past n are copied too, so
// both ends must have them (the next run or row overwrites them). Masked stores at each
// run's end took a fifth of shape 9's forward.
inline void copy_vectors(float* dst, const float* src, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes) Vec::load_unaligned(src + i).store_unaligned(dst + i);
}

// Other strides: per strip, the panel is packed from the image's stride-phase planes (every
// tap of an output row is one contiguous run there) and serves every channel tile.
inline void conv_forward_packed_panel(float* y, const float* x, const PanelStrips& ps, const ConvShape& s,
                                      std::int64_t oh, std::int64_t ow, bool accumulate) {
  const std::int64_t k_n = ps.taps();
  // Each channel's phase planes end in kLanes zeros that copy_vectors may read.
  const PhaseImage pi(s, oh, ow, kLanes);
  std::vector<std::int64_t> tap(static_cast<std::size_t>(k_n));
  for (std::int64_t ic = 0; ic < s.in_c; ++ic)
    for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
      for (std::int64_t kw = 0; kw < s.kernel_w; ++kw)
        tap[static_cast<std::size_t>((ic * s.kernel_h + kh) * s.kernel_w + kw)] = ic * pi.chan + pi.tap(kh, kw);
  // Each strip's output rows are runs (panel column, phase-plane offset, length), the same for
  // every tap, in column order (each one's overspill is the next one's start).
  struct Run {
    std::int64_t col, src, len;
  };
  std::vector<std::size_t> strip_runs{0};  // strip st's runs: [strip_runs[st], strip_runs[st + 1])
  std::vector<Run> runs;
  for (std::int64_t st = 0; st < ps.strips(); ++st) {
    const std::int64_t p0 = ps.first_pixel(st), p1 = ps.end_pixel(st);
    for (std::int64_t p = p0; p < p1;) {
      const std::int64_t i = p / ow, j = p % ow, len = std::min(ow - j, p1 - p);
      runs.push_back({p - p0, i * pi.wq + j, len});
      p += len;
    }
    strip_runs.push_back(runs.size());
  }
  // Per thread: a panel and the kLanes floats its last row's copies may spill into. Lanes
  // past the image's last pixel hold zeros or copied inputs: computed, never stored.
  const std::int64_t panel_stride = kPanelVecs * kLanes, panel_size = k_n * panel_stride + kLanes;
  const std::int64_t first_row = 0;
  const PanelRows rows_at{&first_row, 1, static_cast<int>(k_n), panel_stride};
  const int threads = team_size();
  ThreadSlots panels(threads, panel_size, true);
  for_phase_images(threads, s, pi, x, ps.strips(), [&](std::int64_t n, const float* xq, std::int64_t st) {
    float* panel = panels.mine(threads);
    const Run* r0 = runs.data() + strip_runs[static_cast<std::size_t>(st)];
    const Run* r1 = runs.data() + strip_runs[static_cast<std::size_t>(st + 1)];
    // Row by row, in column order: each copy's overspill is rewritten by the next one.
    for (std::int64_t k = 0; k < k_n; ++k) {
      const float* src = xq + tap[static_cast<std::size_t>(k)];
      float* row = panel + k * panel_stride;
      for (const Run* r = r0; r < r1; ++r) copy_vectors(row + r->col, src + r->src, r->len);
    }
    ps.multiply(y, n, st, panel, rows_at, accumulate);
  });
}

// y = conv(x, w) + b (b may be null), or y += conv(x, w) + b when accumulate, as conv_forward.
inline void conv_forward_panel(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                               std::int64_t oh, std::int64_t ow, bool accumulate) {
  const bool shifted_planes = s.stride_h == 1 && s.stride_w == 1;
  const PanelStrips ps(w, b, s, oh, ow, shifted_planes);
  if (shifted_planes)
    conv_forward_shifted_planes(y, x, ps, s, oh, ow, accumulate);
  else
    conv_forward_packed_panel(y, x, ps, s, oh, ow, accumulate);
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
