#pragma once
// Winograd F(4x4, 2x2) for the 4x4 stride-2 convolutions of DCGAN-type nets, forward and data
// gradient (the transposed conv's forward): about half the multiply-adds of the direct kernels.
//
// Split by stride phase, a 4x4 stride-2 conv is a 2x2 stride-1 correlation:
//   forward:   y(o, i, j) = sum_{c,p,q,a,b} w(o, c, 2a+p, 2b+q) x(c, 2(i+a)+p-pad, 2(j+b)+q-pad)
//              input channels c' = (c, p, q) of the phase planes of x, output channels o.
//   data grad: dx(c, 2u+p-pad, 2v+q-pad) = sum_{o,a,b} w(o, c, 2(1-a)+p, 2(1-b)+q) dy(o, u+a-1, v+b-1)
//              input channels o of dy shifted by one, output channels o' = (c, p, q) of dx's phases.
// F(4, 2) computes 4 outputs of a 2-tap correlation from 5 inputs with 5 products instead of 8,
// so a 4x4 output tile takes 25 products per channel pair instead of 64. Per tile of 4x4 outputs:
//   Y = A^T [ sum_c' (G g G^T) . (B^T d B) ] A        (Lavin & Gray 2015; points 0, 1, -1, 2, inf)
// and the sum over c' is, for each of the 25 points, a product (tiles x c') (c' x o'): the
// direct kernels' conv_tile with one tap. Tiles go in chunks of 2 * kLanes, gathered across
// images, so each product has rows to fill a tile whatever the plane.
//
// Precision: the transforms scale values by up to 8. On shape 2 (batch 8, inputs and weights in
// [-1, 1]) the fp32 results were 6.6e-6 (forward) and 3.7e-6 (data gradient) of the largest
// output off a double sum, the direct kernels' 1.2e-6 and 0.9e-6; test_conv_winograd.cpp holds
// them to 1e-5.

#include <algorithm>
#include <cstdint>
#include <limits>

#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"

