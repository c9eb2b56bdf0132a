#pragma once
// Fréchet distance between two Gaussians fitted to feature sets (FID, Heusel et al. 2017,
// here on the penultimate layer of a small classifier instead of Inception-v3):
//
//   FD = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))
//
// tr((S_a S_b)^(1/2)) is computed as tr((A S_b A)^(1/2)) with A = S_a^(1/2): A S_b A is
// symmetric positive semi-definite, so both roots come from self-adjoint eigen-decompositions
// (in double) and tiny negative eigenvalues from round-off are clipped to 0. This is the
// same value scipy.linalg.sqrtm gives in pytorch-fid, without its complex round-off parts.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include "gan/core/error.hpp"
#include "gan/core/tensor.hpp"

namespace gan {
namespace metrics {

// Mean and covariance (divided by N - 1, like numpy.cov) of the rows of a feature matrix.
struct GaussianStats {
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
  std::int64_t count = 0;
};

// `features`: (N, D) with N >= 2 (any trailing shape is flattened into D).
inline GaussianStats gaussian_stats(const Tensor<float>& features) {
  check(features.defined() && features.rank() >= 2 && features.dim(0) >= 2,
        "gaussian_stats: expected features (N >= 2, D), got ",
        features.defined() ? features.shape().to_string() : std::string("undefined"));
  const std::int64_t n = features.dim(0);
  const Eigen::MatrixXd x = features.matrix(n).template cast<double>();
  GaussianStats s;
  s.count = n;
  s.mean = x.colwise().mean().transpose();
  const Eigen::MatrixXd centred = x.rowwise() - s.mean.transpose();
  s.cov = (centred.transpose() * centred) / double(n - 1);
  return s;
}

// Square root of a symmetric positive semi-definite matrix (negative eigenvalues -> 0).
inline Eigen::MatrixXd psd_sqrt(const Eigen::MatrixXd& m) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(m);
  check(eig.info() == Eigen::Success, "psd_sqrt: eigen-decomposition did not converge");
  const Eigen::VectorXd roots = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return eig.eigenvectors() * roots.asDiagonal() * eig.eigenvectors().transpose();
}

inline double frechet_distance(const Eigen::VectorXd& mean_a, const Eigen::MatrixXd& cov_a,
                               const Eigen::VectorXd& mean_b, const Eigen::MatrixXd& cov_b) {
  check(mean_a.size() == mean_b.size() && cov_a.rows() == mean_a.size() && cov_a.cols() == mean_a.size() &&
            cov_b.rows() == mean_b.size() && cov_b.cols() == mean_b.size(),
        "frechet_distance: dimensions differ: means ", mean_a.size(), " and ", mean_b.size(), ", covariances ",
        cov_a.rows(), "x", cov_a.cols(), " and ", cov_b.rows(), "x", cov_b.cols());
  const Eigen::MatrixXd root_a = psd_sqrt(cov_a);
  Eigen::MatrixXd middle = root_a * cov_b * root_a;
  middle = 0.5 * (middle + middle.transpose());  // exact symmetry for the solver
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(middle, Eigen::EigenvaluesOnly);
  check(eig.info() == Eigen::Success, "frechet_distance: eigen-decomposition did not converge");
  const double trace_root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  const double fd = (mean_a - mean_b).squaredNorm() + cov_a.trace() + cov_b.trace() - 2.0 * trace_root;
  return std::max(fd, 0.0);  // round-off can leave -1e-12 for identical sets
}

inline double frechet_distance(const GaussianStats& a, const GaussianStats& b) {
  return frechet_distance(a.mean, a.cov, b.mean, b.cov);
}

inline double frechet_distance(const Tensor<float>& features_a, const Tensor<float>& features_b) {
  return frechet_distance(gaussian_stats(features_a), gaussian_stats(features_b));
}

}  // namespace metrics
}  // namespace gan
