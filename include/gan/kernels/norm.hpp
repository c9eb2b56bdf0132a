#pragma once
// Batch and instance normalisation kernels on raw pointers (llm.c layernorm_forward /
// layernorm_backward style). No autograd, no allocation.
//
// Layout (N, C, S): element (n, c, s) sits at (n * C + c) * S + s, with S = H * W for
// images, L for (N, C, L) and 1 for (N, C). Batch norm keeps one mean/variance per
// channel c over (N, S); instance norm (NormShape::per_instance) one per (n, c) over S.
// gamma/beta are always per channel.
//
// Sums are accumulated in double whatever T is: a float sum over N*H*W = 64*32*32 values
// loses about three digits, and normalising divides that error by a small standard
// deviation. The variance uses two passes (mean, then squared deviations), which stays
// accurate when |mean| >> std, where E[x^2] - E[x]^2 cancels catastrophically.

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "gan/core/parallel.hpp"
#include "gan/kernels/elementwise.hpp"

namespace gan {
namespace kernels {

struct NormShape {
  std::int64_t n = 1, c = 1, s = 1;
  bool per_instance = false;  // statistics per (n, c) (instance norm) instead of per c

  // Number of mean/variance entries, and how many values each one summarises.
  std::int64_t groups() const { return per_instance ? n * c : c; }
  std::int64_t group_size() const { return per_instance ? s : n * s; }
};

namespace detail {
// Calls f(g, n0, n1) for every statistics group of channel c; group g covers the rows
// (n, c), n in [n0, n1). Kernels parallelise over channels so that the per-channel
// dgamma/dbeta sums never race, for batch and instance norm alike.
template <class F>
void for_groups_of_channel(const NormShape& s, std::int64_t c, F&& f) {
  if (s.per_instance) {
    for (std::int64_t n = 0; n < s.n; ++n) f(n * s.c + c, n, n + 1);
  } else {
    f(c, std::int64_t(0), s.n);
  }
}

// Row reductions in double with kLanes independent partial sums: one double accumulator
// is a serial dependency chain the compiler may not reorder (no -ffast-math). For float
// rows GCC kept these lanes scalar, so float goes through row_moment / add_sums_dy_dyxc
// below, a vector at a time; these loops serve the other types.
constexpr int kLanes = 8;

template <class F>
double lane_sum(std::int64_t n, F&& term) {
  double acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] += term(i + k);
  for (; i < n; ++i) acc[0] += term(i);
  double total = 0;
  for (int k = 0; k < kLanes; ++k) total += acc[k];
  return total;
}

// Two sums in one pass over memory: {sum a(i), sum b(i)}.
template <class A, class B>
void lane_sum2(std::int64_t n, A&& a, B&& b, double& sum_a, double& sum_b) {
  double acc_a[kLanes] = {}, acc_b[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      acc_a[k] += a(i + k);
      acc_b[k] += b(i + k);
    }
  for (; i < n; ++i) {
    acc_a[0] += a(i);
    acc_b[0] += b(i);
  }
  for (int k = 0; k < kLanes; ++k) {
    sum_a += acc_a[k];
    sum_b += acc_b[k];
  }
}

// sum (x[i] - m)^power over i < n, power 1 or 2, in double. For float a vector at a time,
// as add_sums_dy_dyxc below.
template <int Power, class T>
double row_moment(const T* x, double m, std::int64_t n) {
  static_assert(Power == 1 || Power == 2, "mean and variance passes only");
  if constexpr (std::is_same_v<T, float>) {
    using D = simd::simd_batch<double>;
    constexpr std::int64_t w = static_cast<std::int64_t>(D::size);
    D a0(0.0), a1(0.0);
    const D mv(m);
    std::int64_t i = 0;
    for (; i + 2 * w <= n; i += 2 * w) {
      const D d0 = D::load_unaligned(x + i) - mv, d1 = D::load_unaligned(x + i + w) - mv;
      if constexpr (Power == 1) a0 += d0, a1 += d1;
      else a0 = xsimd::fma(d0, d0, a0), a1 = xsimd::fma(d1, d1, a1);
    }
    double tail = 0;
    for (; i < n; ++i) {
      const double d = static_cast<double>(x[i]) - m;
      tail += Power == 1 ? d : d * d;
    }
    return simd::hsum(a0 + a1) + tail;
  } else {
    return lane_sum(n, [x, m](std::int64_t i) {
      const double d = static_cast<double>(x[i]) - m;
      return Power == 1 ? d : d * d;
    });
  }
}

// {sum dy[i], sum dy[i] * (x[i] - m)} over i < n, added to sum_dy and sum_dy_xc, in double.
// For float, a vector of floats at a time widened to doubles: the lane loops above stay
// scalar there (a conversion and two adds per element; 60 % of batch norm's backward).
template <class T>
void add_sums_dy_dyxc(const T* dy, const T* x, double m, std::int64_t n, double& sum_dy, double& sum_dy_xc) {
  if constexpr (std::is_same_v<T, float>) {
    std::int64_t i = 0;
    using D = simd::simd_batch<double>;
    constexpr std::int64_t w = static_cast<std::int64_t>(D::size);
    D a0(0.0), a1(0.0), b0(0.0), b1(0.0);
    const D mv(m);
    for (; i + 2 * w <= n; i += 2 * w) {
      const D d0 = D::load_unaligned(dy + i), d1 = D::load_unaligned(dy + i + w);
      a0 += d0, a1 += d1;
      b0 = xsimd::fma(d0, D::load_unaligned(x + i) - mv, b0);
      b1 = xsimd::fma(d1, D::load_unaligned(x + i + w) - mv, b1);
    }
    double tail_dy = 0, tail_dy_xc = 0;  // locals: adds into the references went through memory
    for (; i < n; ++i) {
      const double d = dy[i];
      tail_dy += d, tail_dy_xc += d * (static_cast<double>(x[i]) - m);
    }
    sum_dy += simd::hsum(a0 + a1) + tail_dy;
    sum_dy_xc += simd::hsum(b0 + b1) + tail_dy_xc;
  } else {
    lane_sum2(
        n, [dy](std::int64_t k) { return static_cast<double>(dy[k]); },
        [dy, x, m](std::int64_t k) { return static_cast<double>(dy[k]) * (static_cast<double>(x[k]) - m); }, sum_dy,
        sum_dy_xc);
  }
}
}  // namespace detail

// x: (N, C, S); mean, var: (groups()). var is the biased (population) variance, the one
// normalisation divides by.
template <class T>
void norm_statistics(T* mean, T* var, const T* x, const NormShape& s) {
  parallel_for(s.c, 3 * s.n * s.s, [&](std::int64_t c) {
    detail::for_groups_of_channel(s, c, [&](std::int64_t g, std::int64_t n0, std::int64_t n1) {
      const std::int64_t count = (n1 - n0) * s.s;
      double sum = 0;
      for (std::int64_t n = n0; n < n1; ++n) sum += detail::row_moment<1>(x + (n * s.c + c) * s.s, 0.0, s.s);
      const double m = count > 0 ? sum / static_cast<double>(count) : 0.0;
      double sq = 0;
      for (std::int64_t n = n0; n < n1; ++n) sq += detail::row_moment<2>(x + (n * s.c + c) * s.s, m, s.s);
      mean[g] = static_cast<T>(m);
      var[g] = static_cast<T>(count > 0 ? sq / static_cast<double>(count) : 0.0);
    });
  });
}

// invstd[i] = 1 / sqrt(var[i] + eps) for i < n.
template <class T>
void norm_inverse_std(T* invstd, const T* var, std::int64_t n, double eps) {
  for (std::int64_t i = 0; i < n; ++i)
    invstd[i] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(var[i]) + eps));
}