namespace gan {
namespace kernels {
namespace direct {
namespace winograd {

inline constexpr int kTileOut = 4, kTileIn = 5, kPoints = kTileIn * kTileIn;
inline constexpr std::int64_t kChunkTiles = 2 * kLanes;  // tiles per chunk: one gather per lane

// B^T d: 5 inputs of a tile row (or column) -> 5 transformed, in place of d.
template <class V>
void input_1d(V* d, int stride) {
  const V d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride], d4 = d[4 * stride];
  const V d31 = d3 - d1;
  d[0] = xsimd::fma(d31, V(0.5f), d0 - d2);
  d[stride] = xsimd::fma(d2 - d3, V(0.5f), d1);
  d[2 * stride] = xsimd::fnma(d1, V(1.f / 3), xsimd::fnma(d3, V(1.f / 6), d2 * V(0.5f)));
  d[3 * stride] = d31 * V(1.f / 6);
  d[4 * stride] = xsimd::fnma(d31, V(2.f), d4 - d2);
}

// G g: 2 taps -> 5.
template <class V>
void weight_1d(V* out, const V* g, int stride) {
  const V g0 = g[0], g1 = g[stride];
  out[0] = g0, out[stride] = g0 + g1, out[2 * stride] = g0 - g1, out[3 * stride] = xsimd::fma(g1, V(2.f), g0);
  out[4 * stride] = g1;
}

// A^T m: 5 products -> 4 outputs.
template <class V>
void output_1d(V* out, const V* m, int in_stride, int out_stride) {
  const V m0 = m[0], m1 = m[in_stride], m2 = m[2 * in_stride], m3 = m[3 * in_stride], m4 = m[4 * in_stride];
  const V sum = m1 + m2, diff = m1 - m2;
  out[0] = m0 + sum + m3;
  out[out_stride] = xsimd::fma(m3, V(2.f), diff);
  out[2 * out_stride] = xsimd::fma(m3, V(4.f), sum);
  out[3 * out_stride] = xsimd::fma(m3, V(8.f), diff) + m4;
}

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
  std::int64_t tiles_h = 0, tiles_w = 0;  // 4x4 tiles of (u, v)
  std::int64_t in_channels() const { return src_c * phases_in; }
  std::int64_t out_channels() const { return dst_c * phases_out; }
  std::int64_t tiles() const { return n * tiles_h * tiles_w; }
};

inline int step_of(int phases) { return phases == 4 ? 2 : 1; }

// Where tap (a, b) of the 2x2 correlation's weight (o', c') sits in the real weight: at
// lane_part(o', a, b) + chan_part(c', a, b), one term per side, so each side's offsets are
// computed once. The forward's c' = (c, p, q) and the data gradient's o' = (c, p, q) (above).
struct WeightIndex {
  std::int64_t in_c = 0;  // the conv's input channels
  bool data_gradient = false;
  std::int64_t lane_part(std::int64_t o, int a, int b) const {
    if (!data_gradient) return o * in_c * 16;
    const std::int64_t ph = o % 4;
    return o / 4 * 16 + (2 * (1 - a) + ph / 2) * 4 + 2 * (1 - b) + ph % 2;
  }
  std::int64_t chan_part(std::int64_t c, int a, int b) const {
    if (data_gradient) return c * in_c * 16;
    const std::int64_t ph = c % 4;
    return c / 4 * 16 + (2 * a + ph / 2) * 4 + 2 * b + ph % 2;
  }
};

// Transformed weights U: (point, block of kBlock output channels, c', kBlock lanes), zero past the
// last output channel. 6.25x the weights (3.3 MB for shape 2): writing it takes ~4 % of a pass.
inline void transform_weights(float* u, const float* w, const Geometry& g, const WeightIndex& at, int threads) {
  const std::int64_t zc = g.in_channels(), yc = g.out_channels(), blocks = (yc + kBlock - 1) / kBlock;
  parallel_items(threads, blocks * kVecs, [&](std::int64_t item) {
    const std::int64_t ob = item / kVecs;
    const int v = static_cast<int>(item % kVecs);
    alignas(64) std::int32_t offset[4][kLanes];
    alignas(64) float inside[kLanes];
    std::uint32_t bits = 0;
    for (int l = 0; l < kLanes; ++l) {
      const std::int64_t o = ob * kBlock + v * kLanes + l;
      inside[l] = o < yc ? 1.f : 0.f;
      bits |= o < yc ? 1u << l : 0u;
      for (int t = 0; t < 4; ++t) offset[t][l] = static_cast<std::int32_t>(o < yc ? at.lane_part(o, t / 2, t % 2) : 0);
    }
    for (std::int64_t c = 0; c < zc; ++c) {
      Vec g4[4], half[kTileIn * 2], full[kPoints];
      for (int t = 0; t < 4; ++t) g4[t] = masked_gather(w + at.chan_part(c, t / 2, t % 2), offset[t], inside, bits);
      for (int b = 0; b < 2; ++b) weight_1d(half + b, g4 + b, 2);                        // columns: (5 rows, 2)
      for (int r = 0; r < kTileIn; ++r) weight_1d(full + r * kTileIn, half + r * 2, 1);  // rows
      for (int pt = 0; pt < kPoints; ++pt)
        full[pt].store_aligned(u + ((pt * blocks + ob) * zc + c) * kBlock + v * kLanes);
    }
  });
}

// Lane l of gather group `group` of a chunk is tile first + group * kLanes + l; per tap (eu, ev)
// and input phase, the offset of its pixel in an image-stacked source and whether it is inside.
struct GatherPlan {
  alignas(64) std::int32_t offset[4][kPoints][kLanes];
  alignas(64) float inside[4][kPoints][kLanes];
  std::uint32_t inside_bits[4][kPoints];  // lane l of inside as bit l
};

inline void plan_gather(GatherPlan& plan, const Geometry& g, std::int64_t first) {
  const int step = step_of(g.phases_in);
  const std::int64_t plane = g.src_h * g.src_w, image = g.src_c * plane, per_image = g.tiles_h * g.tiles_w;
  for (int l = 0; l < kLanes; ++l) {
    const std::int64_t t = first + l;
    const bool real = t < g.tiles();
    const std::int64_t img = real ? t / per_image : 0, ti = real ? t % per_image / g.tiles_w : 0;
    const std::int64_t tj = real ? t % g.tiles_w : 0;
    for (int ph = 0; ph < g.phases_in; ++ph)
      for (int e = 0; e < kPoints; ++e) {
        const std::int64_t row = step * (ti * kTileOut + e / kTileIn) + ph / 2 - g.off_in;
        const std::int64_t col = step * (tj * kTileOut + e % kTileIn) + ph % 2 - g.off_in;
        const bool in = real && row >= 0 && row < g.src_h && col >= 0 && col < g.src_w;
        plan.offset[ph][e][l] = static_cast<std::int32_t>(in ? img * image + row * g.src_w + col : 0);
        plan.inside[ph][e][l] = in ? 1.f : 0.f;
        plan.inside_bits[ph][e] = (l == 0 ? 0u : plan.inside_bits[ph][e]) | (in ? 1u << l : 0u);
      }
  }
}

// V (point, c', chunk tile) for one gather group of a chunk: 25 gathers per c', transformed.
// Channel by channel, all phases of one together, so its planes stay in L1.
inline void transform_inputs(float* vbuf, const float* src, const Geometry& g, const GatherPlan& plan, int group) {
  const std::int64_t zc = g.in_channels(), plane = g.src_h * g.src_w;
  for (std::int64_t c = 0; c < g.src_c; ++c) {
    const float* base = src + c * plane;
    for (int ph = 0; ph < g.phases_in; ++ph) {
      Vec d[kPoints];
      for (int e = 0; e < kPoints; ++e)
        d[e] = masked_gather(base, plan.offset[ph][e], plan.inside[ph][e], plan.inside_bits[ph][e]);
      for (int col = 0; col < kTileIn; ++col) input_1d(d + col, kTileIn);  // down columns
      for (int row = 0; row < kTileIn; ++row) input_1d(d + row * kTileIn, 1);  // along rows
      const std::int64_t cc = c * g.phases_in + ph;
      for (int pt = 0; pt < kPoints; ++pt)
        d[pt].store_aligned(vbuf + (pt * zc + cc) * kChunkTiles + group * kLanes);
    }
  }
}

#if defined(__AVX512F__)
// The 16 pixels y[pixel][lane] of a tile for output channels o0 .. o0 + 15 into their image of
// dst, one masked scatter per pixel (one value at a time took 16 % of a shape-2 forward).
inline void scatter_tile_avx512(float* image, const float (*y)[16], const Geometry& g, std::int64_t ti,
                                std::int64_t tj, std::int64_t o0, const float* bias, bool accumulate) {
  const int step = step_of(g.phases_out), off = static_cast<int>(g.off_out);
  const int h = static_cast<int>(g.dst_h), w = static_cast<int>(g.dst_w);
  const __m512i o = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(o0)),
                                     _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  const __m512i one = _mm512_set1_epi32(1), zero = _mm512_setzero_si512();
  const bool phased = g.phases_out == 4;
  const __m512i c = phased ? _mm512_srli_epi32(o, 2) : o;
  const __m512i p = phased ? _mm512_and_si512(_mm512_srli_epi32(o, 1), one) : zero;
  const __m512i q = phased ? _mm512_and_si512(o, one) : zero;
  const __mmask16 real = _mm512_cmplt_epi32_mask(o, _mm512_set1_epi32(static_cast<int>(g.out_channels())));
  const __m512i lane = _mm512_add_epi32(_mm512_mullo_epi32(c, _mm512_set1_epi32(h * w)),
                                        _mm512_add_epi32(_mm512_mullo_epi32(p, _mm512_set1_epi32(w)), q));
  const __m512 add = bias ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), real, c, bias, 4) : _mm512_setzero_ps();
  for (int i = 0; i < kTileOut; ++i) {
    const int row0 = step * static_cast<int>(ti * kTileOut + i) - off;
    const __m512i row = _mm512_add_epi32(p, _mm512_set1_epi32(row0));
    const __mmask16 in_rows =
        real & _mm512_cmpge_epi32_mask(row, zero) & _mm512_cmplt_epi32_mask(row, _mm512_set1_epi32(h));
    if (!in_rows) continue;
    for (int j = 0; j < kTileOut; ++j) {
      const int col0 = step * static_cast<int>(tj * kTileOut + j) - off;
      const __m512i col = _mm512_add_epi32(q, _mm512_set1_epi32(col0));
      const __mmask16 m =
          in_rows & _mm512_cmpge_epi32_mask(col, zero) & _mm512_cmplt_epi32_mask(col, _mm512_set1_epi32(w));
      const __m512i idx = _mm512_add_epi32(lane, _mm512_set1_epi32(row0 * w + col0));
      __m512 v = _mm512_add_ps(_mm512_load_ps(y[i * kTileOut + j]), add);
      if (accumulate) v = _mm512_add_ps(v, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, image, 4));
      _mm512_mask_i32scatter_ps(image, m, idx, v, 4);
    }
  }
}
#endif

