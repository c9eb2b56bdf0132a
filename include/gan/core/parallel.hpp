#pragma once
// parallel_for over OpenMP; a plain loop when OpenMP is off. The only place gan opens a
// parallel region outside the kernels, so thread count is controlled in one spot.

#include <cstdint>

#include "gan/config.hpp"

namespace gan {

// Calls body(i) for i in [0, n). Runs serially when n * cost_per_item is too small to
// pay for waking the thread team (cost is a rough count of flops per item).
template <class Body>
void parallel_for(std::int64_t n, std::int64_t cost_per_item, Body&& body) {
#if GAN_HAS_OPENMP
  if (n > 1 && n * cost_per_item >= 32768 && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#endif
  (void)cost_per_item;
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

inline int max_threads() {
#if GAN_HAS_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

inline void set_num_threads(int n) {
#if GAN_HAS_OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}

}  // namespace gan