// PyTorch's running-statistics update for C channels:
//   running = (1 - momentum) * running + momentum * batch,
// with the batch variance made unbiased (count / (count - 1)) for running_var, while the
// forward pass itself normalises with the biased one. count = values per channel (N * S).
template <class T>
void norm_update_running(T* running_mean, T* running_var, const T* mean, const T* var, std::int64_t channels,
                         std::int64_t count, double momentum) {
  const double unbias = count > 1 ? static_cast<double>(count) / static_cast<double>(count - 1) : 1.0;
  for (std::int64_t c = 0; c < channels; ++c) {
    running_mean[c] = static_cast<T>((1 - momentum) * running_mean[c] + momentum * mean[c]);
    running_var[c] = static_cast<T>((1 - momentum) * running_var[c] + momentum * unbias * var[c]);
  }
}

// x, y: (N, C, S); mean, invstd: (groups()); gamma, beta: (C) or null (1 and 0).
// y = (x - mean) * invstd * gamma + beta, then, unless negative_slope is 1, the activation
// y < 0 ? negative_slope * y : y (ReLU for 0, LeakyReLU otherwise) in the same pass: the
// layer fusion of nn::Sequential, bit for bit what the two passes give.
template <class T>
void norm_forward(T* y, const T* x, const T* mean, const T* invstd, const T* gamma, const T* beta,
                  const NormShape& s, T negative_slope = T(1)) {
  parallel_for(s.n * s.c, 2 * s.s, [&](std::int64_t row) {
    const std::int64_t c = row % s.c;
    const std::int64_t g = s.per_instance ? row : c;
    const T m = mean[g];
    const T scale = invstd[g] * (gamma ? gamma[c] : T(1));
    const T shift = beta ? beta[c] : T(0);
    const T* xr = x + row * s.s;
    T* yr = y + row * s.s;
    if (negative_slope == T(1)) {
      for (std::int64_t i = 0; i < s.s; ++i) yr[i] = (xr[i] - m) * scale + shift;
      return;
    }
    // As relu / leaky_relu: NaN stays NaN, and ReLU gives +0 (0 * v would give -0).
    const T zero_or_slope = negative_slope;
    if (zero_or_slope == T(0)) {
      for (std::int64_t i = 0; i < s.s; ++i) {
        const T v = (xr[i] - m) * scale + shift;
        yr[i] = v < T(0) ? T(0) : v;
      }
    } else {  // leaky_relu's own vector body: as a plain loop, GCC's default -ftrapping-math
              // kept the conditional multiply a branch and the loop scalar (5 % of the DCGAN step)
      for (std::int64_t i = 0; i < s.s; ++i) yr[i] = (xr[i] - m) * scale + shift;
      map1_kernel<simd::default_arch>{}(simd::default_arch{}, yr, yr, static_cast<std::size_t>(s.s),
                                        LeakyReluForward<T>{zero_or_slope});
    }
  });
}