// The 4x4 outputs (A^T M A) of chunk row `row`, tile `tile`, for output channel block ob, from
// M (point, chunk tile, kBlock), written to dst: + dst when accumulate, + bias(o' / phases_out)
// when bias.
inline void scatter_outputs(float* dst, const float* mbuf, const Geometry& g, std::int64_t tile, std::int64_t row,
                            std::int64_t ob, const float* bias, bool accumulate) {
  const std::int64_t yc = g.out_channels(), per_image = g.tiles_h * g.tiles_w;
  const std::int64_t img = tile / per_image, ti = tile % per_image / g.tiles_w, tj = tile % g.tiles_w;
  const int step = step_of(g.phases_out);
  float* image = dst + img * g.dst_c * g.dst_h * g.dst_w;
  for (int v = 0; v < kVecs; ++v) {
    const std::int64_t o0 = ob * kBlock + v * kLanes;
    if (o0 >= yc) return;
    Vec m[kPoints], t[kTileOut * kTileIn];
    alignas(64) float y[kTileOut * kTileOut][kLanes];
    for (int pt = 0; pt < kPoints; ++pt)
      m[pt] = Vec::load_aligned(mbuf + (pt * kChunkTiles + row) * kBlock + v * kLanes);
    for (int col = 0; col < kTileIn; ++col) output_1d(t + col, m + col, kTileIn, kTileIn);
    for (int r = 0; r < kTileOut; ++r) {
      Vec out[kTileOut];
      output_1d(out, t + r * kTileIn, 1, 1);
      for (int j = 0; j < kTileOut; ++j) out[j].store_aligned(y[r * kTileOut + j]);
    }
#if defined(__AVX512F__)
    if constexpr (kLanes == 16) {
      scatter_tile_avx512(image, y, g, ti, tj, o0, bias, accumulate);
      continue;
    }
#endif
    for (int l = 0; l < kLanes && o0 + l < yc; ++l) {
      const std::int64_t c = (o0 + l) / g.phases_out, ph = (o0 + l) % g.phases_out;
      float* plane = image + c * g.dst_h * g.dst_w;
      const float add = bias ? bias[c] : 0.f;
      for (int i = 0; i < kTileOut; ++i) {
        const std::int64_t rr = step * (ti * kTileOut + i) + ph / 2 - g.off_out;
        if (rr < 0 || rr >= g.dst_h) continue;
        for (int j = 0; j < kTileOut; ++j) {
          const std::int64_t cc = step * (tj * kTileOut + j) + ph % 2 - g.off_out;
          if (cc < 0 || cc >= g.dst_w) continue;
          float& out = plane[rr * g.dst_w + cc];
          out = (accumulate ? out : 0.f) + y[i * kTileOut + j][l] + add;
        }
      }
    }
  }
}

