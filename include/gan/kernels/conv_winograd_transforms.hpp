#pragma once
// The 1-D transforms of the two Winograd algorithms kernels/conv_winograd.hpp runs, each F(m, r):
// m outputs of an r-tap correlation y(i) = sum_a g(a) d(i + a) from m + r - 1 inputs with
// m + r - 1 products instead of m * r (Lavin & Gray 2015). Nested (rows, then columns), a tile
// of m x m outputs takes (m + r - 1)^2 products per channel pair:
//   Y = A^T [ (G g G^T) . (B^T d B) ] A
// Each struct gives the tile sizes and, on vectors of any width, B^T d (input_1d, in place),
// G g (weight_1d) and A^T m (output_1d), with `stride` between a row's (or column's) elements.

#include "gan/kernels/simd.hpp"

namespace gan {
namespace kernels {
namespace direct {
namespace winograd {

// F(4, 2), points 0, 1, -1, 2, inf: the 2x2 correlations of a 4x4 stride-2 conv split by
// stride phase. 25 products for a 4x4 tile instead of 64; the transforms scale values by up to 8.
struct F4x4_2x2 {
  static constexpr int kOut = 4, kTaps = 2, kIn = kOut + kTaps - 1;

  template <class V>
  static void input_1d(V* d, int stride) {
    const V d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride], d4 = d[4 * stride];
    const V d31 = d3 - d1;
    d[0] = xsimd::fma(d31, V(0.5f), d0 - d2);
    d[stride] = xsimd::fma(d2 - d3, V(0.5f), d1);
    d[2 * stride] = xsimd::fnma(d1, V(1.f / 3), xsimd::fnma(d3, V(1.f / 6), d2 * V(0.5f)));
    d[3 * stride] = d31 * V(1.f / 6);
    d[4 * stride] = xsimd::fnma(d31, V(2.f), d4 - d2);
  }

  template <class V>
  static void weight_1d(V* out, const V* g, int stride) {
    const V g0 = g[0], g1 = g[stride];
    out[0] = g0, out[stride] = g0 + g1, out[2 * stride] = g0 - g1, out[3 * stride] = xsimd::fma(g1, V(2.f), g0);
    out[4 * stride] = g1;
  }

  template <class V>
  static void output_1d(V* out, const V* m, int in_stride, int out_stride) {
    const V m0 = m[0], m1 = m[in_stride], m2 = m[2 * in_stride], m3 = m[3 * in_stride], m4 = m[4 * in_stride];
    const V sum = m1 + m2, diff = m1 - m2;
    out[0] = m0 + sum + m3;
    out[out_stride] = xsimd::fma(m3, V(2.f), diff);
    out[2 * out_stride] = xsimd::fma(m3, V(4.f), sum);
    out[3 * out_stride] = xsimd::fma(m3, V(8.f), diff) + m4;
  }

  // The weight gradient's transforms (kernels/conv_winograd_wgrad.hpp), the adjoints of two of
  // the above, in place. A d: kOut values of dy to kIn (output_1d's transpose; the last one is
  // written at 4 * stride). G^T m: kIn values to kTaps (weight_1d's transpose).
  template <class V>
  static void output_adjoint_1d(V* d, int stride) {
    const V d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride];
    const V even = d0 + d2, odd = d1 + d3;
    d[stride] = even + odd, d[2 * stride] = even - odd;
    d[3 * stride] = xsimd::fma(d3, V(8.f), xsimd::fma(d2, V(4.f), xsimd::fma(d1, V(2.f), d0)));
    d[4 * stride] = d3;
  }

  template <class V>
  static void weight_adjoint_1d(V* m, int stride) {
    const V m0 = m[0], m1 = m[stride], m2 = m[2 * stride], m3 = m[3 * stride], m4 = m[4 * stride];
    m[0] = m0 + m1 + m2 + m3;
    m[stride] = xsimd::fma(m3, V(2.f), m1 - m2) + m4;
  }
};

// F(2, 3), points 0, 1, -1, inf: 3x3 stride-1 convs. 16 products for a 2x2 tile instead of 36;
// the transforms only add, subtract and halve, so results stay as close to a direct sum.
struct F2x2_3x3 {
  static constexpr int kOut = 2, kTaps = 3, kIn = kOut + kTaps - 1;

  template <class V>
  static void input_1d(V* d, int stride) {
    const V d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride];
    d[0] = d0 - d2, d[stride] = d1 + d2, d[2 * stride] = d2 - d1, d[3 * stride] = d1 - d3;
  }

  template <class V>
  static void weight_1d(V* out, const V* g, int stride) {
    const V g0 = g[0], g1 = g[stride], g2 = g[2 * stride], half_even = (g0 + g2) * V(0.5f), half_odd = g1 * V(0.5f);
    out[0] = g0, out[stride] = half_even + half_odd, out[2 * stride] = half_even - half_odd, out[3 * stride] = g2;
  }

  template <class V>
  static void output_1d(V* out, const V* m, int in_stride, int out_stride) {
    const V m0 = m[0], m1 = m[in_stride], m2 = m[2 * in_stride], m3 = m[3 * in_stride];
    out[0] = m0 + m1 + m2;
    out[out_stride] = m1 - m2 - m3;
  }
};

}  // namespace winograd
}  // namespace direct
}  // namespace kernels
}  // namespace gan
