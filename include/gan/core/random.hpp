#pragma once
// Seeded, counter-based random numbers. Element i of a fill is a pure function of
// (seed, counter + i), so a fill gives the same numbers on 1 or 16 threads and can be
// split across threads without coordination. State is two integers: checkpointable.

#include <cmath>
#include <cstdint>

#include "gan/core/parallel.hpp"
#include "gan/core/tensor.hpp"

namespace gan {

namespace detail {
// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche (Steele et al. 2014).
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline std::uint64_t hash2(std::uint64_t key, std::uint64_t counter) {
  return mix64(key ^ mix64(counter + 0x9e3779b97f4a7c15ULL));
}
// Uniform in [0, 1) with 53 random bits.
inline double to_unit(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }
}  // namespace detail

class Rng {
 public:
  struct State {
    std::uint64_t seed = 0;
    std::uint64_t counter = 0;
  };

  explicit Rng(std::uint64_t seed = 0) : state_{seed, 0} {}

  std::uint64_t next_u64() { return detail::hash2(state_.seed, state_.counter++); }
  double uniform() { return detail::to_unit(next_u64()); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by Box-Muller on two counters (one draw per call keeps it stateless).
  double normal() {
    std::uint64_t base = reserve(2);
    return normal_at(base);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  // Integer in [lo, hi) (hi exclusive, like numpy.randint).
  std::int64_t randint(std::int64_t lo, std::int64_t hi) {
    check(hi > lo, "Rng::randint: empty range [", lo, ", ", hi, ")");
    auto span = static_cast<std::uint64_t>(hi - lo);
    return lo + static_cast<std::int64_t>(next_u64() % span);
  }

  // Claims `n` consecutive counters and returns the first; the bulk fills below use it.
  std::uint64_t reserve(std::uint64_t n) {
    std::uint64_t base = state_.counter;
    state_.counter += n;
    return base;
  }
  double uniform_at(std::uint64_t counter) const { return detail::to_unit(detail::hash2(state_.seed, counter)); }
  double normal_at(std::uint64_t counter) const {
    double u1 = 1.0 - uniform_at(counter);  // (0, 1]: log() stays finite
    double u2 = uniform_at(counter + 1);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  const State& state() const { return state_; }
  void set_state(const State& s) { state_ = s; }

 private:
  State state_;
};

// The process-wide generator used when a layer or call is not given its own.
inline Rng& default_rng() {
  static Rng rng(0);
  return rng;
}
inline void manual_seed(std::uint64_t seed) { default_rng() = Rng(seed); }

template <class T>
void fill_uniform(Tensor<T>& t, double lo, double hi, Rng& rng = default_rng()) {
  std::uint64_t base = rng.reserve(static_cast<std::uint64_t>(t.numel()));
  T* p = t.data();
  parallel_for(t.numel(), 20, [&](std::int64_t i) {
    p[i] = static_cast<T>(lo + (hi - lo) * rng.uniform_at(base + static_cast<std::uint64_t>(i)));
  });
}

template <class T>
void fill_normal(Tensor<T>& t, double mean, double stddev, Rng& rng = default_rng()) {
  std::uint64_t base = rng.reserve(2 * static_cast<std::uint64_t>(t.numel()));
  T* p = t.data();
  parallel_for(t.numel(), 50, [&](std::int64_t i) {
    p[i] = static_cast<T>(mean + stddev * rng.normal_at(base + 2 * static_cast<std::uint64_t>(i)));
  });
}

template <class T>
Tensor<T> randn(const Shape& shape, Rng& rng = default_rng()) {
  Tensor<T> t = Tensor<T>::empty(shape);
  fill_normal(t, 0.0, 1.0, rng);
  return t;
}

template <class T>
Tensor<T> rand(const Shape& shape, double lo = 0.0, double hi = 1.0, Rng& rng = default_rng()) {
  Tensor<T> t = Tensor<T>::empty(shape);
  fill_uniform(t, lo, hi, rng);
  return t;
}

}  // namespace gan