// The whole correlation of g, its weights read from w through `at`.
inline void correlate(float* dst, const float* src, const float* w, const WeightIndex& at, const Geometry& g,
                      const float* bias, bool accumulate) {
  const int threads = team_size();
  const std::int64_t zc = g.in_channels(), blocks = (g.out_channels() + kBlock - 1) / kBlock;
  Tensor<float> ubuf = Tensor<float>::empty(Shape{kPoints * blocks * zc * kBlock});
  transform_weights(ubuf.data(), w, g, at, threads);
  const std::int64_t vfloats = kPoints * zc * kChunkTiles, tiles = g.tiles();
  ThreadSlots slots(threads, vfloats + kPoints * kChunkTiles * kBlock);
  const std::int64_t tap = 0;
  parallel_items(threads, (tiles + kChunkTiles - 1) / kChunkTiles, [&](std::int64_t chunk) {
    float* vbuf = slots.mine(threads);
    float* mbuf = vbuf + vfloats;
    const std::int64_t first = chunk * kChunkTiles, count = std::min(kChunkTiles, tiles - first);
    GatherPlan plan;
    for (int group = 0; group * kLanes < count; ++group) {
      plan_gather(plan, g, first + group * kLanes);
      transform_inputs(vbuf, src, g, plan, group);
    }
    // A block of output channels at a time, so M stays small (100 KB) next to the chunk's V.
    const std::int64_t panels = (count + kMaxPix - 1) / kMaxPix;
    for (std::int64_t ob = 0; ob < blocks; ++ob) {
      for (int pt = 0; pt < kPoints; ++pt)
        for (std::int64_t pp = 0; pp < panels; ++pp) {
          const std::int64_t r0 = pp * count / panels, r1 = (pp + 1) * count / panels;
          conv_tile_fn(1, static_cast<int>(r1 - r0), 1)(mbuf + (pt * kChunkTiles + r0) * kBlock,
                                                        vbuf + pt * zc * kChunkTiles + r0, kChunkTiles, 0,
                                                        static_cast<int>(zc), &tap, 1,
                                                        ubuf.data() + (pt * blocks + ob) * zc * kBlock);
        }
      for (std::int64_t row = 0; row < count; ++row)
        scatter_outputs(dst, mbuf, g, first + row, row, ob, bias, accumulate);
    }
  });
}

}  // namespace winograd

