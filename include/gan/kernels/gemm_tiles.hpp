#pragma once
// Float GEMM on the direct conv's micro-kernel: conv_tile with a single tap is a GEMM tile,
// kMaxPix rows of C (broadcast) by kBlock columns (vectors), so the linear layers run on the
// same register blocking as the convs. Eigen's product (kernels/gemm.hpp) ran those layers at
// 59-73 % of the FMA peak on Zen 4 and grew and trimmed the heap around its packing buffer on
// every call; here the packed operands come from the caching allocator.
//
// C = P^T V in the tile's terms: the vector side V (k x lanes, packed in kBlock-wide blocks)
// and the broadcast side P (k x rows). C's columns are the vector side, or, for a C with few
// columns (a layer's data gradient into 100 inputs), its rows, stored transposed.

#include <algorithm>
#include <cstdint>

#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_layout.hpp"
#include "gan/kernels/conv_microkernels.hpp"
#include "gan/kernels/conv_scheduling.hpp"
#include "gan/kernels/conv_tiles.hpp"

namespace gan {
namespace kernels {
namespace direct {

// A k x len operand: element (kk, i) at data[kk * k_stride + i * i_stride], one stride 1.
struct GemmSide {
  const float* data;
  std::int64_t k_stride, i_stride;
};

// Columns [i0, i0 + lanes) of side s (k x len) as k rows of Width floats at dst (kBlock or
// kLanes, at least lanes), zeros in the lanes past `lanes`.
template <int Width>
void pack_gemm_block(float* dst, const GemmSide& s, std::int64_t k, std::int64_t i0, std::int64_t lanes) {
  constexpr int width = Width;
  if (s.i_stride != 1) return transpose_panel<Width>(dst, width, s.data + i0 * s.i_stride, s.i_stride, lanes, k);
  // In vectors when the block is full (std::copy's call per row took 6 % of a product).
  for (std::int64_t kk = 0; kk < k; ++kk) {
    const float* src = s.data + kk * s.k_stride + i0;
    float* d = dst + kk * width;
    if (lanes == width) {
      for (int l = 0; l < width; l += kLanes) Vec::load_unaligned(src + l).store_aligned(d + l);
      continue;
    }
    std::copy(src, src + lanes, d);
    std::fill(d + lanes, d + width, 0.f);
  }
}

// C's rows x kBlock tile at c (row stride ldc, any alignment) = or += conv_tile's sums with one
// tap: k rows of broadcasts at src (src_stride apart) by the packed vector side w (k, kBlock),
// plus bias[0, kBlock) on every row unless bias is null, stored straight from the registers.
// Through conv_tile's aligned buffer and then into C, the weight gradient of a 3,136 -> 128
// layer (k = 64) ran at 95 against 102 GFLOP/s on 1 thread, 183 against 204 on 2 (3
// interleaved pairs, Zen 4).
template <int Rows>
void gemm_tile(float* c, std::int64_t ldc, bool accumulate, const float* src, std::int64_t src_stride, int k,
               const float* w, const float* bias) {
  Vec acc[kVecs][Rows];
  const std::int64_t tap = 0;
  conv_tile_sums<1, Rows, 1>(acc, src, src_stride, 0, k, &tap, 1, w);
  Vec bias_v[kVecs];
#pragma GCC unroll 16
  for (int v = 0; v < kVecs; ++v) bias_v[v] = bias ? Vec::load_unaligned(bias + v * kLanes) : Vec(0.f);
#pragma GCC unroll 16
  for (int p = 0; p < Rows; ++p)
#pragma GCC unroll 16
    for (int v = 0; v < kVecs; ++v) {
      float* d = c + p * ldc + v * kLanes;
      Vec r = acc[v][p];
      if (bias) r += bias_v[v];
      if (accumulate) r += Vec::load_unaligned(d);
      r.store_unaligned(d);
    }
}

using GemmTileFn = void (*)(float*, std::int64_t, bool, const float*, std::int64_t, int, const float*, const float*);

// The gemm_tile for 1 <= rows <= kMaxPix.
inline GemmTileFn gemm_tile_fn(int rows) {
  static constexpr auto table = instances<kMaxPix>([](auto rows) { return &gemm_tile<decltype(rows)::value>; });
  return table[rows - 1];
}

// Reduction steps per chunk of a product whose packed vector side exceeds L2 (gemm_tiles).
inline constexpr std::int64_t kGemmChunk = 512;

// Floats per row of a packed panel of the broadcast side: its kMaxPix rows, in whole vectors
// (a panel as wide as a vector block moved 2.3x the bytes the tiles read). One vector, or on
// SSE2 (4 lanes, 6 rows) a block of two.
inline constexpr int kGemmPanelWidth = (kMaxPix + kLanes - 1) / kLanes * kLanes;
static_assert(kGemmPanelWidth == kLanes || kGemmPanelWidth == kBlock, "transpose_panel packs the panels");

// The fewest rows of the broadcast side worth a tile pass, and the shallowest reduction:
// thinner products (a layer into one feature) are matrix-vector products, which gemm leaves to
// Eigen, and shallower ones are bound by writing C (the data gradient of a layer into one
// feature, k = 1, wrote its 1.6 MB at half Eigen's speed through tiles): gemm_shallow.
inline constexpr std::int64_t kGemmTileMinRows = 4, kGemmTileMinDepth = 8;

// kRows rows of C, each the sum of k rows of op(B) (k x n) weighted by its row of coef
// (kGemmTileMinDepth apart), written once in order. The rows go together because their stores
// then run as kRows streams, which write a C that misses L2 faster than one stream does (the
// k = 1 product below, 1.6 MB, as a plain loop: 25 GFLOP/s one row at a time, 31 / 37 / 40 / 41
// with 2 / 4 / 8 / 16, Zen 4), and they share op(B)'s loads. The stores step one pointer down
// the rows: with a pointer per row, spilled, the same groups ran at 25-28 GFLOP/s.
template <int kRows>
inline void gemm_shallow_rows(std::int64_t n, std::int64_t k, const float* coef, const float* rows_b, bool accumulate,
                              float* dst) {
  const std::int64_t whole = n / kLanes * kLanes;
  for (std::int64_t j = 0; j < whole; j += kLanes) {
    Vec sum[kRows];
    float* out = dst + j;
    for (int r = 0; r < kRows; ++r) sum[r] = accumulate ? Vec::load_unaligned(out + r * n) : Vec(0.f);
    for (std::int64_t kk = 0; kk < k; ++kk) {
      const Vec b = Vec::load_unaligned(rows_b + kk * n + j);
      for (int r = 0; r < kRows; ++r) sum[r] = xsimd::fma(Vec(coef[r * kGemmTileMinDepth + kk]), b, sum[r]);
    }
    for (int r = 0; r < kRows; ++r, out += n) sum[r].store_unaligned(out);
  }
  for (int r = 0; r < kRows; ++r)
    for (std::int64_t j = whole; j < n; ++j) {
      float v = accumulate ? dst[r * n + j] : 0.f;
      for (std::int64_t kk = 0; kk < k; ++kk) v += coef[r * kGemmTileMinDepth + kk] * rows_b[kk * n + j];
      dst[r * n + j] = v;
    }
}

// C (m x n) = op(A) op(B), or += when accumulate, for k < kGemmTileMinDepth, in groups of 16 rows
// (gemm_shallow_rows; op(B) packed first when B is transposed). The data gradient of a layer into
// one feature (k = 1, 64 x 6272), gan_bench_linear on Zen 4, 1 / 2 threads: 34-35 / 63-68 GFLOP/s
// (8-row groups 33-34 / 54-65), one row at a time 20-22 / 38-42, Eigen 18 / 21, PyTorch's
// OpenBLAS 34 / 34.
inline void gemm_shallow(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                         const float* b, bool accumulate, float* c) {
  constexpr int kGroup = 16;
  Tensor<float> packed = Tensor<float>::empty(Shape{tb ? k * n : 0});
  if (tb)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t kk = 0; kk < k; ++kk) packed.data()[kk * n + j] = b[j * k + kk];
  const float* rows_b = tb ? packed.data() : b;  // op(B), k x n
  // Whole groups, then the rows left over one by one (so a few rows still spread over the team).
  // Captured by value: by reference, every vector reloaded k, n and the pointers from the stack
  // (18 against 21 GFLOP/s one row at a time).
  const std::int64_t groups = m / kGroup;
  parallel_items(team_size(), groups + m % kGroup, [=](std::int64_t item) {
    const std::int64_t first = item < groups ? item * kGroup : groups * kGroup + (item - groups);
    const std::int64_t rows = item < groups ? kGroup : 1;
    float coef[kGroup * kGemmTileMinDepth];
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t kk = 0; kk < k; ++kk)
        coef[r * kGemmTileMinDepth + kk] = ta ? a[kk * m + first + r] : a[(first + r) * k + kk];
    float* dst = c + first * n;
    if (rows == kGroup) return gemm_shallow_rows<kGroup>(n, k, coef, rows_b, accumulate, dst);
    gemm_shallow_rows<1>(n, k, coef, rows_b, accumulate, dst);
  });
}

// C (m x n, row-major) = op(A) op(B), or C += op(A) op(B) when accumulate; A is m x k (k x m
// when ta), B k x n (n x k when tb), both row-major. With column_bias (n floats), also plus
// column_bias[j] in every row's column j: a linear layer's bias, added as the tiles store
// instead of broadcast into C first in a pass of its own, which C then had to be read back
// from (a batch of 64 into 6,272 features: a 1.6 MB pass, on one thread; its forward ran
// 96.5-97.4 -> 99.1-100.8 GFLOP/s on 1 thread and 141-181 -> 185-195 on 2, Zen 4, 5
// interleaved pairs; the other layers even). Returns false, doing nothing, for a product
// this path does not take (above; with a bias, also the shallow products).
inline bool gemm_tiles(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b,
                       bool accumulate, float* c, const float* column_bias = nullptr) {
  // Vectors along C's columns, or along its rows when that leaves fewer empty lanes.
  auto padded = [](std::int64_t len) { return (len + kBlock - 1) / kBlock * kBlock; };
  const bool transposed = padded(m) * n < padded(n) * m;
  const std::int64_t lanes_n = transposed ? m : n, rows_n = transposed ? n : m;
  if (k == 0 || rows_n < kGemmTileMinRows || (column_bias && k < kGemmTileMinDepth)) return false;
  if (k < kGemmTileMinDepth) return gemm_shallow(ta, tb, m, n, k, a, b, accumulate, c), true;
  const GemmSide op_b = tb ? GemmSide{b, 1, k} : GemmSide{b, n, 1};   // op(B) as k x n
  const GemmSide op_at = ta ? GemmSide{a, m, 1} : GemmSide{a, 1, k};  // op(A)^T as k x m
  const GemmSide vec = transposed ? op_at : op_b, bcast = transposed ? op_b : op_at;
  const int threads = team_size();
  const std::int64_t blocks = (lanes_n + kBlock - 1) / kBlock, panels = (rows_n + kMaxPix - 1) / kMaxPix;
  auto lanes_of = [&](std::int64_t vb) { return std::min<std::int64_t>(kBlock, lanes_n - vb * kBlock); };
  // Near-equal panels of rows (100 rows as 8 panels of 12-13, not 7 x 14 + 2: a 2-row tile has
  // too few accumulators to hide the FMA latency).
  auto first_row = [&](std::int64_t pp) { return pp * rows_n / panels; };
  // The broadcast side is read in place when its rows run along memory, else packed too.
  const bool bcast_in_place = bcast.i_stride == 1;
  constexpr int width = kGemmPanelWidth;
  Tensor<float> pbuf = Tensor<float>::empty(Shape{bcast_in_place ? 0 : panels * k * width});
  if (!bcast_in_place)
    parallel_items(threads, panels, [&](std::int64_t pp) {
      pack_gemm_block<width>(pbuf.data() + pp * k * width, bcast, k, first_row(pp), first_row(pp + 1) - first_row(pp));
    });
  const std::int64_t tap = 0;
  // Tile (vb, pp) of C over reduction steps [k0, k0 + kc), from those steps of the vector
  // side's block vb packed at vp; added to C when `add`; the bias with the first steps.
  auto run_tile = [&](std::int64_t vb, std::int64_t pp, const float* vp, std::int64_t k0, std::int64_t kc, bool add) {
    const std::int64_t r0 = first_row(pp), v0 = vb * kBlock, lanes = lanes_of(vb);
    const int rows = static_cast<int>(first_row(pp + 1) - r0);
    const float* src = bcast_in_place ? bcast.data + k0 * bcast.k_stride + r0 : pbuf.data() + (pp * k + k0) * width;
    const std::int64_t src_stride = bcast_in_place ? bcast.k_stride : width;
    const float* bias = k0 == 0 ? column_bias : nullptr;
    if (!transposed && lanes == kBlock)  // the rest goes through the tile buffer (store_tile, or part blocks)
      return gemm_tile_fn(rows)(c + r0 * n + v0, n, add, src, src_stride, static_cast<int>(kc), vp,
                                bias ? bias + v0 : nullptr);
    alignas(64) float tile[kTileRows * kBlock];
    conv_tile_fn(1, rows, 1)(tile, src, src_stride, 0, static_cast<int>(kc), &tap, 1, vp);
    if (transposed) {  // tile row p is C's column r0 + p: its bias goes in first (few columns)
      for (std::int64_t l = 0; bias && l < lanes; ++l)
        for (int p = 0; p < rows; ++p) {
          float& d = c[(v0 + l) * n + r0 + p];
          d = (add ? d : 0.f) + bias[r0 + p];
        }
      const PixTile pt{0, 0, 1, rows};
      return store_tile(c + v0 * n + r0, n, 0, 1, tile, pt, lanes, nullptr, add || bias);
    }
    // Whole vectors, then the lanes of a part-filled block one at a time (std::copy's call per
    // row took longer than the row: a product with k = 1 ran at half Eigen's speed).
    const std::int64_t whole = lanes / kLanes * kLanes;
    for (int p = 0; p < rows; ++p) {
      float* dst = c + (r0 + p) * n + v0;
      const float* t = tile + p * kBlock;
      for (std::int64_t l = 0; l < whole; l += kLanes) {
        Vec v = Vec::load_aligned(t + l);
        if (add) v += Vec::load_unaligned(dst + l);
        if (bias) v += Vec::load_unaligned(bias + v0 + l);
        v.store_unaligned(dst + l);
      }
      for (std::int64_t l = whole; l < lanes; ++l)
        dst[l] = (add ? dst[l] : 0.f) + t[l] + (bias ? bias[v0 + l] : 0.f);
    }
  };
  // A packed vector side beyond L2 (> 512 KB) goes block by block, each thread packing a block
  // into its own slot just before that block's tiles (when the blocks share out evenly), a
  // chunk of kGemmChunk reduction steps at a time: a chunk of the block and of every panel (64
  // + 160 KB for a batch of 64) stay in L2 for all of its tiles. Known problem (Zen 4): the
  // forward of a 3136 -> 128 layer on 2 threads runs at ~160 or at ~90 GFLOP/s in phases that
  // last minutes, either way of packing; in the slow phase, packing x took 40 % of the time.
  // Cause not found (performance_notes.md, twelfth session).
  const bool by_block =
      blocks * k * kBlock > (std::int64_t{1} << 17) && (blocks % threads == 0 || blocks >= 4 * threads);
  if (by_block) {
    ThreadSlots slots(threads, std::min(k, kGemmChunk) * kBlock);
    parallel_items(threads, blocks, [&](std::int64_t vb) {
      float* vp = slots.mine(threads);
      for (std::int64_t k0 = 0; k0 < k; k0 += kGemmChunk) {
        const std::int64_t kc = std::min(kGemmChunk, k - k0);
        const GemmSide part{vec.data + k0 * vec.k_stride, vec.k_stride, vec.i_stride};
        pack_gemm_block<kBlock>(vp, part, kc, vb * kBlock, lanes_of(vb));
        for (std::int64_t pp = 0; pp < panels; ++pp) run_tile(vb, pp, vp, k0, kc, accumulate || k0 > 0);
      }
    });
    return true;
  }
  Tensor<float> vbuf = Tensor<float>::empty(Shape{blocks * k * kBlock});
  parallel_items(threads, blocks, [&](std::int64_t vb) {
    pack_gemm_block<kBlock>(vbuf.data() + vb * k * kBlock, vec, k, vb * kBlock, lanes_of(vb));
  });
  // Panel-major, so that C is written row band by row band (block-major, the k = 1 product
  // above wrote 14 rows 25 KB apart per tile, 2.3x slower, before it went to gemm_shallow).
  parallel_items(threads, blocks * panels, [&](std::int64_t item) {
    const std::int64_t vb = item % blocks;
    run_tile(vb, item / blocks, vbuf.data() + vb * k * kBlock, 0, k, accumulate);
  });
  return true;
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
