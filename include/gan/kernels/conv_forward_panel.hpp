#pragma once
// The float forward pass of a conv with few input channels into many output channels: an
// image into a discriminator's first layer, or an SRCNN's 9x9 feature layer (issue 5's shapes
// 1 and 9). Its reduction is short (input channels x taps, 16 or 81), so the channel-blocked
// path of kernels/conv_forward_direct.hpp spends much of each tile transposing pixel-major
// results into NCHW, and the pixel-vector path computes wide rows, 8 dropped columns in every
// 41 for shape 9. Here the reduction is packed instead (im2row): for a strip of output pixels, one
// panel row per (input channel, tap) holds the strip's inputs under that tap, dense across
// output rows. A tile then multiplies the panel by the weights of a few output channels, with
// vectors along the output pixels, and stores straight into y's planes: no transpose, no
// dropped columns. The panel is packed from the image's stride-phase planes (every tap of
// an output row is one contiguous run there), once per strip, and serves every channel tile.
// Against the channel-blocked path on Zen 5 (AVX-512, 1 thread, 3 interleaved pairs): shape 1
// +32-37 %, shape 9 +6-24 %, shape 4's data gradient (the same pass) +43 %; 2 threads even
// to +11 %. Against the pixel-vector path in an AVX2 build on the same machine: +52-65 %.
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

