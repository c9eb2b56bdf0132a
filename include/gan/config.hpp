#pragma once
// Build-wide switches and the library's few macros. Everything here is a knob the user's
// compiler flags decide; nothing is configured at install time (header-only).

#include <cstddef>
#include <cstdint>

#if defined(_OPENMP)
#include <omp.h>
#define GAN_HAS_OPENMP 1
#else
#define GAN_HAS_OPENMP 0
#endif

namespace gan {

// Default scalar for training. Gradient checks instantiate the same templates with double.
using default_scalar = float;

// Alignment of every tensor buffer: one AVX-512 register / one cache line.
inline constexpr std::size_t kTensorAlignment = 64;

}  // namespace gan
