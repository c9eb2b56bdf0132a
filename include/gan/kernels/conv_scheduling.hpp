#pragma once
// How the direct conv kernels (kernels/conv_direct.hpp) share a call out over the OpenMP
// team: the team's size and this thread's slot in per-thread scratch, static loops inside and
// outside a parallel region, whether one image goes channel block by block, and the per-image
// loop that pads each image once and asks for the next one while the tiles run.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <utility>

#include "gan/config.hpp"
#include "gan/core/parallel.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_layout.hpp"

namespace gan {
namespace kernels {
namespace direct {

// Threads for one call: the team, or one when already inside a parallel region.
inline int team_size() {
#if GAN_HAS_OPENMP
  if (omp_in_parallel()) return 1;
#endif
  return max_threads();
}

// This thread's slot in per-thread scratch of a call that uses `threads` (from team_size()):
// its number in our team, or 0 when the call runs alone (perhaps inside someone else's
// parallel region, where omp_get_thread_num() would be the outer team's number).
inline int team_slot(int threads) {
#if GAN_HAS_OPENMP
  return threads > 1 ? omp_get_thread_num() : 0;
#else
  (void)threads;
  return 0;
#endif
}

// Per-thread scratch in one buffer: `slots` slots of `floats` floats, at(k) slot k and
// mine(threads) the calling thread's (team_slot). Slots start whole 4 KB pages plus 64 KB
// apart. Back to back, the two threads' scratch slowed both down on Zen 5: shape 9's forward
// (52 KB of shifted planes per thread) padded in 18-45 us per call instead of 9.5, slowest on
// the thread with the upper slot, until the slots were 48 KB or more apart (12 and 32 KB were
// not enough). Why was not pinned down; one core's prefetches reaching into the other's slot
// would fit. Apart, 2 threads, Google Benchmark, 4 interleaved runs: shape 1 forward / data
// gradient 186 -> 225 / 120 -> 168 GFLOP/s, shape 4 forward / data gradient 120 -> 167 /
// 176 -> 229, shape 9 forward / data gradient 340 -> 370 / 191 -> 212, weight gradients of
// shapes 1, 4 and 7 +1-4 %; the other rows -4 to +10 %, within the host's spread.
class ThreadSlots {
 public:
  ThreadSlots(std::int64_t slots, std::int64_t floats, bool zeroed = false)
      : stride_((floats + 1023) / 1024 * 1024 + kGuardFloats), buf_(Tensor<float>::empty(Shape{slots * stride_})) {
    for (std::int64_t k = 0; zeroed && k < slots; ++k) std::fill(at(k), at(k) + floats, 0.f);
  }
  float* at(std::int64_t k) { return buf_.data() + k * stride_; }
  float* mine(int threads) { return at(team_slot(threads)); }
  std::int64_t stride() const { return stride_; }  // floats from one slot to the next

