#pragma once
// The reorders of the direct conv kernels (kernels/conv_direct.hpp), all inside their calls
// and part of their cost: a plane zero-padded or sampled with a stride (strided_plane), a
// plane split into stride phases (PhaseImage: a forward pass's input that way), weights packed
// in groups of output channels, and a panel of up to kBlock channel rows transposed into
// channel vectors (weights into blocks, dy into pixel-major dy^T).

#include <algorithm>
#include <cstdint>

#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_microkernels.hpp"

namespace gan {
namespace kernels {
namespace direct {

inline std::int64_t blocks(std::int64_t channels) { return (channels + kBlock - 1) / kBlock; }

inline constexpr int kPadChunks = 16;  // rows up to 256 floats take strided_plane's masked-vector copy

// dst (rows, cols) = src (h, w) sampled every sh rows and sw columns from (-top, -left):
// dst[i][j] = src[i*sh - top][j*sw - left], 0 outside src. Plain loops or masked vectors:
// rows are short (7 to 130 floats), where library calls cost more than the copy.
inline void strided_plane(float* dst, const float* src, std::int64_t h, std::int64_t w, std::int64_t rows,
                          std::int64_t cols, std::int64_t sh, std::int64_t sw, std::int64_t top, std::int64_t left) {
#if GAN_CONV_AVX512
  if (kLanes == 16 && sw <= 2 && cols <= 16 * kPadChunks) {
    // Every source row has the same column masks: work them out once (rows are often a
    // single vector, where computing them took as long as the copy). Masked loads read only
    // columns inside src and zero the rest; stride 2 keeps the even lanes of two vectors.
    __mmask16 get[kPadChunks][2], put[kPadChunks];
    const int chunks = static_cast<int>((cols + 15) / 16);
    for (int k = 0; k < chunks; ++k) {
      for (int t = 0; t < sw; ++t) {
        const std::int64_t base = 16 * (sw * k + t) - left;  // column of the load's lane 0
        get[k][t] = lane_range(-base, w - base);
      }
      put[k] = lane_range(0, cols - 16 * k);
    }
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (std::int64_t i = 0; i < rows; ++i, dst += cols) {
      const std::int64_t ih = i * sh - top;
      if (ih < 0 || ih >= h) {
        for (int k = 0; k < chunks; ++k) _mm512_mask_storeu_ps(dst + 16 * k, put[k], _mm512_setzero_ps());
        continue;
      }
      const float* srow = src + ih * w - left;  // column 0 of dst's row
      for (int k = 0; k < chunks; ++k) {
        const float* at = srow + 16 * sw * k;
        __m512 v = _mm512_maskz_loadu_ps(get[k][0], at);
        if (sw == 2) v = _mm512_permutex2var_ps(v, even, _mm512_maskz_loadu_ps(get[k][1], at + 16));
        _mm512_mask_storeu_ps(dst + 16 * k, put[k], v);
      }
    }
    return;
  }
#endif
  // Columns j with 0 <= j*sw - left < w.
  const std::int64_t last = w - 1 + left;
  const std::int64_t j0 = std::clamp<std::int64_t>(left <= 0 ? 0 : (left + sw - 1) / sw, 0, cols);
  const std::int64_t j1 = std::clamp<std::int64_t>(last < 0 ? 0 : last / sw + 1, j0, cols);
  for (std::int64_t i = 0; i < rows; ++i, dst += cols) {
    const std::int64_t ih = i * sh - top;
    if (ih < 0 || ih >= h) {
      for (std::int64_t j = 0; j < cols; ++j) dst[j] = 0.f;
      continue;
    }
    const float* srow = src + ih * w + (j0 * sw - left);  // column j0
    for (std::int64_t j = 0; j < j0; ++j) dst[j] = 0.f;
    if (sw == 1)
      for (std::int64_t j = j0; j < j1; ++j) dst[j] = srow[j - j0];
    else
      for (std::int64_t j = j0; j < j1; ++j) dst[j] = srow[(j - j0) * sw];
    for (std::int64_t j = j1; j < cols; ++j) dst[j] = 0.f;
  }
}

// dst (hp, wp) = src (h, w) placed with its origin at (top, left), zeros around it.
inline void pad_plane(float* dst, const float* src, std::int64_t h, std::int64_t w, std::int64_t hp, std::int64_t wp,
                      std::int64_t top, std::int64_t left) {
  strided_plane(dst, src, h, w, hp, wp, 1, 1, top, left);
}

// Phase planes of a zero-padded plane: dst[py][px][i][j] = src[i*sh + py - top][j*sw + px - left]
// (0 outside src) for i < hq, j < wq, py < sh, px < sw; each plane hq*wq floats.
inline void split_phases(float* dst, const float* src, std::int64_t h, std::int64_t w, std::int64_t hq,
                         std::int64_t wq, std::int64_t sh, std::int64_t sw, std::int64_t top, std::int64_t left) {
  for (std::int64_t py = 0; py < sh; ++py)
    for (std::int64_t px = 0; px < sw; ++px)
      strided_plane(dst + (py * sw + px) * hq * wq, src, h, w, hq, wq, sh, sw, top - py, left - px);
}

// w (OC, K) -> (OC / group, K, group), zeros past OC: the weights of `group` output channels
// side by side for the pixel-vector and panel tiles, which broadcast each.
inline void pack_channel_groups(float* dst, const float* w, std::int64_t oc_n, std::int64_t k_n, int group) {
  for (std::int64_t cb = 0; cb * group < oc_n; ++cb)
    for (std::int64_t k = 0; k < k_n; ++k)
      for (std::int64_t c = 0; c < group; ++c) {
        const std::int64_t oc = cb * group + c;
        dst[(cb * k_n + k) * group + c] = oc < oc_n ? w[oc * k_n + k] : 0.f;
      }
}

// A forward pass's input channel as the stride phase planes of its padded plane: sh x sw
// planes of (hq, wq), then `slack` zeros that vectors running past the last row may read;
// chan floats per channel. Tap (kh, kw) of output pixel (i, j) lies at tap(kh, kw) + i*wq + j.
struct PhaseImage {
  std::int64_t sh, sw, hq, wq, slack, chan;

