#pragma once
// Loads the reference classifier written by examples/mnist_classifier (save_module with its
// width and hidden size in the metadata) and measures the real test set it is judged on.
//
//   auto judge = gan::metrics::load_reference_classifier("out/classifier/classifier.safetensors");
//   gan::metrics::Reference ref = gan::metrics::reference_of(*judge, test.images());
//   ref.is_real (ceiling), ref.fd_halves (floor), ref.stats (what FD compares against)

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "gan/io/checkpoint.hpp"
#include "gan/io/safetensors.hpp"
#include "gan/metrics/sample_quality.hpp"
#include "gan/models/mnist_classifier.hpp"

namespace gan {
namespace metrics {

inline std::unique_ptr<models::MnistClassifier<float>> load_reference_classifier(const std::string& path) {
  check(std::filesystem::exists(path), "reference classifier '", path,
        "' not found; train one with `build/examples/mnist_classifier --data data/mnist --out out/classifier`");
  const io::TensorFile file = io::read_safetensors(path);
  models::MnistClassifierOptions o;
  auto number = [&](const char* key, std::int64_t fallback) {
    auto it = file.metadata.find(key);
    return it == file.metadata.end() ? fallback : std::stoll(it->second);
  };
  o.width = number("width", o.width), o.hidden = number("hidden", o.hidden);
  auto net = std::make_unique<models::MnistClassifier<float>>(o);
  io::load_module(path, *net);
  net->eval();
  return net;
}

// The yardsticks on a real image set: IS (the ceiling of a generator), the Fréchet distance
// between its two halves (the floor from sampling noise) and its feature statistics.
struct Reference {
  GaussianStats stats;
  double is_real = 0;
  double fd_halves = 0;
  std::int64_t count = 0;
};

template <class Classifier>
Reference reference_of(Classifier& classifier, const Tensor<float>& images) {
  const ClassifierOutputs out = classify(classifier, images);
  const std::int64_t n = out.features.dim(0), half = n / 2;
  Reference r;
  r.count = n;
  r.stats = gaussian_stats(out.features);
  r.is_real = inception_score(out.probabilities).mean;
  const Var<float> f(out.features);
  r.fd_halves = frechet_distance(slice(f, 0, half, 0).value(), slice(f, half, 2 * half, 0).value());
  return r;
}

}  // namespace metrics
}  // namespace gan