// out: channel c's RA vectors at out + c * out_stride (any alignment), the last one only
// `tail` lanes long (1 <= tail <= kLanes); the first `channels` of the CO are stored.
// panel: K rows, panel_stride floats apart, aligned; w: (K, CO).
template <int CO, int RA>
void panel_tile(float* out, std::int64_t out_stride, int channels, int tail, const float* panel,
                std::int64_t panel_stride, int K, const float* w, const float* bias, bool accumulate) {
  Vec acc[CO][RA];
  for (int c = 0; c < CO; ++c)
    for (int v = 0; v < RA; ++v) acc[c][v] = Vec(0.f);
  for (int k = 0; k < K; ++k, panel += panel_stride, w += CO) {
    Vec wb[CO];
    for (int c = 0; c < CO; ++c) wb[c] = Vec(w[c]);
#pragma GCC unroll 16
    for (int v = 0; v < RA; ++v) {
      Vec xv = Vec::load_aligned(panel + v * kLanes);
      if constexpr (CO > 1) in_register(xv);
      for (int c = 0; c < CO; ++c) acc[c][v] = xsimd::fma(xv, wb[c], acc[c][v]);
    }
  }
  for (int c = 0; c < channels; ++c) {
    const Vec b(bias ? bias[c] : 0.f);
    float* d = out + c * out_stride;
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

using PanelTileFn = void (*)(float*, std::int64_t, int, int, const float*, std::int64_t, int, const float*,
                             const float*, bool);

// Output channels and pixel vectors per panel tile: 16 accumulators of AVX-512's 32
// registers, 12 of AVX2's 16. On Zen 5, 4 x 4 against 4 x 6: the same on 1 thread, shape 1
// +21 % and shape 9 +7 % on 2 (a smaller panel: 81 x 64 floats); 4 x 5, 6 x 4 and 4 x 3 were
// up to 8 % slower than 4 x 4, 8 x 3 12-18 % slower than 4 x 6 (1 pair each).
inline constexpr int kPanelCo = kRegs >= 32 ? 4 : 2;
inline constexpr int kPanelVecs = kRegs >= 32 ? 4 : 6;

// The kPanelCo x ra tile, 1 <= ra <= kPanelVecs.
inline PanelTileFn panel_tile_fn(int ra) {
  static constexpr auto table =
      instances<kPanelVecs>([](auto ra) { return &panel_tile<kPanelCo, decltype(ra)::value>; });
  return table[ra - 1];
}

// dst[0, n) = src[0, n) in whole vectors: up to kLanes - 1 floats past n are copied too, so
// both ends must have them (the next run or row overwrites them). Masked stores at each
// run's end took a fifth of shape 9's forward.
inline void copy_vectors(float* dst, const float* src, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += kLanes) Vec::load_unaligned(src + i).store_unaligned(dst + i);
}

// Whether the panel path takes a forward pass: few input channels (the reduction is their
// taps alone) into enough output channels to fill the tiles.
inline bool forward_panel_preferred(const ConvShape& s) {
  return s.in_c < 4 && s.out_c >= 4 * kPanelCo && s.dilation_h == 1 && s.dilation_w == 1;
}

// y = conv(x, w) + b (b may be null), or y += conv(x, w) + b when accumulate, as conv_forward.
inline void conv_forward_panel(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                               std::int64_t oh, std::int64_t ow, bool accumulate) {
  constexpr int co = kPanelCo;
  const std::int64_t ic_n = s.in_c, oc_n = s.out_c;
  const std::int64_t taps = s.kernel_h * s.kernel_w, k_n = ic_n * taps, ncb = (oc_n + co - 1) / co;
  // Each channel's phase planes end in kLanes zeros that copy_vectors may read.
  const PhaseImage pi(s, oh, ow, kLanes);
  const std::int64_t wq = pi.wq, pix = oh * ow;
  const int threads = team_size();
  Tensor<float> wbuf = Tensor<float>::empty(Shape{ncb * k_n * co});  // (OC / co, IC * taps, co)
  float* wpk = wbuf.data();
  pack_channel_groups(wpk, w, oc_n, k_n, co);
  std::vector<std::int64_t> tap(static_cast<std::size_t>(k_n));
  for (std::int64_t ic = 0; ic < ic_n; ++ic)
    for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
      for (std::int64_t kw = 0; kw < s.kernel_w; ++kw)
        tap[static_cast<std::size_t>((ic * s.kernel_h + kh) * s.kernel_w + kw)] = ic * pi.chan + pi.tap(kh, kw);
  // Strips: the image's pixel vectors in near-equal runs of at most kPanelVecs. Each strip's
  // output rows are runs (panel column, phase-plane offset, length), the same for every tap,
  // in column order (each one's overspill is the next one's start).
  struct Run {
    std::int64_t col, src, len;
  };
  const std::int64_t nvec = (pix + kLanes - 1) / kLanes, strips = (nvec + kPanelVecs - 1) / kPanelVecs;
  auto strip_start = [&](std::int64_t st) { return st * (nvec / strips) + std::min(st, nvec % strips); };
  std::vector<std::size_t> strip_runs{0};  // strip st's runs: [strip_runs[st], strip_runs[st + 1])
  std::vector<Run> runs;
  for (std::int64_t st = 0; st < strips; ++st) {
    const std::int64_t p0 = strip_start(st) * kLanes, p1 = std::min(pix, strip_start(st + 1) * kLanes);
    for (std::int64_t p = p0; p < p1;) {
      const std::int64_t i = p / ow, j = p % ow, len = std::min(ow - j, p1 - p);
      runs.push_back({p - p0, i * wq + j, len});
      p += len;
    }
    strip_runs.push_back(runs.size());
  }
  // Per thread: a panel and the kLanes floats its last row's copies may spill into. Lanes
  // past the image's last pixel hold zeros or copied inputs: computed, never stored.
  const std::int64_t panel_stride = kPanelVecs * kLanes, panel_size = k_n * panel_stride + kLanes;
  Tensor<float> panels = Tensor<float>::zeros(Shape{threads, panel_size});
  for_phase_images(threads, s, pi, x, strips, [&](std::int64_t n, const float* xq, std::int64_t st) {
    float* panel = panels.data() + team_slot(threads) * panel_size;
    const Run* r0 = runs.data() + strip_runs[static_cast<std::size_t>(st)];
    const Run* r1 = runs.data() + strip_runs[static_cast<std::size_t>(st + 1)];
    // Row by row, in column order: each copy's overspill is rewritten by the next one.
    for (std::int64_t k = 0; k < k_n; ++k) {
      const float* src = xq + tap[static_cast<std::size_t>(k)];
      float* row = panel + k * panel_stride;
      for (const Run* r = r0; r < r1; ++r) copy_vectors(row + r->col, src + r->src, r->len);
    }
    const std::int64_t v0 = strip_start(st), v1 = strip_start(st + 1);
    const int tail = static_cast<int>(std::min<std::int64_t>(kLanes, pix - (v1 - 1) * kLanes));
    const PanelTileFn tile = panel_tile_fn(static_cast<int>(v1 - v0));
    for (std::int64_t cb = 0; cb < ncb; ++cb) {
      const std::int64_t oc0 = cb * co;
      tile(y + (n * oc_n + oc0) * pix + v0 * kLanes, pix, static_cast<int>(std::min<std::int64_t>(co, oc_n - oc0)),
           tail, panel, panel_stride, static_cast<int>(k_n), wpk + cb * k_n * co, b ? b + oc0 : nullptr,
           accumulate);
    }
  });
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
