#pragma once
// Classifier-based Inception Score (Salimans et al. 2016) of class probabilities p(y|x_i):
//
//   IS = exp( mean_i KL( p(y|x_i) || p(y) ) ),   p(y) = mean_i p(y|x_i)
//
// 1 when every sample gets the same prediction (or every prediction is uniform), C when the
// predictions are confident one-hots spread evenly over C classes. With `splits` > 1 the
// samples are cut into that many consecutive chunks and the score is the mean (and the
// standard deviation) over the chunks, as in the original code (10 splits).

#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/tensor.hpp"

namespace gan {
namespace metrics {

struct InceptionScore {
  double mean = 0;  // the score (mean over splits)
  double std = 0;   // spread over splits (0 for one split)
};

namespace detail {
inline void check_probabilities(const Tensor<float>& p, const char* who) {
  check(p.defined() && p.rank() == 2 && p.dim(0) > 0 && p.dim(1) > 0, who, ": expected probabilities (N, C), got ",
        p.defined() ? p.shape().to_string() : std::string("undefined"));
}

// exp(mean KL) over rows [begin, end).
inline double inception_score_rows(const Tensor<float>& p, std::int64_t begin, std::int64_t end) {
  const std::int64_t c = p.dim(1);
  std::vector<double> marginal(static_cast<std::size_t>(c), 0.0);
  for (std::int64_t i = begin; i < end; ++i)
    for (std::int64_t j = 0; j < c; ++j) marginal[std::size_t(j)] += p.data()[i * c + j];
  for (double& m : marginal) m /= double(end - begin);
  double kl = 0;
  for (std::int64_t i = begin; i < end; ++i)
    for (std::int64_t j = 0; j < c; ++j) {
      const double q = p.data()[i * c + j];
      if (q > 0) kl += q * (std::log(q) - std::log(marginal[std::size_t(j)]));  // 0 log 0 = 0
    }
  return std::exp(kl / double(end - begin));
}
}  // namespace detail

// `probabilities`: (N, C), rows summing to 1 (softmax outputs).
inline InceptionScore inception_score(const Tensor<float>& probabilities, std::int64_t splits = 1) {
  detail::check_probabilities(probabilities, "inception_score");
  const std::int64_t n = probabilities.dim(0);
  check(splits >= 1 && splits <= n, "inception_score: splits ", splits, " must be in [1, N = ", n, "]");
  std::vector<double> scores;
  for (std::int64_t s = 0; s < splits; ++s)
    scores.push_back(detail::inception_score_rows(probabilities, s * n / splits, (s + 1) * n / splits));
  InceptionScore r;
  for (double v : scores) r.mean += v / double(splits);
  for (double v : scores) r.std += (v - r.mean) * (v - r.mean) / double(splits);
  r.std = std::sqrt(r.std);
  return r;
}

}  // namespace metrics
}  // namespace gan