 private:
  static constexpr std::int64_t kGuardFloats = 16 * 1024;
  std::int64_t stride_;
  Tensor<float> buf_;
};

// body(i) for i in [0, n), statically split over `threads`.
template <class Body>
void parallel_items(int threads, std::int64_t n, Body&& body) {
#if GAN_HAS_OPENMP
  if (threads > 1 && n > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#endif
  (void)threads;
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

// Inside a parallel region: body(i) for i in [0, n), shared out over the team (a worksharing
// loop, ending in a barrier) when `shared`, else all of it on the calling thread. `shared`
// must be the same on every thread of the team.
template <class Body>
void team_for(bool shared, std::int64_t n, Body&& body) {
#if GAN_HAS_OPENMP
  if (shared) {
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#endif
  (void)shared;
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

// Whether a call on `images` images goes channel block by block, each thread packing one
// block's weights (a reduction chunk at a time), or for the weight gradient reducing one
// block's accumulator, in its own buffer that stays in L2. For one image whose packed weights
// or accumulator (packed_floats) exceed L2, when the blocks share out evenly over the team:
// packed all at once, they are written out to memory and read back; with a batch, that one pack
// serves every image. And, on two or more threads, for one small image (its padded source,
// image_floats, within 256 KB, so every block reads it from L2) whose blocks split evenly over
// the team. The data gradient split such an image by rows, and each thread read all of the
// packed weights, half of them from the other core (Zen 5, 2 threads, 5 interleaved runs: conv
// 64->128 14x14 115 -> 178 GFLOP/s). The forward and the weight gradient already gave each
// thread its own blocks; there this path measured +3-8 % and -1 to +10 % on 14x14 and 28x28
// planes, for reasons not pinned down (it pads once per call and has fewer team barriers).
inline bool pack_per_block(std::int64_t images, std::int64_t packed_floats, std::int64_t image_floats,
                           std::int64_t blocks, int threads) {
  if (images != 1) return false;
  const bool large_pack = packed_floats > (std::int64_t{1} << 17) && (blocks % threads == 0 || blocks >= 4 * threads);
  const bool small_image = threads > 1 && image_floats <= (std::int64_t{1} << 16) && blocks % threads == 0;
  return large_pack || small_image;
}

// Asks for part `part` of `parts` of the cache lines of p[0, floats), into L2: the next
// image's (or chunk's) input, a slice per tile of the current one.
inline void prefetch_part(const float* p, std::int64_t floats, std::int64_t part, std::int64_t parts) {
  const std::int64_t lines = (floats * static_cast<std::int64_t>(sizeof(float)) + 63) / 64;
  const std::int64_t per = (lines + parts - 1) / parts;
  const char* bytes = reinterpret_cast<const char*>(p);
  for (std::int64_t l = part * per, end = std::min(lines, l + per); l < end; ++l) __builtin_prefetch(bytes + 64 * l, 0, 2);
}

// Asks for every cache line of p[0, floats) into L1: data the next step of the same loop reads.
inline void prefetch_run(const float* p, std::int64_t floats) {
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63};
  const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(p + floats);
  for (std::uintptr_t at = first; at < end; at += 64) __builtin_prefetch(reinterpret_cast<const void*>(at), 0, 3);
}

// body(i, next) for items i in [0, n) handed out as the team's threads come free, so that a
// thread that runs slower takes fewer: on this kind of VM one vCPU at a time can run the conv
// kernels 17-36 % slower than the other (presumably its core busy with another guest; the FMA
// probe runs alike on both), and with a static half each the faster thread waited (Zen 5, 2
// threads, channel blocks of one image, interleaved pairs while the vCPUs ran shape 7's
// transposed forward at 128-131 and 172-174 GFLOP/s: that pass +4 %, its data gradient +12 %;
// with both vCPUs alike, 0.99-1.01). For long items only: these blocks take 0.3-1.5 ms, and
// images of ~1.6 us lost (see for_padded_images). next() takes the item the calling thread runs
// after i (n or more: none) the first time it is called, for body to ask for that item's data
// ahead; from then on the item is held back from a thread that comes free, so body asks as
// late as its prefetch allows.
template <class Body>
void parallel_items_as_taken(int threads, std::int64_t n, Body&& body) {
  std::atomic<std::int64_t> counter{0};
  parallel_items(threads, threads, [&](std::int64_t) {
    std::int64_t item = counter.fetch_add(1);
    while (item < n) {
      std::int64_t after = -1;
      auto next = [&] {
        if (after < 0) after = counter.fetch_add(1);
        return after;
      };
      body(item, next);
      item = next();
    }
  });
}

// The part of w a block-by-block call (pack_per_block) packs after chunk [c0, c0 + nc) of
// `block`: the block's next chunk, or the first of the block next() gives (the thread's next
// in parallel_items_as_taken); none after the last.
struct NextPart {
  std::int64_t block, c0, channels;
};
template <class Next>
NextPart next_part(std::int64_t block, std::int64_t c0, std::int64_t nc, std::int64_t chunk, std::int64_t channels,
                   std::int64_t blocks, Next&& next) {
  const bool same_block = c0 + nc < channels;
  NextPart part{same_block ? block : next(), same_block ? c0 + nc : 0, 0};
  if (part.block < blocks) part.channels = std::min(chunk, channels - part.c0);
  return part;
}

// prefetch_part over `rows` rows of `floats` floats each, `stride` floats apart (the next
// chunk of packed-on-the-fly weights, a slice per tile of the current one).
inline void prefetch_rows_part(const float* p, std::int64_t rows, std::int64_t stride, std::int64_t floats,
                               std::int64_t part, std::int64_t parts) {
  const std::int64_t per_row = (floats * static_cast<std::int64_t>(sizeof(float)) + 63) / 64, lines = rows * per_row;
  if (lines <= 0) return;
  const std::int64_t per = (lines + parts - 1) / parts, first = std::min(lines, part * per);
  std::int64_t row = first / per_row, line = first % per_row;  // stepped: no division per line
  for (std::int64_t l = first, end = std::min(lines, first + per); l < end; ++l) {
    __builtin_prefetch(reinterpret_cast<const char*>(p + row * stride) + 64 * line, 0, 2);
    if (++line == per_row) line = 0, ++row;
  }
}

// Runs body(i, buf, chan, row0) for items i in [0, n) of one image that go down its rows,
// statically split over the team. The image is `channels` planes of src (h x w, src_plane
// floats apart), zero-padded to height x width with their origin at (top, left). Each thread
// pads only the rows its own items read (rows_of(i): the item's [first, end) rows of the padded
// plane) into its own buffer, planes chan floats apart from row row0 on, then runs its items,
// which read them back from its own caches. Padded a plane per item across the team, half of
// each thread's rows came from the other core (shape 6 on 2 threads, Zen 5, interleaved pairs:
// data gradient +8-12 %, forward +3.5 %; 1 thread unchanged).
template <class RowsOf, class Body>
void for_own_rows(int threads, std::int64_t n, const float* src, std::int64_t channels, std::int64_t src_plane,
                  std::int64_t h, std::int64_t w, std::int64_t height, std::int64_t width, std::int64_t top,
                  std::int64_t left, RowsOf&& rows_of, Body&& body) {
  ThreadSlots bufs(threads, channels * height * width);
  parallel_items(threads, threads, [&](std::int64_t part) {
    const std::int64_t i0 = n * part / threads, i1 = n * (part + 1) / threads;
    if (i0 == i1) return;
    std::int64_t lo = height, hi = 0;
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::pair<std::int64_t, std::int64_t> r = rows_of(i);
      lo = std::min(lo, r.first), hi = std::max(hi, r.second);
    }
    float* const buf = bufs.mine(threads);
    const std::int64_t chan = (hi - lo) * width;
    for (std::int64_t c = 0; c < channels; ++c)
      strided_plane(buf + c * chan, src + c * src_plane, h, w, hi - lo, width, 1, 1, top - lo, left);
    for (std::int64_t i = i0; i < i1; ++i) body(i, buf, chan, lo);
  });
}

// Runs body(n, padded_image, item) for every image n and item in [0, items): per image on
// one thread with its own padded copy when the batch splits evenly over the team, otherwise
// all images padded first and the (image, item) pairs shared out. Image n's source (what pad
// reads) is the src_floats floats at src + n * src_image: all of the image, or the channels of
// one reduction chunk. The images go to the threads a static share each: handed out one at a
// time from a counter (parallel_items_as_taken), shape 1's forward and shape 4's data gradient
// (~1.6 us an image) ran at 0.47x on 2 threads (8 pairs), and still at 0.9x when handed out
// 32 at a time (why was not pinned down), while shape 8's transposed forward gained 8 % only
// while one vCPU ran slower than the other.
//
// Per image, the items also ask for the next image's source a slice at a time (into L2):
// padding otherwise waits on the input's cache misses, one plane row after another (shape 5's
// forward spent 9 % of its time in those loads), while the tiles leave the memory bus idle.
template <class Pad, class Body>
void for_padded_images(int threads, std::int64_t n, std::int64_t channels, std::int64_t plane, std::int64_t items,
                       const float* src, std::int64_t src_image, std::int64_t src_floats, Pad&& pad, Body&& body) {
  const bool per_image = threads == 1 || n % threads == 0 || n >= 4 * threads;
  if (per_image) {
    ThreadSlots bufs(std::min<std::int64_t>(threads, n), channels * plane);
    parallel_items(std::min<std::int64_t>(threads, n), n, [&](std::int64_t i) {
      float* xp = bufs.mine(threads);
      for (std::int64_t c = 0; c < channels; ++c) pad(xp + c * plane, i, c);
      for (std::int64_t it = 0; it < items; ++it) {
        if (i + 1 < n) prefetch_part(src + (i + 1) * src_image, src_floats, it, items);
        body(i, xp, it);
      }
    });
    return;
  }
  Tensor<float> buf = Tensor<float>::empty(Shape{n, channels * plane});
  parallel_items(threads, n * channels, [&](std::int64_t i) { pad(buf.data() + i * plane, i / channels, i % channels); });
  parallel_items(threads, n * items, [&](std::int64_t i) {
    body(i / items, buf.data() + (i / items) * channels * plane, i % items);
  });
}

// for_padded_images over the images of x (the input of s) split into phase planes.
template <class Body>
void for_phase_images(int threads, const ConvShape& s, const PhaseImage& pi, const float* x, std::int64_t items,
                      Body&& body) {
  const std::int64_t x_plane = s.in_h * s.in_w, x_image = s.in_c * x_plane;
  for_padded_images(
      threads, s.n, s.in_c, pi.chan, items, x, x_image, x_image,
      [&](float* dst, std::int64_t n, std::int64_t c) { pi.fill(dst, x + n * x_image + c * x_plane, s); },
      std::forward<Body>(body));
}

}  // namespace direct
}  // namespace kernels
}  // namespace gan