// The correlations of a 4x4 stride-2 conv (output oh x ow): its forward, and its data gradient.
inline winograd::Geometry winograd_forward_geometry(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  winograd::Geometry g;
  g.n = s.n, g.src_c = s.in_c, g.src_h = s.in_h, g.src_w = s.in_w;
  g.dst_c = s.out_c, g.dst_h = oh, g.dst_w = ow;
  g.phases_in = 4, g.off_in = s.pad_h;
  g.tiles_h = (oh + 3) / 4, g.tiles_w = (ow + 3) / 4;
  return g;
}

inline winograd::Geometry winograd_backward_data_geometry(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  winograd::Geometry g;
  g.n = s.n, g.src_c = s.out_c, g.src_h = oh, g.src_w = ow;
  g.dst_c = s.in_c, g.dst_h = s.in_h, g.dst_w = s.in_w;
  g.off_in = 1, g.phases_out = 4, g.off_out = s.pad_h;
  // dx row h is row u = (h + pad) / 2 of phase (h + pad) % 2
  const std::int64_t rows = (s.in_h + s.pad_h + 1) / 2, cols = (s.in_w + s.pad_w + 1) / 2;
  g.tiles_h = (rows + 3) / 4, g.tiles_w = (cols + 3) / 4;
  return g;
}

// Whether the Winograd kernels can run conv s (output oh x ow): 4x4, stride 2, no dilation,
// the same padding on both axes, and tensors small enough for 32-bit gather offsets.
inline bool winograd_supported(const ConvShape& s, std::int64_t oh, std::int64_t ow) {
  const std::int64_t biggest =
      std::max({s.n * s.in_c * s.in_h * s.in_w, s.n * s.out_c * oh * ow, s.in_c * s.out_c * 16});
  return s.kernel_h == 4 && s.kernel_w == 4 && s.stride_h == 2 && s.stride_w == 2 && s.dilation_h == 1 &&
         s.dilation_w == 1 && s.pad_h == s.pad_w && biggest < std::numeric_limits<std::int32_t>::max();
}

// Whether they beat the direct kernels on a supported conv's forward (or data gradient) on
// `threads` threads: at least 64 channels on each side of the correlation, at least two chunks
// of tiles per thread (a 1-image 16x16 -> 32x32 transposed conv, 1024 -> 256 channels, in one
// chunk ran 2 threads at 55-73 % of the direct kernels' rate), and at least 60 % of the tiles'
// outputs inside the plane (a 16x16 data gradient tiles its 9-row phases as 12: 44 %, and ran
// no faster than the direct kernel). Zen 4, 1 thread, the direct kernels' time over these:
// shapes 2 and 3 both ways 1.22-1.33, a 1-image 128x128 conv 64 -> 128 1.39 / 1.46, the data
// gradient of an 8x8 transposed conv 512 -> 256 2.06.
inline bool winograd_pays(const ConvShape& s, std::int64_t oh, std::int64_t ow, bool backward_data, int threads) {
  const winograd::Geometry g =
      backward_data ? winograd_backward_data_geometry(s, oh, ow) : winograd_forward_geometry(s, oh, ow);
  const double computed = static_cast<double>(g.tiles()) * winograd::kTileOut * winograd::kTileOut * g.out_channels();
  return g.in_channels() >= 64 && g.out_channels() >= 64 && g.tiles() >= 2 * threads * winograd::kChunkTiles &&
         static_cast<double>(g.n * g.dst_c * g.dst_h * g.dst_w) >= 0.6 * computed;
}

// y = conv(x, w) (+ b) (+ y when accumulate) for a winograd_supported conv with output oh x ow.
inline void conv_forward_winograd(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                                  std::int64_t oh, std::int64_t ow, bool accumulate) {
  const winograd::WeightIndex at{s.in_c, false};
  winograd::correlate(y, x, w, at, winograd_forward_geometry(s, oh, ow), b, accumulate);
}

// dx = conv^T(dy, w) (+ b per input channel) (+ dx when accumulate): the data gradient of a
// winograd_supported conv whose output is oh x ow.
inline void conv_backward_data_winograd(float* dx, const float* dy, const float* w, const ConvShape& s,
                                        std::int64_t oh, std::int64_t ow, const float* b, bool accumulate) {
  const winograd::WeightIndex at{s.in_c, true};
  winograd::correlate(dx, dy, w, at, winograd_backward_data_geometry(s, oh, ow), b, accumulate);
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
