#pragma once
// The one GEMM the conv and linear kernels use. Float products (C = op(A) op(B) or C +=)
// run on the conv micro-kernel (kernels/gemm_tiles.hpp); the rest (double, other alpha and
// beta, matrix-vector shapes) take Eigen's blocked, vectorised product over Eigen::Map views
// of raw row-major buffers (no copies). Eigen parallelises a large product with OpenMP by
// itself, and stays serial when called inside a parallel region; few-row products are split
// over column slabs here (below).

#include <cstdint>
#include <type_traits>

#include <Eigen/Core>

#include "gan/config.hpp"
#include "gan/kernels/gemm_tiles.hpp"

namespace gan {
namespace kernels {

// How an operand enters the product (BLAS's 'N' / 'T').
enum class Op { none, transpose };

namespace detail {

// One product on columns [j0, j1) of C and op(B): C, and B when not transposed, are viewed
// with their full row length as outer stride.
template <class T>
void gemm_columns(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t j0, std::int64_t j1,
                  T alpha, const T* a, const T* b, T beta, T* c) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Strided = Eigen::OuterStride<>;
  const std::int64_t nj = j1 - j0;
  Eigen::Map<Matrix, 0, Strided> C(c + j0, m, nj, Strided(n));
  if (k == 0) {
    if (beta == T(0)) C.setZero();
    else C *= beta;
    return;
  }
  Eigen::Map<const Matrix> A(a, ta ? k : m, ta ? m : k);
  // op(B) columns [j0, j1): rows j0..j1 of a transposed B (n x k), columns of a plain one (k x n).
  Eigen::Map<const Matrix, 0, Strided> B(tb ? b + j0 * k : b + j0, tb ? nj : k, tb ? k : nj, Strided(tb ? k : n));
  auto run = [&](const auto& lhs, const auto& rhs) {
    if (beta == T(0)) {
      C.noalias() = alpha * lhs * rhs;
    } else {
      if (beta != T(1)) C *= beta;
      C.noalias() += alpha * lhs * rhs;
    }
  };
  if (!ta && !tb) run(A, B);
  else if (ta && !tb) run(A.transpose(), B);
  else if (!ta && tb) run(A, B.transpose());
  else run(A.transpose(), B.transpose());
}

}  // namespace detail

// C = alpha * op(A) * op(B) + beta * C, every matrix row-major and densely packed:
// C is m x n; op(A) is m x k (A is stored k x m when transposed); op(B) is k x n (B stored
// n x k when transposed). beta == 0 ignores C's old contents, which may be uninitialised.
// With column_bias (n values), also + column_bias[j] in every row's column j (a linear
// layer's bias: the float tiles add it as they store).
template <class T>
void gemm(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a, const T* b, T beta,
          T* c, const T* column_bias = nullptr) {
  if (m == 0 || n == 0) return;
  const bool ta = op_a == Op::transpose, tb = op_b == Op::transpose;
  if constexpr (std::is_same_v<T, float>)
    if (alpha == 1.f && (beta == 0.f || beta == 1.f) &&
        direct::gemm_tiles(ta, tb, m, n, k, a, b, beta == 1.f, c, column_bias))
      return;
  if (column_bias) {  // C = beta C + bias first, then the product is added
    using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<RowMajor> C(c, m, n);
    const Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>> bias(column_bias, n);
    if (beta == T(0))
      C.rowwise() = bias;
    else
      C = (beta * C).rowwise() + bias;
    beta = T(1);
  }
#if GAN_HAS_OPENMP
  // Eigen shares a product out over threads along one side only, and a few rows against
  // many columns (a batch of 64 through a linear layer of 6,272 features) ran no faster on
  // 2 threads than on 1: give each thread its own slab of C's columns instead.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  constexpr std::int64_t kMinColumns = 256, kMinFlops = std::int64_t{1} << 22;
  if (threads > 1 && m < n && n >= threads * kMinColumns && m * n * k >= kMinFlops) {
#pragma omp parallel num_threads(threads)
    {
      const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      // slab edges on multiples of 16 columns (a cache line of floats)
      const std::int64_t j0 = n * t / nt / 16 * 16, j1 = t + 1 == nt ? n : n * (t + 1) / nt / 16 * 16;
      detail::gemm_columns(ta, tb, m, n, k, j0, j1, alpha, a, b, beta, c);
    }
    return;
  }
  // Too few columns for slabs but rows to share (a batch of 64 into 128 features, 3,136
  // inputs: Eigen ran it no faster on 2 threads than on 1): a slab of C's rows per thread.
  constexpr std::int64_t kMinRows = 16;
  if (threads > 1 && !ta && m >= threads * kMinRows && m * n * k >= kMinFlops) {
#pragma omp parallel num_threads(threads)
    {
      const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const std::int64_t i0 = m * t / nt, i1 = m * (t + 1) / nt;
      detail::gemm_columns(false, tb, i1 - i0, n, k, std::int64_t{0}, n, alpha, a + i0 * k, b, beta, c + i0 * n);
    }
    return;
  }
#endif
  detail::gemm_columns(ta, tb, m, n, k, std::int64_t{0}, n, alpha, a, b, beta, c);
}

}  // namespace kernels
}  // namespace gan
