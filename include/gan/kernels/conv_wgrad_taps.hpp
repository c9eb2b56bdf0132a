#pragma once
// The float weight gradient of a conv with at most kLanes taps per output channel (a
// one-channel image under a 4x4 kernel: issue 5's shape 1, DCGAN's first layer), vectorised
// over the taps:
//
//   dw[oc, t] = sum over images and pixels p of dy[oc, p] * cols[p, t],   t = (ic, kh, kw)
//
// cols is the image's im2col, pixel-major, one vector of taps per pixel, built per image; dy
// is read where it lies, each value broadcast. The blocked path (conv_wgrad_direct.hpp) vectorises
// over output channels instead, so it first transposes all of dy to pixel-major (and sums it
// for the bias): for shape 1 those reorders took 43 % of its time (perf, Zen 5). With more
// taps (shape 9's 81, six vectors) the pixel-major cols outgrow L1 and the blocked path wins.

#include <algorithm>
#include <cstdint>

#include "gan/config.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_layout.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"

namespace gan {
namespace kernels {
namespace direct {

// Whether the tap-vector weight gradient is the one to use. Measured on AVX-512 only (Zen 5);
// AVX2 keeps the blocked path.
inline bool backward_weight_taps_preferred(const ConvShape& s) {
  return kLanes >= 16 && s.in_c * s.kernel_h * s.kernel_w <= kLanes && s.dilation_h == 1 && s.dilation_w == 1;
}

// cols[p, t] of one image (pixel p = i * ow + j, one vector of taps per pixel) from its
// zero-padded planes xp (hp x wp each): each (ic, kh) is a run of KW taps, copied as a whole
// vector in increasing order, so each store's spill past its run is overwritten by the next
// run (no masks, and 4-wide runs as 16-byte copies never split a cache line). Lanes past the taps hold whatever
// spilled there; the tile's sums in those lanes are never read. xp and cols must have kLanes
// readable / writable floats past their ends.
inline void pixel_major_columns(float* cols, const float* xp, const ConvShape& s, std::int64_t hp, std::int64_t wp,
                                std::int64_t oh, std::int64_t ow) {
  // Locals, not s's fields: the vector stores may alias anything, so those would be reloaded
  // after every store.
  const std::int64_t runs = s.in_c * s.kernel_h, kh_n = s.kernel_h, kw_n = s.kernel_w;
  const std::int64_t sh = s.stride_h, sw = s.stride_w;
  std::int64_t start[16];  // per run (ic, kh): its offset in xp; at most kLanes taps, so at most 16 runs
  for (std::int64_t r = 0; r < runs; ++r) start[r] = ((r / kh_n) * hp + r % kh_n) * wp;
  for (std::int64_t i = 0; i < oh; ++i)
    for (std::int64_t j = 0; j < ow; ++j) {
      float* d = cols + (i * ow + j) * kLanes;
      const float* src = xp + i * sh * wp + j * sw;
      for (std::int64_t r = 0; r < runs; ++r, d += kw_n) {
        const float* from = src + start[r];
#if GAN_CONV_AVX512
        if (kw_n <= 4) {  // a 16-byte copy: never split over two cache lines when runs are 4 wide
          _mm_storeu_ps(d, _mm_loadu_ps(from));
          continue;
        }
#endif
        for (std::int64_t k = 0; k < kw_n; k += kLanes) Vec::load_unaligned(from + k).store_unaligned(d + k);
      }
    }
}

// The bias gradient's part of a tile: sums + r * kLanes += the values of dy row r (rows of n
// values, row_stride apart) a vector at a time; the lanes are added once, at the end of the
// call. A ragged end is the row's last vector times `last` (ones in its last n % kLanes
// lanes); rows shorter than a vector are summed plainly. Four rows at a time, a compile-time
// count: with a run-time count GCC kept the sums in memory (12-15 % of shape 1's time, now 8-10 %).
template <int M>
void add_rows_of(float* sums, const float* dy, std::int64_t row_stride, std::int64_t n, const Vec& ragged) {
  const std::int64_t full = n / kLanes;
  Vec v[M];
  for (int k = 0; k < M; ++k) v[k] = Vec::load_aligned(sums + k * kLanes);
  for (std::int64_t i = 0; i < full; ++i)
    for (int k = 0; k < M; ++k) v[k] = v[k] + Vec::load_unaligned(dy + k * row_stride + i * kLanes);
  if (n % kLanes)
    for (int k = 0; k < M; ++k) v[k] = xsimd::fma(Vec::load_unaligned(dy + k * row_stride + n - kLanes), ragged, v[k]);
  for (int k = 0; k < M; ++k) v[k].store_aligned(sums + k * kLanes);
}

inline void add_rows(float* sums, const float* dy, std::int64_t row_stride, std::int64_t rows, std::int64_t n,
                     const float* last) {
  if (n < kLanes) {  // no vector fits in a row: plain sums, into lane 0
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t i = 0; i < n; ++i) sums[r * kLanes] += dy[r * row_stride + i];
    return;
  }
  const Vec ragged = Vec::load_aligned(last);
  std::int64_t r = 0;
  for (; r + 4 <= rows; r += 4) add_rows_of<4>(sums + r * kLanes, dy + r * row_stride, row_stride, n, ragged);
  for (; r < rows; ++r) add_rows_of<1>(sums + r * kLanes, dy + r * row_stride, row_stride, n, ragged);
}

inline constexpr std::int64_t kWgradTapsBudget = std::int64_t{1} << 19;  // bytes of cols and dy per chunk

// dw += the weight gradient, db += the bias gradient (db may be null); x, dy, dw as in
// conv_backward_weight.
inline void conv_backward_weight_taps(float* dw, const float* dy, const float* x, const ConvShape& s, std::int64_t oh,
                                      std::int64_t ow, float* db) {
  const std::int64_t taps = s.in_c * s.kernel_h * s.kernel_w, oc_n = s.out_c, pix = oh * ow;
  const std::int64_t hp = (oh - 1) * s.stride_h + s.kernel_h, wp = (ow - 1) * s.stride_w + s.kernel_w;
  const std::int64_t x_plane = s.in_h * s.in_w, x_image = s.in_c * x_plane, padded = s.in_c * hp * wp;
  // Per image: one tap vector per pixel, plus the last copy's spill (pixel_major_columns).
  const std::int64_t cols_image = pix * kLanes + kLanes, acc_size = oc_n * kLanes;
  const std::int64_t groups = (oc_n + kTapRows - 1) / kTapRows;  // near-equal groups of output channels
  const int threads = team_size();
  // Each thread sums its own images into its own accumulator when there are enough images;
  // otherwise the team shares out the output channels of every image (and one set of cols).
  const bool own_images = threads > 1 && s.n >= threads;
  const int copies = own_images ? threads : 1;
  // Images per tile: its sums stay in registers over all of them, and the chunk's cols and
  // dy stay in L2 for the chunk's tiles (shape 1: 8 images of 63 KB).
  const std::int64_t per_image = (cols_image + oc_n * pix) * static_cast<std::int64_t>(sizeof(float));
  const std::int64_t chunk = std::clamp<std::int64_t>(kWgradTapsBudget / per_image, 1, std::max<std::int64_t>(s.n, 1));
  ThreadSlots acc(copies, acc_size, true);
  ThreadSlots cols(copies, chunk * cols_image, true);  // nothing uninitialised is read
  ThreadSlots xpad(threads, padded + kLanes, true);
  // Per copy and output channel: kLanes partial sums of dy (see add_rows).
  ThreadSlots bias_sums(db ? copies : 0, oc_n * kLanes, true);
  alignas(64) float last[kLanes];
  for (int l = 0; l < kLanes; ++l) last[l] = l >= kLanes - pix % kLanes ? 1.f : 0.f;
#if GAN_HAS_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
  {
    const int me = own_images ? team_slot(threads) : 0;
    const std::int64_t n_lo = s.n * me / copies, n_hi = s.n * (me + 1) / copies;
    float* const cl = cols.at(me);
    float* const ac = acc.at(me);
    for (std::int64_t n0 = n_lo; n0 < n_hi; n0 += chunk) {
      const std::int64_t cnt = std::min(chunk, n_hi - n0), next = n0 + cnt, next_cnt = std::min(chunk, n_hi - next);
      team_for(!own_images, cnt, [&](std::int64_t i) {
        float* xp = xpad.mine(threads);
        for (std::int64_t c = 0; c < s.in_c; ++c)
          pad_plane(xp + c * hp * wp, x + (n0 + i) * x_image + c * x_plane, s.in_h, s.in_w, hp, wp, s.pad_h, s.pad_w);
        pixel_major_columns(cl + i * cols_image, xp, s, hp, wp, oh, ow);
      });
      team_for(!own_images, groups, [&](std::int64_t g) {
        // The next chunk's dy and input, a slice per tile (see for_padded_images): read in
        // place, they would otherwise come from L3 one row stream at a time.
        if (next_cnt > 0) {
          prefetch_part(dy + next * oc_n * pix, next_cnt * oc_n * pix, g, groups);
          prefetch_part(x + next * x_image, next_cnt * x_image, g, groups);
        }
        const std::int64_t oc0 = oc_n * g / groups, rows = oc_n * (g + 1) / groups - oc0;
        const float* dyg = dy + (n0 * oc_n + oc0) * pix;
        tap_tile_fn(static_cast<int>(rows))(ac + oc0 * kLanes, dyg, pix, oc_n * pix, cl, cols_image,
                                            static_cast<int>(pix), static_cast<int>(cnt));
        if (db)  // the rows the tile just read, from L1 or L2
          for (std::int64_t i = 0; i < cnt; ++i)
            add_rows(bias_sums.at(me) + oc0 * kLanes, dyg + i * oc_n * pix, pix, rows, pix, last);
      });
    }
#if GAN_HAS_OPENMP
    if (own_images) {
#pragma omp barrier
    }
#endif
    team_for(true, oc_n, [&](std::int64_t oc) {
      for (std::int64_t t = 0; t < taps; ++t)
        for (int cp = 0; cp < copies; ++cp) dw[oc * taps + t] += acc.at(cp)[oc * kLanes + t];
      if (db)
        for (int cp = 0; cp < copies; ++cp) {
          db[oc] += simd::hsum(Vec::load_aligned(bias_sums.at(cp) + oc * kLanes));
        }
    });
  }
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
