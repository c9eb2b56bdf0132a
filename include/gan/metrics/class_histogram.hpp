#pragma once
// Mode coverage of generated samples as seen by a classifier: how many samples fall in each
// class (argmax), how many classes are covered, how uneven the shares are.
//
//   auto h = gan::metrics::class_histogram(probs);   // probs (N, C)
//   h.counts[3], h.covered, h.max_share, h.kl_uniform
//
// A class counts as covered when it holds at least `min_share` of the samples *relative to
// a uniform share*: with 10 classes and min_share 0.1 that is >= 1% of the samples, so a
// few stray samples do not make a dropped mode look covered.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/metrics/inception_score.hpp"

namespace gan {
namespace metrics {

struct ClassHistogram {
  std::vector<std::int64_t> counts;  // samples per class (argmax of the row)
  std::int64_t total = 0;
  std::int64_t covered = 0;          // classes with count >= min_share * total / C
  double max_share = 0;              // largest class share (1/C when uniform, 1 when collapsed)
  double kl_uniform = 0;             // KL(histogram || uniform) in nats; 0 when even, log C when collapsed
  double confident = 0;              // share of samples whose top probability >= `confidence`
};

inline ClassHistogram class_histogram(const Tensor<float>& probabilities, double min_share = 0.1,
                                      double confidence = 0.9) {
  detail::check_probabilities(probabilities, "class_histogram");
  const std::int64_t n = probabilities.dim(0), c = probabilities.dim(1);
  ClassHistogram h;
  h.counts.assign(static_cast<std::size_t>(c), 0);
  h.total = n;
  std::int64_t sure = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = probabilities.data() + i * c;
    std::int64_t best = 0;
    for (std::int64_t j = 1; j < c; ++j)
      if (row[j] > row[best]) best = j;
    ++h.counts[std::size_t(best)];
    sure += row[best] >= confidence;
  }
  h.confident = double(sure) / double(n);
  for (std::int64_t k : h.counts) {
    const double share = double(k) / double(n);
    h.covered += share * double(c) >= min_share;
    h.max_share = std::max(h.max_share, share);
    if (k > 0) h.kl_uniform += share * std::log(share * double(c));
  }
  return h;
}

}  // namespace metrics
}  // namespace gan
