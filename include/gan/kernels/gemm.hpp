#pragma once
// The one GEMM the conv and linear kernels use: Eigen's blocked, vectorised product over
// Eigen::Map views of raw row-major buffers (no copies). Eigen parallelises a large product
// with OpenMP by itself, and stays serial when called inside a parallel region.

#include <cstdint>

#include <Eigen/Core>

namespace gan {
namespace kernels {

// How an operand enters the product (BLAS's 'N' / 'T').
enum class Op { none, transpose };

// C = alpha * op(A) * op(B) + beta * C, every matrix row-major and densely packed:
// C is m x n; op(A) is m x k (A is stored k x m when transposed); op(B) is k x n (B stored
// n x k when transposed). beta == 0 ignores C's old contents, which may be uninitialised.
template <class T>
void gemm(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a, const T* b, T beta,
          T* c) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  if (m == 0 || n == 0) return;
  Eigen::Map<Matrix> C(c, m, n);
  if (k == 0) {
    if (beta == T(0)) C.setZero();
    else C *= beta;
    return;
  }
  const bool ta = op_a == Op::transpose, tb = op_b == Op::transpose;
  Eigen::Map<const Matrix> A(a, ta ? k : m, ta ? m : k);
  Eigen::Map<const Matrix> B(b, tb ? n : k, tb ? k : n);
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

}  // namespace kernels
}  // namespace gan
