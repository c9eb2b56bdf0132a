#pragma once
// The forward pass of the direct conv (kernels/conv_direct.hpp): y[n, oc, :, :], vectors
// over a block of output channels and a reduction over (ic, kh, kw) with the input read where
// it lies in the padded plane; or, with few channels on both sides, vectors along the output
// plane.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gan/config.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_forward_panel.hpp"
#include "gan/kernels/conv_forward_rows.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_layout.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"
#include "gan/kernels/conv_tiles.hpp"

namespace gan {
namespace kernels {
namespace direct {

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

// Forward pass for layers with few channels on both sides (fewer than 4 in, too few out for
// the panel path's tiles, e.g. RGB -> 3): vectors along the wide output plane (above), where
// channel blocks of 32 would be mostly empty lanes. The padded input is split into stride_h x
// stride_w phase planes, so every tap reads a contiguous run of one phase plane; kPixCo
// output channels share each load. With more output channels the panel path
// (kernels/conv_forward_panel.hpp) takes the pass (issue 5's shapes 1 and 9): this path and
// the channel-blocked one both lost to it, on AVX-512 and on AVX2. conv_forward asks it first,
// after the AVX-512 row tiles (kernels/conv_forward_rows.hpp: stride 1, kernels 5 to 9 wide).
inline bool forward_pix_preferred(const ConvShape& s) {
  return s.in_c < 4 && s.dilation_h == 1 && s.dilation_w == 1;
}

inline void conv_forward_pix(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                             std::int64_t oh, std::int64_t ow, bool accumulate) {
  constexpr int co = kPixCo;
  const std::int64_t ic_n = s.in_c, oc_n = s.out_c;
  const std::int64_t taps = s.kernel_h * s.kernel_w, ncb = (oc_n + co - 1) / co;
  // The last wide vector reads up to kLanes - 1 floats past the last phase plane's last row
  // (plus the column taps): zeros there.
  const PhaseImage pi(s, oh, ow, kLanes + (s.kernel_w - 1) / s.stride_w + 1);
  const std::int64_t wq = pi.wq, chan = pi.chan;
  const std::int64_t nvec = (oh * wq + kLanes - 1) / kLanes, wide_stride = nvec * kLanes + 2 * kLanes;
  const int threads = team_size();
  Tensor<float> wbuf = Tensor<float>::empty(Shape{ncb * ic_n * taps * co});  // (OC / co, IC, taps, co)
  float* wpk = wbuf.data();
  pack_channel_groups(wpk, w, oc_n, ic_n * taps, co);
  std::vector<std::int64_t> tap(static_cast<std::size_t>(taps));
  for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
    for (std::int64_t kw = 0; kw < s.kernel_w; ++kw)
      tap[static_cast<std::size_t>(kh * s.kernel_w + kw)] = pi.tap(kh, kw);
  // Runs of at most pix_rows(co, 1) wide vectors, near-equal.
  const int most = pix_rows(co, 1);
  const std::int64_t pieces = (nvec + most - 1) / most;
  const WideToDense to_dense(oh, ow, wq);
  ThreadSlots wide(threads, co * wide_stride);
  for_phase_images(threads, s, pi, x, ncb, [&](std::int64_t n, const float* xq, std::int64_t cb) {
    float* out = wide.mine(threads);
    for (std::int64_t p = 0, v0 = 0; p < pieces; ++p) {
      const int run = static_cast<int>(nvec / pieces + (p < nvec % pieces ? 1 : 0));
      pix_tile_fn(run)(out + v0 * kLanes, wide_stride, xq + v0 * kLanes, chan, kLanes, static_cast<int>(ic_n),
                       tap.data(), static_cast<int>(taps), wpk + cb * ic_n * taps * co);
      v0 += run;
    }
    for (int c = 0; c < co && cb * co + c < oc_n; ++c) {
      const std::int64_t oc = cb * co + c;
      to_dense(y + (n * oc_n + oc) * oh * ow, out + c * wide_stride, b ? b[oc] : 0.f, accumulate);
    }
  });
}

inline bool forward_supported(const ConvShape& s) { return s.stride_w == 1 || s.stride_w == 2; }

// y = conv(x, w) + b (b may be null), or y += conv(x, w) + b when accumulate (as the im2col
// path of conv2d_forward_impl; the data gradient below adds no bias when accumulating).
inline void conv_forward(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                         std::int64_t oh, std::int64_t ow, bool accumulate) {
#if GAN_CONV_AVX512
  if (forward_rows_preferred(s)) return conv_forward_rows(y, x, w, b, s, oh, ow, accumulate);
#endif
  if (forward_panel_preferred(s)) return conv_forward_panel(y, x, w, b, s, oh, ow, accumulate);
  if (forward_pix_preferred(s)) return conv_forward_pix(y, x, w, b, s, oh, ow, accumulate);
  const std::int64_t ic_n = s.in_c, oc_n = s.out_c, taps = s.kernel_h * s.kernel_w, nb = blocks(oc_n);
  const std::int64_t hp = (oh - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1;
  const std::int64_t wp = (ow - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1, plane = hp * wp;
  const int threads = team_size();
  const std::int64_t k_n = ic_n * taps;
  std::vector<std::int64_t> tap(static_cast<std::size_t>(taps));
  for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
    for (std::int64_t kw = 0; kw < s.kernel_w; ++kw)
      tap[static_cast<std::size_t>(kh * s.kernel_w + kw)] = kh * s.dilation_h * wp + kw * s.dilation_w;
  std::vector<PixTile> tiles;
  pixel_tiles(tiles, oh, ow);
  const std::int64_t nt = static_cast<std::int64_t>(tiles.size()), y_plane = oh * ow, x_plane = s.in_h * s.in_w;
  const std::int64_t chunk = reduction_chunk(ic_n, taps);
  TapReach reach{{}, {}, s.stride_h, s.stride_w, s.pad_h, s.pad_h + s.in_h, s.pad_w, s.pad_w + s.in_w};
  for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
    for (std::int64_t kw = 0; kw < s.kernel_w; ++kw)
      reach.row.push_back(kh * s.dilation_h), reach.col.push_back(kw * s.dilation_w);
  TileSkips skips;
  skips.mark(tiles, 0, tiles.size(), reach);
  auto lanes_of = [&](std::int64_t ob) { return std::min<std::int64_t>(kBlock, oc_n - ob * kBlock); };
  // Tile pt of block ob over the nc channels of the padded image xp (planes chan floats apart,
  // from padded row row0), with the block's packed weights wb (nc, taps, kBlock); stored (+
  // bias, or added to y).
  auto run_tile = [&](std::int64_t n, const float* xp, std::int64_t chan, std::int64_t row0, std::int64_t ob,
                      std::int64_t ti, std::int64_t nc, const float* wb, const float* bias, bool add) {
    alignas(64) float tile[kTileRows * kBlock];
    const PixTile& pt = tiles[static_cast<std::size_t>(ti)];
    run_conv_tile(tile, xp + (pt.row * s.stride_h - row0) * wp + pt.col * s.stride_w, pt, chan, s.stride_h * wp,
                  s.stride_w, static_cast<int>(nc), tap.data(), static_cast<int>(taps), wb,
                  &skips, static_cast<std::size_t>(ti));
    const std::int64_t oc0 = ob * kBlock;
    store_tile(y + (n * oc_n + oc0) * y_plane + pt.row * ow + pt.col, y_plane, ow, 1, tile, pt, lanes_of(ob),
               bias ? bias + oc0 : nullptr, add);
  };
  // One image whose packed weights exceed L2 (shape 7's data gradient: 16 MB; pack_per_block),
  // as the data gradient does it (conv_backward_data): each thread packs a block and chunk of w
  // at a time into its own buffer and runs the block's tiles on it, which ask for the next part
  // of w (Zen 5, shape 7's data gradient: +3 % / +9 % on 1 / 2 threads in 3 interleaved pairs of
  // the bench, +11 % / +2 % in a standalone loop). One small image goes this way too.
  if (pack_per_block(s.n, nb * k_n * kBlock, ic_n * plane, nb, threads)) {
    Tensor<float> xp = Tensor<float>::empty(Shape{ic_n * plane});
    parallel_items(threads, ic_n, [&](std::int64_t c) {
      pad_plane(xp.data() + c * plane, x + c * x_plane, s.in_h, s.in_w, hp, wp, s.pad_h, s.pad_w);
    });
    ThreadSlots bufs(threads, chunk * taps * kBlock);
    parallel_items_as_taken(threads, nb, [&](std::int64_t ob, auto&& next_block) {
      float* const buf = bufs.mine(threads);
      for_reduction_chunks(ic_n, chunk, accumulate, [&](std::int64_t c0, std::int64_t nc, bool add, bool first) {
        transpose_panel(buf, kBlock, w + ob * kBlock * k_n + c0 * taps, k_n, lanes_of(ob), nc * taps);
        const NextPart next = next_part(ob, c0, nc, chunk, ic_n, nb, next_block);
        for (std::int64_t i = 0; i < nt; ++i) {
          if (next.channels > 0)
            prefetch_rows_part(w + next.block * kBlock * k_n + next.c0 * taps, lanes_of(next.block), k_n,
                               next.channels * taps, i, nt);
          run_tile(0, xp.data() + c0 * plane, plane, 0, ob, i, nc, buf, first ? b : nullptr, add);
        }
      });
    });
    return;
  }
  // w (OC, IC, KH, KW) -> (OC blocks, IC, KH*KW, kBlock), zero lanes past OC.
  Tensor<float> wbuf = Tensor<float>::empty(Shape{nb * k_n * kBlock});
  float* wpk = wbuf.data();
  parallel_items(threads, nb, [&](std::int64_t ob) {
    transpose_panel(wpk + ob * k_n * kBlock, kBlock, w + ob * kBlock * k_n, k_n, lanes_of(ob), k_n);
  });
  // An image beyond L2 (> 512 KB padded) whose every block's packed weights fit in L2 (<= 512
  // KB) goes tile by tile, the blocks of a tile reading the same input rows, which then come
  // from L1; block by block, it streamed from L3 once per block (shape 6, 64 planes of 130x130,
  // 2 threads: 325 -> 374 GFLOP/s in a standalone loop). Smaller images stay in L2 and larger
  // weights (shape 8: 8 MB) are reused over the image block by block.
  constexpr std::int64_t kL2Floats = std::int64_t{1} << 17;
  const bool tile_major = nb * chunk * taps * kBlock <= kL2Floats && chunk * plane > kL2Floats;
  // One such image: each thread pads the rows its own tiles read (for_own_rows).
  if (s.n == 1 && tile_major) {
    auto rows_of = [&](std::int64_t item) {
      const PixTile& pt = tiles[static_cast<std::size_t>(item / nb)];
      return std::make_pair(pt.row * s.stride_h, last_row(pt) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1);
    };
    for_reduction_chunks(ic_n, chunk, accumulate, [&](std::int64_t c0, std::int64_t nc, bool add, bool first) {
      for_own_rows(
          threads, nb * nt, x + c0 * x_plane, nc, x_plane, s.in_h, s.in_w, hp, wp, s.pad_h, s.pad_w, rows_of,
          [&](std::int64_t item, const float* buf, std::int64_t chan, std::int64_t lo) {
            const std::int64_t ob = item % nb;
            run_tile(0, buf, chan, lo, ob, item / nb, nc,
                     wpk + (ob * ic_n + c0) * taps * kBlock, first ? b : nullptr, add);
          });
    });
    return;
  }
  for_reduction_chunks(ic_n, chunk, accumulate, [&](std::int64_t c0, std::int64_t nc, bool add, bool first) {
    for_padded_images(
        threads, s.n, nc, plane, nb * nt, x + c0 * x_plane, ic_n * x_plane, nc * x_plane,
        [&](float* dst, std::int64_t n, std::int64_t c) {
          pad_plane(dst, x + (n * ic_n + c0 + c) * x_plane, s.in_h, s.in_w, hp, wp, s.pad_h, s.pad_w);
        },
        [&](std::int64_t n, const float* xp, std::int64_t item) {
          const std::int64_t ob = tile_major ? item % nb : item / nt, tile = tile_major ? item / nb : item % nt;
          run_tile(n, xp, plane, 0, ob, tile, nc,
                   wpk + (ob * ic_n + c0) * taps * kBlock, first ? b : nullptr, add);
        });
  });
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
