#pragma once
// The one place that names xsimd. xsimd renamed things between releases (8.x `hadd` became
// `reduce_add`, the fallback arch `generic` became `common`), so kernels use the aliases
// and helpers below and a version bump touches this file only.
//
// Arch: `xsimd::default_arch` is the best ISA the user's -march enables (AVX-512 with
// -march=native on our machines, SSE2 without flags). Runtime dispatch would need one
// translation unit per ISA, which a header-only library cannot provide by itself.
//
// The math helpers are overloaded for scalars and batches, so a kernel body written once
// as a generic lambda serves both the vector loop and the scalar tail: they cannot drift.

#include <cmath>
#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "gan/core/parallel.hpp"

namespace gan {
namespace simd {

using default_arch = xsimd::default_arch;

template <class T, class Arch = default_arch>
using batch = xsimd::batch<T, Arch>;
template <class T>
using simd_batch = xsimd::batch<T, default_arch>;

// Lanes per register for T on the default arch.
template <class T>
inline constexpr std::size_t width = simd_batch<T>::size;

template <class T, class Arch = default_arch>
batch<T, Arch> load(const T* p) {
  return batch<T, Arch>::load_unaligned(p);
}
template <class T, class Arch = default_arch>
batch<T, Arch> load_aligned(const T* p) {
  return batch<T, Arch>::load_aligned(p);
}
template <class T, class Arch>
void store(T* p, const batch<T, Arch>& v) {
  v.store_unaligned(p);
}
template <class T, class Arch>
void store_aligned(T* p, const batch<T, Arch>& v) {
  v.store_aligned(p);
}
template <class T, class Arch = default_arch>
batch<T, Arch> splat(T v) {
  return batch<T, Arch>(v);
}

// Horizontal sum of the lanes (xsimd 8: hadd; xsimd >= 9: reduce_add). Doubles go through
// memory: on xsimd 8's AVX-512 hadd of doubles, GCC 12 warns -Wuninitialized inside its own
// avx512fintrin.h (a false positive, once per instantiating file).
template <class T, class Arch>
T hsum(const batch<T, Arch>& v) {
  if constexpr (std::is_same_v<T, double>) {
    constexpr std::size_t size = batch<T, Arch>::size;
    alignas(64) double lanes[size];
    v.store_aligned(lanes);
    for (std::size_t half = size / 2; half > 0; half /= 2)  // pairwise: log2(size) dependent adds
      for (std::size_t i = 0; i < half; ++i) lanes[i] += lanes[i + half];
    return lanes[0];
  } else {
    return xsimd::hadd(v);
  }
}

// ---- math overloaded for scalars (std) and batches (xsimd) ----
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T exp(T x) { return std::exp(x); }
template <class T, class Arch>
batch<T, Arch> exp(const batch<T, Arch>& x) { return xsimd::exp(x); }

template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T expm1(T x) { return std::expm1(x); }
template <class T, class Arch>
batch<T, Arch> expm1(const batch<T, Arch>& x) { return xsimd::expm1(x); }

template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T tanh(T x) { return std::tanh(x); }
template <class T, class Arch>
batch<T, Arch> tanh(const batch<T, Arch>& x) { return xsimd::tanh(x); }

template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T abs(T x) { return std::abs(x); }
template <class T, class Arch>
batch<T, Arch> abs(const batch<T, Arch>& x) { return xsimd::abs(x); }

template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T min(T a, T b) { return a < b ? a : b; }
template <class T, class Arch>
batch<T, Arch> min(const batch<T, Arch>& a, const batch<T, Arch>& b) { return xsimd::min(a, b); }

template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T max(T a, T b) { return a < b ? b : a; }
template <class T, class Arch>
batch<T, Arch> max(const batch<T, Arch>& a, const batch<T, Arch>& b) { return xsimd::max(a, b); }

template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T sqrt(T x) { return std::sqrt(x); }
template <class T, class Arch>
batch<T, Arch> sqrt(const batch<T, Arch>& x) { return xsimd::sqrt(x); }

// select(cond, a, b): cond ? a : b, lane-wise for batches.
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
T select(bool c, T a, T b) { return c ? a : b; }
template <class T, class Arch>
batch<T, Arch> select(const xsimd::batch_bool<T, Arch>& c, const batch<T, Arch>& a, const batch<T, Arch>& b) {
  return xsimd::select(c, a, b);
}

// Scalar constant of the value type of V (T for a scalar, T for batch<T>), broadcast
// when V is a batch: lets generic kernel bodies write `constant<V>(1)`.
template <class V>
struct scalar_of { using type = V; };
template <class T, class Arch>
struct scalar_of<batch<T, Arch>> { using type = T; };
template <class V>
V constant(double v) {
  return V(static_cast<typename scalar_of<V>::type>(v));
}

// Elements per parallel chunk: large enough that a chunk streams from memory at full
// speed, small enough that two cores split a 64x64x64 activation evenly. Multiple of 64
// so chunk starts keep the tensor's 64-byte alignment.
inline constexpr std::size_t kChunk = 16384;

// Below this many flops per element an op is memory-bound: one AVX-512 core already
// streams near the bandwidth of our 2-core VMs, and waking a second thread (or finding
// it busy) costs more than it saves. Measured: relu on 4M floats 1.6 ms on one thread,
// 4-8 ms on two while the other core was loaded; tanh/sigmoid still gain from threads.
inline constexpr std::int64_t kMinParallelCost = 4;

// Runs body(begin, end) over [0, n) in chunks, on the thread team when the op is
// compute-bound and the total cost (cost_per_element * n, rough flops) pays for it.
template <class Body>
void for_chunks(std::size_t n, std::int64_t cost_per_element, Body&& body) {
  if (cost_per_element < kMinParallelCost || n <= kChunk) {
    body(std::size_t{0}, n);
    return;
  }
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  parallel_for(static_cast<std::int64_t>(chunks), cost_per_element * static_cast<std::int64_t>(kChunk),
               [&](std::int64_t c) {
                 const std::size_t begin = static_cast<std::size_t>(c) * kChunk;
                 body(begin, begin + kChunk < n ? begin + kChunk : n);
               });
}

}  // namespace simd
}  // namespace gan