  PhaseImage(const ConvShape& s, std::int64_t oh, std::int64_t ow, std::int64_t zeros)
      : sh(s.stride_h), sw(s.stride_w), hq(oh + (s.kernel_h - 1) / sh), wq(ow + (s.kernel_w - 1) / sw),
        slack(zeros), chan(sh * sw * hq * wq + zeros) {}

  std::int64_t tap(std::int64_t kh, std::int64_t kw) const {
    return ((kh % sh) * sw + kw % sw) * hq * wq + (kh / sh) * wq + kw / sw;
  }

  // dst (chan floats) from one channel's plane src of the input.
  void fill(float* dst, const float* src, const ConvShape& s) const {
    split_phases(dst, src, s.in_h, s.in_w, hq, wq, sh, sw, s.pad_h, s.pad_w);
    std::fill(dst + chan - slack, dst + chan, 0.f);
  }
};

// dst_of(k)[l] = src[l * src_stride + k] for the Width lanes l and k < cols (dst_of(k) null:
// column k is dropped), zero in lanes l >= rows: a panel of up to Width rows (channels) turned
// into `cols` channel vectors. With `sums`, also sums[l] += the sum of row l (l < rows): the
// bias gradient, from the same loads. The body of transpose_panel and transpose_panel_to.
template <int Width, class DstOf>
void transpose_columns(DstOf&& dst_of, const float* src, std::int64_t src_stride, std::int64_t rows,
                       std::int64_t cols, float* sums) {
  static_assert(Width == kBlock || Width == kLanes, "a panel is one or two vectors wide");
  constexpr int width = Width;
#if GAN_CONV_AVX512 || GAN_CONV_AVX2
  using T = RegisterTranspose;
  constexpr int W = T::kWidth;
  if (kLanes == W) {  // W x W blocks through registers: contiguous reads, one row per cache line
    T::Reg total[kBlock / W];  // after the transpose, lane j of each vector is row half + j
    for (T::Reg& t : total) t = T::zero();
    for (std::int64_t k0 = 0; k0 < cols; k0 += W) {
      const T::Mask mk = T::first(cols - k0);
      for (int half = 0; half < width; half += W) {
        T::Reg r[W];
        for (int j = 0; j < W; ++j)
          r[j] = half + j < rows ? T::load(src + (half + j) * src_stride + k0, mk) : T::zero();
        T::transpose(r);
        for (std::int64_t j = 0; j < std::min<std::int64_t>(W, cols - k0); ++j)
          if (float* d = dst_of(k0 + j)) T::store(d + half, r[j]);
        if (sums)  // zero-masked lanes past cols add nothing
          for (int j = 0; j < W; ++j) total[half / W] = T::add(total[half / W], r[j]);
      }
    }
    if (sums)
      for (int half = 0; half < width && half < rows; half += W) T::add_first(sums + half, rows - half, total[half / W]);
    return;
  }
#endif
  for (std::int64_t k0 = 0; k0 < cols; k0 += 16)
    for (std::int64_t l = 0; l < width; ++l) {
      const std::int64_t k1 = std::min(cols, k0 + 16);
      for (std::int64_t k = k0; k < k1; ++k)
        if (float* d = dst_of(k)) d[l] = l < rows ? src[l * src_stride + k] : 0.f;
    }
  if (sums)
    for (std::int64_t l = 0; l < rows; ++l)
      for (std::int64_t k = 0; k < cols; ++k) sums[l] += src[l * src_stride + k];
}

// dst[k * dst_stride + l] = src[l * src_stride + k]: transpose_columns into a panel. Packs
// weights into channel blocks and dy into pixel-major dy^T (Width = kBlock), and the rows of a
// GEMM tile (kernels/gemm_tiles.hpp, Width = kLanes). (Width as a run-time argument cost the
// data gradient of shape 2 1.5 % on Zen 4, in its weight packing.)
template <int Width = kBlock>
void transpose_panel(float* dst, std::int64_t dst_stride, const float* src, std::int64_t src_stride,
                     std::int64_t rows, std::int64_t cols, float* sums = nullptr) {
  transpose_columns<Width>([&](std::int64_t k) { return dst + k * dst_stride; }, src, src_stride, rows, cols, sums);
}

// dst[k][l] = src[l * src_stride + k]: transpose_columns to a destination per column (null:
// dropped), for weights whose taps go to different places (the data gradient's stride phases).
template <int Width = kBlock>
void transpose_panel_to(float* const* dst, const float* src, std::int64_t src_stride, std::int64_t rows,
                        std::int64_t cols) {
  transpose_columns<Width>([&](std::int64_t k) { return dst[k]; }, src, src_stride, rows, cols, nullptr);
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