namespace detail {
// The gradient reaching the normalisation's output: dy itself (kPlain), or dy at the output
// y of a fused ReLU (kRelu) or LeakyReLU (kLeaky) taken back through it. y > 0 exactly where
// the activation's input is > 0 (slope >= 0), so the mask comes from y.
enum GradThrough { kPlain, kRelu, kLeaky };
// dy is loaded unconditionally: a load under the condition keeps the loop from vectorising.
// (LeakyReLU goes through elementwise's vector body: its conditional multiply kept a plain
// loop scalar.)
template <GradThrough Through, class T>
inline void grad_through(T* gr, const T* dyr, const T* yr, T slope, std::int64_t n) {
  static_assert(Through != kPlain, "kPlain reads dy in place");
  if constexpr (Through == kRelu) {
    for (std::int64_t i = 0; i < n; ++i) {
      const T d = dyr[i];
      gr[i] = yr[i] > T(0) ? d : T(0);
    }
  } else {
    map2_kernel<simd::default_arch>{}(simd::default_arch{}, gr, dyr, yr, static_cast<std::size_t>(n),
                                      LeakyReluBackward<T>{slope});
  }
}

// norm_backward's body for one kind of incoming gradient. Through an activation, the
// channel's gradient rows are first taken back through it into a per-thread scratch that
// stays in cache for both passes below (a separate loop, so that it and they vectorise).
template <GradThrough Through, class T>
void norm_backward_rows(T* dx, T* dgamma, T* dbeta, const T* dy, const T* act, T slope, const T* x, const T* mean,
                        const T* invstd, const T* gamma, const NormShape& s, bool through_stats, bool accumulate_dx) {
  const bool need_sums = dgamma || dbeta || (dx && through_stats);
  parallel_for(s.c, 6 * s.n * s.s, [&](std::int64_t c) {
    const double gam = gamma ? static_cast<double>(gamma[c]) : 1.0;
    double channel_dy = 0, channel_dy_xhat = 0;
    for_groups_of_channel(s, c, [&](std::int64_t g, std::int64_t n0, std::int64_t n1) {
      thread_local std::vector<T> scratch;  // grows to the largest group once, then reused
      if constexpr (Through != kPlain) {
        const auto group = static_cast<std::size_t>((n1 - n0) * s.s);
        if (scratch.size() < group) scratch.resize(group);
        for (std::int64_t n = n0; n < n1; ++n) {
          const std::int64_t row = (n * s.c + c) * s.s;
          const T *dyr = dy + row, *yr = act + row;
          T* gr = scratch.data() + (n - n0) * s.s;
          grad_through<Through>(gr, dyr, yr, slope, s.s);
        }
      }
      auto grad_row = [&](std::int64_t n) -> const T* {
        return Through == kPlain ? dy + (n * s.c + c) * s.s : scratch.data() + (n - n0) * s.s;
      };
      const double m = static_cast<double>(mean[g]), inv = static_cast<double>(invstd[g]);
      double sum_dy = 0, sum_dy_xc = 0;  // xc = x - mean; xhat = xc * inv
      if (need_sums) {
        for (std::int64_t n = n0; n < n1; ++n) {
          const T* xr = x + (n * s.c + c) * s.s;
          const T* dyr = grad_row(n);
          add_sums_dy_dyxc(dyr, xr, m, s.s, sum_dy, sum_dy_xc);
        }
      }
      const double sum_dy_xhat = sum_dy_xc * inv;
      channel_dy += sum_dy;
      channel_dy_xhat += sum_dy_xhat;
      if (!dx) return;
      // Per element in T: no sums left here, so float is as exact as the inputs and the
      // loop vectorises at full width.
      const double count = static_cast<double>((n1 - n0) * s.s);
      const T k = static_cast<T>(gam * inv), mt = mean[g], it = invstd[g];
      const T mean_dy = static_cast<T>(through_stats ? sum_dy / count : 0.0);
      const T mean_dy_xhat = static_cast<T>(through_stats ? sum_dy_xhat / count : 0.0);
      for (std::int64_t n = n0; n < n1; ++n) {
        const T* xr = x + (n * s.c + c) * s.s;
        const T* dyr = grad_row(n);
        T* dxr = dx + (n * s.c + c) * s.s;
        if (accumulate_dx)
          for (std::int64_t i = 0; i < s.s; ++i) dxr[i] += k * (dyr[i] - mean_dy - (xr[i] - mt) * it * mean_dy_xhat);
        else
          for (std::int64_t i = 0; i < s.s; ++i) dxr[i] = k * (dyr[i] - mean_dy - (xr[i] - mt) * it * mean_dy_xhat);
      }
    });
    if (dgamma) dgamma[c] += static_cast<T>(channel_dy_xhat);
    if (dbeta) dbeta[c] += static_cast<T>(channel_dy);
  });
}
}  // namespace detail

