#pragma once
// The data gradient of the direct conv (kernels/conv_direct.hpp), which is also the
// transposed conv's forward pass: split into stride^2 phases, each a stride-1 correlation of
// dy with the taps that reach it (vectors over input channels, no multiplications by zero);
// with fewer than 4 input channels, tap planes w^T dy and then col2im.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gan/config.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_layout.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"
#include "gan/kernels/conv_tiles.hpp"

namespace gan {
namespace kernels {
namespace direct {

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

// Output channels (dy's, the reduction) per chunk when one image's weights are packed a block
// and chunk at a time (conv_backward_data): the chunk's packed weights, every phase, stay in L2
// next to its dy planes and the block's dx. Shape 7 on Zen 5 (1 MB L2): 384 KB to 1 MB ran
// alike, 256 KB 3-8 % slower (1 thread). AVX2 blocks are half as wide; its budget is a guess
// scaled to Zen 3's 512 KB L2, not a measurement.
inline std::int64_t resident_chunk(std::int64_t channels, std::int64_t taps) {
  constexpr std::int64_t kBudget = (kLanes >= 16 ? 512 : 256) * 1024;  // bytes of packed weights
  const std::int64_t fit = std::max<std::int64_t>(kBlock, kBudget / (taps * kBlock * 4));
  const std::int64_t n = (channels + fit - 1) / fit;
  return (channels + n - 1) / n;  // near-equal chunks
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
  const std::int64_t nb = blocks(ic_n), wdp = plan.width, plane = plan.height * wdp, kk = s.kernel_h * s.kernel_w;
  const std::int64_t y_plane = oh * ow;
  const int threads = team_size();
  // Packed weights, per phase: (IC blocks, OC, taps of the phase, kBlock); phase ph starts after
  // the earlier phases' taps (its tap_off).
  auto taps_of = [&](std::size_t ph) { return plan.phases[ph].th * plan.phases[ph].tw; };
  auto lanes_of = [&](std::int64_t ib) { return std::min<std::int64_t>(kBlock, ic_n - ib * kBlock); };
  const std::int64_t all_taps = static_cast<std::int64_t>(plan.tap.size()), w_size = nb * oc_n * all_taps * kBlock;
  // Kernel tap of slot t of phase ph: tap_of[tap_off + t].
  std::vector<std::int64_t> tap_of;
  for (const Phase& p : plan.phases)
    for (std::int64_t th = 0; th < p.th; ++th)
      for (std::int64_t tw = 0; tw < p.tw; ++tw)
        tap_of.push_back((p.kh0 + s.stride_h * th) * s.kernel_w + p.kw0 + s.stride_w * tw);
  // w[oc, block ib] transposed to (tap, kBlock), each tap's vector stored straight into its
  // phase at dst(ph); taps no phase reads are dropped. Reading w in place would take one cache
  // line per lane. Transposed into a buffer and then copied a tap at a time (the compiler redid
  // each copy's address arithmetic: vector stores may alias the plan), shape 7's transposed
  // forward ran 3 % slower on 1 thread (Zen 5, 12 interleaved pairs: 172.8 -> 178.4 GFLOP/s).
  auto pack = [&](std::int64_t oc, std::int64_t ib, auto&& dst) {
    std::vector<float*> by_tap;  // only for kernels above 12x12 taps
    float* small[144];
    float** to = small;
    if (kk > 144) by_tap.resize(static_cast<std::size_t>(kk)), to = by_tap.data();
    std::fill(to, to + kk, nullptr);
    for (std::size_t ph = 0; ph < plan.phases.size(); ++ph) {
      float* const out = dst(ph);
      const std::int64_t off = plan.phases[ph].tap_off, n = taps_of(ph);
      for (std::int64_t t = 0; t < n; ++t) to[tap_of[static_cast<std::size_t>(off + t)]] = out + t * kBlock;
    }
    transpose_panel_to(to, w + (oc * ic_n + ib * kBlock) * kk, kk, lanes_of(ib), kk);
  };
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
  // Tap t of phase p reads padded dy row (tile row + top + dh - t / tw), and likewise for
  // columns; dy fills rows [top, top + oh) and columns [left, left + ow). skips[1]: the odd
  // phase of a pair, on the even phase's tiles.
  auto reach_of = [&](std::size_t ph) {
    const Phase& p = plan.phases[ph];
    TapReach reach{{}, {}, 1, 1, plan.top, plan.top + oh, plan.left, plan.left + ow};
    for (std::int64_t t = 0; t < p.th * p.tw; ++t)
      reach.row.push_back(plan.top + p.dh - t / p.tw), reach.col.push_back(plan.left + p.dw - t % p.tw);
    return reach;
  };
  TileSkips skips[2];
  for (std::size_t ph = 0; ph < plan.phases.size(); ph += paired ? 2 : 1) {
    const std::size_t first = tiles.size();
    pixel_tiles(tiles, plan.phases[ph].a, plan.phases[ph].b);
    for (std::int64_t ib = 0; ib < nb; ++ib)
      for (std::size_t t = first; t < tiles.size(); ++t)
        items.push_back({static_cast<std::int32_t>(ph), static_cast<std::int32_t>(ib), static_cast<std::int64_t>(t)});
    skips[0].mark(tiles, first, tiles.size(), reach_of(ph));
    if (paired) skips[1].mark(tiles, first, tiles.size(), reach_of(ph + 1));
  }
  std::int64_t most_taps = 1;
  for (std::size_t ph = 0; ph < plan.phases.size(); ++ph) most_taps = std::max(most_taps, taps_of(ph));
  // One item of image n: its tile reduced over the nc channels of dyp (a padded chunk of dy:
  // planes `chan` floats apart, from padded row row0), with weights(ph) the item's block of
  // phase ph packed from the chunk's first channel, then stored (+ b, or added to dx).
  auto run_item = [&](std::int64_t n, const float* dyp, std::int64_t chan, std::int64_t row0, const Item& it,
                      std::int64_t nc, const float* b, bool add, auto&& weights) {
    alignas(64) float tile[kTileRows * kBlock];
    const std::size_t ph = static_cast<std::size_t>(it.phase);
    const Phase& p = plan.phases[ph];
    const PixTile& t = tiles[static_cast<std::size_t>(it.tile)];
    const std::int64_t ic0 = it.block * kBlock;
    float* const dst = dx + (n * ic_n + ic0) * x_plane + (p.rh + sh * t.row) * wd + p.rw + sw * t.col;
    const std::int64_t lanes = lanes_of(it.block);
    if (x_plane >= kPrefetchPlane) prefetch_tile(dst, x_plane, sh * wd, sw, t, lanes);
    const float* src = dyp + (t.row + plan.top - row0) * wdp + t.col + plan.left;
    auto reduce = [&](float* out, std::size_t phase) {
      run_conv_tile(out, src, t, chan, wdp, 1, static_cast<int>(nc), plan.tap.data() + plan.phases[phase].tap_off,
                    static_cast<int>(taps_of(phase)), weights(phase),
                    &skips[phase - ph], static_cast<std::size_t>(it.tile));
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
  };
  // One image whose packed weights exceed L2 (shape 7: 16 MB; a pix2pix generator's inner
  // layers at batch 1; pack_per_block): each thread takes whole channel blocks and packs one
  // reduction chunk of its block at a time into its own buffer, which stays in L2 for every
  // tile of the chunk, while the tiles ask for the next part of w, a slice each (shape 7's
  // transposed forward, 3 interleaved pairs on Zen 5: +2 % / +10 % on 1 / 2 threads; AVX2
  // build -3 % / +16 %). One small image goes this way too (see pack_per_block).
  if (pack_per_block(s.n, w_size, oc_n * plane, nb, threads)) {
    const std::int64_t chunk = resident_chunk(oc_n, all_taps), per_oc = all_taps * kBlock;
    Tensor<float> dyp = Tensor<float>::empty(Shape{oc_n * plane});
    parallel_items(threads, oc_n, [&](std::int64_t c) {
      pad_plane(dyp.data() + c * plane, dy + c * y_plane, oh, ow, plan.height, wdp, plan.top, plan.left);
    });
    ThreadSlots bufs(threads, chunk * per_oc);
    parallel_items_as_taken(threads, nb, [&](std::int64_t ib, auto&& next_block) {
      float* const buf = bufs.mine(threads);
      for_reduction_chunks(oc_n, chunk, accumulate, [&](std::int64_t c0, std::int64_t nc, bool add, bool first) {
        auto at = [&](std::size_t ph, std::int64_t c) {
          return buf + (nc * plan.phases[ph].tap_off + c * taps_of(ph)) * kBlock;
        };
        for (std::int64_t oc = c0; oc < c0 + nc; ++oc) {
          const std::int64_t ahead = oc + 4;
          if (ahead < oc_n) prefetch_part(w + (ahead * ic_n + ib * kBlock) * kk, lanes_of(ib) * kk, 0, 1);
          pack(oc, ib, [&](std::size_t ph) { return at(ph, oc - c0); });
        }
        const float* b = first && !accumulate ? bias : nullptr;  // as the taps path: no bias when adding
        // Item j of the block's `mine` asks for its share of the next part of w.
        const NextPart next = next_part(ib, c0, nc, chunk, oc_n, nb, next_block);
        const std::int64_t mine = static_cast<std::int64_t>(items.size()) / nb;
        std::int64_t j = 0;
        for (const Item& it : items) {
          if (it.block != ib) continue;
          if (next.channels > 0)
            prefetch_rows_part(w + (next.c0 * ic_n + next.block * kBlock) * kk, next.channels, ic_n * kk,
                               lanes_of(next.block) * kk, j, mine);
          ++j;
          run_item(0, dyp.data() + c0 * plane, plane, 0, it, nc, b, add, [&](std::size_t ph) { return at(ph, 0); });
        }
      });
    });
    return;
  }
  Tensor<float> wbuf = Tensor<float>::empty(Shape{w_size});
  auto packed = [&](std::size_t ph, std::int64_t ib, std::int64_t oc) {
    return wbuf.data() + (nb * oc_n * plan.phases[ph].tap_off + (ib * oc_n + oc) * taps_of(ph)) * kBlock;
  };
  // Items go through w in memory order and ask for the next item's part before their own
  // transpose: large weights otherwise come in one demand miss at a time (shape 7, before it
  // took the path above: +21 % / +9 % on 1 / 2 threads, Zen 5, 2 interleaved pairs).
  // The part is clipped at w's end: a partial last block would reach past it.
  parallel_items(threads, nb * oc_n, [&](std::int64_t item) {
    const std::int64_t oc = item / nb, ib = item % nb, next = (oc * ic_n + ib * kBlock + lanes_of(ib)) * kk;
    if (item + 1 < nb * oc_n) prefetch_part(w + next, std::min(kBlock * kk, oc_n * ic_n * kk - next), 0, 1);
    pack(oc, ib, [&](std::size_t ph) { return packed(ph, ib, oc); });
  });
  // With packed weights that fit in L2 next to a band of dy (<= 512 KB), go row band by row
  // band: the phases and channel blocks of one band read the same few rows of every dy plane,
  // which then come from L2; phase by phase, a large dy (shape 6: 128 planes of 66x66) streams
  // from L3 once per phase and block, over as many streams as planes (2 threads: 200 -> 280
  // GFLOP/s). Larger weights (shape 8: 8 MB) stay phase by phase, each phase's block reused.
  const bool by_rows = w_size <= (std::int64_t{1} << 17);
  if (by_rows)
    std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
      return tiles[static_cast<std::size_t>(a.tile)].row < tiles[static_cast<std::size_t>(b.tile)].row;
    });
  const std::int64_t chunk = reduction_chunk(oc_n, most_taps);
  // One image whose items go row band by row band: each thread pads the rows its own items
  // read (for_own_rows). Padded a few rows at a time just before the items, one call per
  // channel and band, it ran 7 % slower on 1 thread.
  if (s.n == 1 && by_rows) {
    std::int64_t low = 0, high = 0;  // padded rows a tile's reduction reads, from its first row
    for (const Phase& p : plan.phases) low = std::min(low, p.dh - p.th + 1), high = std::max(high, p.dh);
    auto rows_of = [&](std::int64_t i) {
      const PixTile& t = tiles[static_cast<std::size_t>(items[static_cast<std::size_t>(i)].tile)];
      // high is the largest dh; a phase with a smaller dh may have a row more: its last + high is past the plane
      return std::make_pair(t.row + plan.top + low, std::min(plan.height, last_row(t) + plan.top + high + 1));
    };
    for_reduction_chunks(oc_n, chunk, accumulate, [&](std::int64_t c0, std::int64_t nc, bool add, bool first) {
      const float* b = first && !accumulate ? bias : nullptr;
      for_own_rows(
          threads, static_cast<std::int64_t>(items.size()), dy + c0 * y_plane, nc, y_plane, oh, ow, plan.height, wdp,
          plan.top, plan.left, rows_of,
          [&](std::int64_t i, const float* buf, std::int64_t chan, std::int64_t lo) {
            const Item& it = items[static_cast<std::size_t>(i)];
            run_item(0, buf, chan, lo, it, nc, b, add, [&](std::size_t ph) { return packed(ph, it.block, c0); });
          });
    });
    return;
  }
  for_reduction_chunks(oc_n, chunk, accumulate, [&](std::int64_t c0, std::int64_t nc, bool add, bool first) {
    const float* b = first && !accumulate ? bias : nullptr;  // as the taps path: no bias when adding
    for_padded_images(
        threads, s.n, nc, plane, static_cast<std::int64_t>(items.size()), dy + c0 * y_plane, oc_n * y_plane, nc * y_plane,
        [&](float* dst, std::int64_t n, std::int64_t c) {
          pad_plane(dst, dy + (n * oc_n + c0 + c) * y_plane, oh, ow, plan.height, wdp, plan.top, plan.left);
        },
        [&](std::int64_t n, const float* dyp, std::int64_t i) {
          const Item& it = items[static_cast<std::size_t>(i)];
          run_item(n, dyp, plane, 0, it, nc, b, add, [&](std::size_t ph) { return packed(ph, it.block, c0); });
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
  ThreadSlots scratch(per_item ? threads : 1, slot);
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
      float* cols = scratch.mine(threads);
      const std::int64_t n = i / ic_n, ic = i % ic_n;
      const float* dyn = source(cols, n);
      for (std::int64_t u = 0; u < units; ++u)
        for (std::int64_t g = 0; g < groups; ++g) tile(cols, dyn, wbuf.data() + ic * groups * oc_n * co, u, g);
      gather(dx + i * x_plane, cols, cols + cols_size, 0, s.in_h, bias ? bias[ic] : 0.f);
    });
    return;
  }
  float* cols = scratch.at(0);
  ThreadSlots rows(threads, row_size);
  for (std::int64_t i = 0; i < items; ++i) {
    const std::int64_t n = i / ic_n, ic = i % ic_n;
    const float* dyn = source(cols, n);
    parallel_items(threads, units * groups, [&](std::int64_t j) {
      tile(cols, dyn, wbuf.data() + ic * groups * oc_n * co, j / groups, j % groups);
    });
    const std::int64_t bands = std::min<std::int64_t>(threads, s.in_h);
    parallel_items(threads, bands, [&](std::int64_t k) {
      gather(dx + i * x_plane, cols, rows.mine(threads), k * s.in_h / bands, (k + 1) * s.in_h / bands,
             bias ? bias[ic] : 0.f);
    });
  }
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
