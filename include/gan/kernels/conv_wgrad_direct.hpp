#pragma once
// The weight gradient of the direct conv (kernels/conv_direct.hpp): dw[oc, ic, kh, kw],
// vectors over a block of output channels, a reduction over images and pixels of dy^T
// (pixel-major dy) times the padded input, accumulated in a packed (oc block, ic, kh, kw,
// lane) buffer that is added to dw once at the end; and the bias gradient alone.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gan/config.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_layout.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"

namespace gan {
namespace kernels {
namespace direct {

// d[c * kn + k] += sum over `copies` accumulators (copy_stride apart) of a[k * kBlock + c], for
// the first `lanes` (<= 16, within one block) lanes c: packed weight-gradient lanes back to (OC, IC*KH*KW) rows.
inline void unpack_lanes(float* d, std::int64_t kn, const float* a, std::int64_t copy_stride, int copies,
                         std::int64_t lanes) {
#if GAN_CONV_AVX512
  if (kLanes == 16) {  // 16 lanes x 16 k at a time, transposed in registers
    for (std::int64_t k0 = 0; k0 < kn; k0 += 16) {
      __m512 r[16];
      for (int j = 0; j < 16; ++j) {
        r[j] = _mm512_setzero_ps();
        if (k0 + j < kn)
          for (int cp = 0; cp < copies; ++cp)
            r[j] = _mm512_add_ps(r[j], _mm512_load_ps(a + cp * copy_stride + (k0 + j) * kBlock));
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
      for (int cp = 0; cp < copies; ++cp) d[c * kn + k] += a[cp * copy_stride + k * kBlock + c];
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
  const std::int64_t x_plane = s.in_h * s.in_w, pix = oh * ow, dy_image = pix * ocp;
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
  // A tile of one kernel row reads x in place: its output rows whose taps fall in the padding
  // rows are skipped, and so are the taps in the side padding. A tile of several kernel rows
  // reads a padded copy (plane hp x wp), whose rows of zeros it multiplies.
  const bool copy_x = by_rows;
  const std::int64_t plane = copy_x ? hp * wp : x_plane, row = copy_x ? wp : s.in_w, x_image = ic_n * plane;
  // The padding that the input the tiles read does not hold: all of it in place, none in the copy.
  const std::int64_t absent_pad_h = copy_x ? 0 : s.pad_h, absent_pad_w = copy_x ? 0 : s.pad_w;
  // Images per chunk: each chunk reads and writes the whole accumulator once, each tile
  // streams the chunk's input and dy^T. Small accumulators (<= 2 MB): chunks that stay
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
  ThreadSlots xbuf(copy_x ? copies : 0, chunk * x_image), dbuf(copies, chunk * dy_image);
  // The tiles of each copy's first chunk and band write the accumulator instead of adding to
  // it, so it needs no zeros first (shape 7: 16 MB zeroed, then read back; +10 % / +18 % on
  // 1 / 2 threads, Zen 5, 2 interleaved pairs). Every copy has images when there are enough.
  const bool tiles_write_all = s.n >= copies && oh > 0;
  ThreadSlots bias_sums(db ? threads : 0, ocp, true);
  const WgradGeom adding{x_image, by_rows ? wp : plane, row, dy_image, kBlock, ow, s.stride_h, s.stride_w};
  WgradGeom writing = adding;
  writing.overwrite = tiles_write_all;
  const std::int64_t per_block = tiles / nb, kn = ic_n * kh_n * kw_n;
  // Tile t: dy rows [r0, r1) of cnt images of xb (x at the first, or their padded copy) and
  // dyt, into the accumulator of its block ob at acc + ob * block_stride (0: the caller's
  // buffer of that one block).
  auto run_tile = [&](std::int64_t t, float* acc, std::int64_t block_stride, const float* xb, const float* dyt,
                      const WgradGeom& g, std::int64_t cnt, std::int64_t r0, std::int64_t r1) {
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
    float* const dst = acc + ob * block_stride + ((ic0 * kh_n + kh) * kw_n + kw0) * kBlock;
    // Skip the output rows whose taps of these kernel rows all read padding rows (zeros), and
    // the tap columns in the side padding: a k4 s2 p1 layer on a 7x7 output reads padding in
    // 2 of 7 rows under one of 4 kernel rows, and the same for columns.
    const std::int64_t kh_last = by_rows ? kh + gs - 1 : kh;
    const std::int64_t lo = std::max(r0, -kernels::detail::floor_div(kh_last - s.pad_h, s.stride_h));
    const std::int64_t hi = std::min(r1, kernels::detail::floor_div(s.pad_h + s.in_h - 1 - kh, s.stride_h) + 1);
    WgradGeom edges = g;
    edges.col_lo = s.pad_w - kw0, edges.col_hi = s.pad_w + s.in_w - kw0;
    edges.row_shift = kh - absent_pad_h, edges.col_shift = absent_pad_w - kw0;
    wgrad_tile_fn(std::min(piece, kw_n - kw0), gs)(dst, by_rows ? kw_n * kBlock : gstride, xb + ic0 * plane,
                                                    dyt + ob * pix * kBlock, edges, cnt, lo, std::max(lo, hi));
  };
  // dw[oc, k] += sum over copies of acc[oc block, k, oc lane] for `per` lanes from oc, with
  // block_acc the accumulator of oc's block.
  constexpr int per = kBlock < 16 ? kBlock : 16;  // lanes per unpack_lanes call, within one block
  auto unpack = [&](std::int64_t oc, const float* block_acc, std::int64_t copy_stride, int n_copies) {
    unpack_lanes(dw + oc * kn, kn, block_acc + oc % kBlock, copy_stride, n_copies,
                 std::min<std::int64_t>(per, oc_n - oc));
  };
  auto add_bias_sum = [&](std::int64_t oc) {
    for (int t = 0; t < threads; ++t) db[oc] += bias_sums.at(t)[oc];
  };
  // Item i of a chunk from image n0: input plane i (image i / ic_n) padded into xb.
  auto pad_x = [&](float* xb, std::int64_t n0, std::int64_t i) {
    pad_plane(xb + i * plane, x + (n0 * ic_n + i) * x_plane, s.in_h, s.in_w, hp, wp, s.pad_h, s.pad_w);
  };
  // dy^T: (OC blocks, pixels, kBlock) per image, item i of a chunk one block of one image. A
  // block's pixels are then one contiguous run that stays in L1 over its tiles; as (pixels,
  // OC padded) rows, a pixel's vectors were ocp floats apart (shape 7: 4 KB, every load on the
  // same L1 set).
  auto transpose_dy = [&](float* dyt, std::int64_t n0, std::int64_t i) {
    const std::int64_t n = i / nb, oc0 = (i % nb) * kBlock;
    transpose_panel(dyt + n * dy_image + oc0 * pix, kBlock, dy + ((n0 + n) * oc_n + oc0) * pix, pix,
                    std::min<std::int64_t>(kBlock, oc_n - oc0), pix,
                    db ? bias_sums.mine(threads) + oc0 : nullptr);
  };
  // One image with an accumulator beyond L2 (shape 7: 16 MB), or one small image
  // (pack_per_block): each thread takes whole blocks, reduces a block into its own L2 buffer
  // and adds it to dw from there. For the large one, one accumulator for all blocks was written
  // out to memory and read back (shape 7, Zen 5, 3 interleaved pairs: +10 % / +5 % on 1 / 2
  // threads).
  if (pack_per_block(s.n, acc_size, x_image, nb, threads) && tiles_write_all) {
    float* const xcopy = copy_x ? xbuf.at(0) : nullptr;
    const float* const xb = copy_x ? xcopy : x;
    float* const dyt = dbuf.at(0);
    if (copy_x) parallel_items(threads, ic_n, [&](std::int64_t i) { pad_x(xcopy, 0, i); });
    parallel_items(threads, nb, [&](std::int64_t i) { transpose_dy(dyt, 0, i); });
    ThreadSlots block_accs(threads, ic_n * gstride);
    parallel_items(threads, nb, [&](std::int64_t ob) {
      float* const block_acc = block_accs.mine(threads);
      for (std::int64_t r0 = 0; r0 < oh; r0 += band)
        for (std::int64_t t = ob * per_block; t < (ob + 1) * per_block; ++t)
          run_tile(t, block_acc, 0, xb, dyt, r0 == 0 ? writing : adding, 1, r0, std::min(oh, r0 + band));
      for (std::int64_t oc = ob * kBlock; oc < std::min(oc_n, (ob + 1) * kBlock); oc += per)
        unpack(oc, block_acc, 0, 1);
    });
    if (db)
      for (std::int64_t oc = 0; oc < oc_n; ++oc) add_bias_sum(oc);
    return;
  }
  ThreadSlots acc(copies, acc_size, !tiles_write_all);
#if GAN_HAS_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
    const bool shared = !own_images;
    const int me = own_images ? team_slot(threads) : 0;
    const std::int64_t n_lo = s.n * me / copies, n_hi = s.n * (me + 1) / copies;
    float* const xcopy = copy_x ? xbuf.at(me) : nullptr;
    float* const dyt = dbuf.at(me);
    float* const ac = acc.at(me);
    for (std::int64_t n0 = n_lo; n0 < n_hi; n0 += chunk) {
      const std::int64_t cnt = std::min(chunk, n_hi - n0);
      const float* const xb = copy_x ? xcopy : x + n0 * x_image;
      if (copy_x) team_for(shared, cnt * ic_n, [&](std::int64_t i) { pad_x(xcopy, n0, i); });
      team_for(shared, cnt * nb, [&](std::int64_t i) { transpose_dy(dyt, n0, i); });
      // The next chunk's input and dy, a slice per tile (see for_padded_images).
      const std::int64_t next = n0 + cnt, next_cnt = std::min(chunk, n_hi - next);
      for (std::int64_t r0 = 0; r0 < oh; r0 += band) {
        const std::int64_t r1 = std::min(oh, r0 + band);
        team_for(shared, tiles, [&](std::int64_t t) {
          if (r0 == 0 && next_cnt > 0) {
            prefetch_part(x + next * ic_n * x_plane, next_cnt * ic_n * x_plane, t, tiles);
            prefetch_part(dy + next * oc_n * pix, next_cnt * oc_n * pix, t, tiles);
          }
          run_tile(t, ac, ic_n * gstride, xb, dyt, n0 == n_lo && r0 == 0 ? writing : adding, cnt, r0, r1);
        });
      }
    }
#if GAN_HAS_OPENMP
    if (own_images) {
#pragma omp barrier
    }
#endif
    team_for(true, (oc_n + per - 1) / per, [&](std::int64_t i) {
      unpack(i * per, acc.at(0) + (i * per / kBlock) * ic_n * gstride, acc.stride(), copies);
    });
    if (db) team_for(true, oc_n, add_bias_sum);
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
