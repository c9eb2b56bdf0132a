#pragma once
// The yardstick of every generator: run a reference classifier over images in batches and
// report IS, Fréchet distance to the real test set and class coverage in one struct.
//
//   gan::models::MnistClassifier<float> judge;  gan::io::load_module(path, judge);
//   auto real = gan::metrics::classify(judge, test_images);           // once
//   auto real_stats = gan::metrics::gaussian_stats(real.features);
//   auto q = gan::metrics::sample_quality(gan::metrics::classify(judge, fakes), real_stats);
//   q.is, q.fd, q.histogram.covered
//
// `Classifier` needs features(Var) -> (N, D) and head(Var features) -> logits (N, C), like
// models::MnistClassifier.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "gan/autograd/node.hpp"
#include "gan/autograd/variable.hpp"
#include "gan/metrics/class_histogram.hpp"
#include "gan/metrics/frechet_distance.hpp"
#include "gan/metrics/inception_score.hpp"
#include "gan/ops/shape_ops.hpp"

namespace gan {
namespace metrics {

struct ClassifierOutputs {
  Tensor<float> probabilities;  // (N, C) softmax
  Tensor<float> features;       // (N, D) penultimate layer
};

// Row-wise softmax of (N, C) logits, in double for the exponentials.
inline Tensor<float> softmax_rows(const Tensor<float>& logits) {
  const std::int64_t n = logits.dim(0), c = logits.dim(1);
  Tensor<float> p = Tensor<float>::empty(logits.shape());
  for (std::int64_t i = 0; i < n; ++i) {
    const float* x = logits.data() + i * c;
    const double m = *std::max_element(x, x + c);
    double z = 0;
    for (std::int64_t j = 0; j < c; ++j) z += std::exp(double(x[j]) - m);
    for (std::int64_t j = 0; j < c; ++j) p.data()[i * c + j] = float(std::exp(double(x[j]) - m) / z);
  }
  return p;
}

// Classifies `images` (N, ...) in eval mode without recording gradients, `batch` at a time.
template <class Classifier>
ClassifierOutputs classify(Classifier& classifier, const Tensor<float>& images, std::int64_t batch = 500) {
  check(images.defined() && images.rank() >= 1 && images.dim(0) > 0, "classify: no images");
  NoGradGuard no_grad;
  const bool was_training = classifier.is_training();
  classifier.eval();
  const std::int64_t n = images.dim(0);
  const Var<float> all(images);
  ClassifierOutputs out;
  for (std::int64_t b = 0; b < n; b += batch) {
    const Var<float> x = slice(all, b, std::min(n, b + batch), 0);
    const Var<float> f = classifier.features(x);
    const Tensor<float> p = softmax_rows(classifier.head(f).value());
    if (!out.features.defined()) {
      out.features = Tensor<float>::empty(Shape{n, f.dim(1)});
      out.probabilities = Tensor<float>::empty(Shape{n, p.dim(1)});
    }
    std::copy(f.value().begin(), f.value().end(), out.features.data() + b * f.dim(1));
    std::copy(p.begin(), p.end(), out.probabilities.data() + b * p.dim(1));
  }
  classifier.train(was_training);
  return out;
}

struct SampleQuality {
  double is = 0;                // Inception Score (one split over all samples)
  double fd = 0;                // Fréchet distance to the reference statistics
  ClassHistogram histogram;     // coverage
};

inline SampleQuality sample_quality(const ClassifierOutputs& samples, const GaussianStats& reference) {
  SampleQuality q;
  q.is = inception_score(samples.probabilities).mean;
  q.fd = frechet_distance(gaussian_stats(samples.features), reference);
  q.histogram = class_histogram(samples.probabilities);
  return q;
}

}  // namespace metrics
}  // namespace gan