// Gradients of norm_forward; ACCUMULATES: dx += ..., dgamma[c] += sum(dy * xhat),
// dbeta[c] += sum(dy). Any of dx, dgamma, dbeta may be null (not wanted); gamma may be null.
// through_stats: mean/invstd were computed from this x (training-mode batch norm, instance
// norm), so dx includes the paths through them:
//   dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))   (means over the group)
// otherwise they are constants (running statistics) and dx = gamma * invstd * dy.
// accumulate_dx = false overwrites dx instead (the first contribution to x's gradient).
// activated: when norm_forward applied an activation with negative_slope >= 0, its output y;
// dy is then the gradient at y, taken back through the activation here (y > 0 exactly where
// its input was, so the mask comes from y) as relu_backward / leaky_relu_backward would.
template <class T>
void norm_backward(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean, const T* invstd,
                   const T* gamma, const NormShape& s, bool through_stats, bool accumulate_dx = true,
                   const T* activated = nullptr, T negative_slope = T(1)) {
  using detail::kLeaky, detail::kPlain, detail::kRelu;
  if (!activated)
    detail::norm_backward_rows<kPlain>(dx, dgamma, dbeta, dy, activated, negative_slope, x, mean, invstd, gamma, s,
                                       through_stats, accumulate_dx);
  else if (negative_slope == T(0))
    detail::norm_backward_rows<kRelu>(dx, dgamma, dbeta, dy, activated, negative_slope, x, mean, invstd, gamma, s,
                                      through_stats, accumulate_dx);
  else
    detail::norm_backward_rows<kLeaky>(dx, dgamma, dbeta, dy, activated, negative_slope, x, mean, invstd, gamma, s,
                                       through_stats, accumulate_dx);
}

}  // namespace kernels
}  // namespace gan
