#pragma once
// The three passes of a fully connected layer on raw row-major buffers, each one GEMM
// (kernels/gemm.hpp; in float, the conv micro-kernel's): x (rows, in), w (out, in), b (out),
// y (rows, out). ops/linear.hpp records them on the tape; benchmarks/bench_linear.cpp times
// them against PyTorch.

#include <cstdint>

#include <Eigen/Core>

#include "gan/kernels/gemm.hpp"

namespace gan {
namespace kernels {

// y = x w^T + b (b may be null).
template <class T>
void linear_forward(T* y, const T* x, const T* w, const T* b, std::int64_t rows, std::int64_t in, std::int64_t out) {
  gemm(Op::none, Op::transpose, rows, out, in, T(1), x, w, T(0), y, b);
}

// dx += dy w, or dx = dy w when not accumulating (dx may then be uninitialised).
template <class T>
void linear_backward_data(T* dx, const T* dy, const T* w, std::int64_t rows, std::int64_t in, std::int64_t out,
                          bool accumulate = true) {
  gemm(Op::none, Op::none, rows, in, out, T(1), dy, w, accumulate ? T(1) : T(0), dx);
}

// dw += dy^T x; db += column sums of dy (either may be null: not wanted).
template <class T>
void linear_backward_weight(T* dw, T* db, const T* dy, const T* x, std::int64_t rows, std::int64_t in,
                            std::int64_t out) {
  if (dw) gemm(Op::transpose, Op::none, out, in, rows, T(1), dy, x, T(1), dw);
  if (db && rows > 0) {
    using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(db, out) +=
        Eigen::Map<const RowMajor>(dy, rows, out).colwise().sum();
  }
}

}  // namespace kernels
}  // namespace gan
