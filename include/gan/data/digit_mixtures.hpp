#pragma once
// The data of the residual denoising-filter study (experiment_2, E4 in the experiment notes;
// examples/denoise_filter): a digit gt, a second digit ref and noise mixed into one image,
// which a filter given the mixture and the ref should turn back into the scaled digit.
//
//   gan::data::MixtureStream stream(train, /*batch*/ 32, /*seed*/ 1);
//   gan::data::Mixture m = stream.draw({});   // filter(m.input, m.ref) should give m.target
//   gan::data::MixtureTestSet test(test_split, /*count*/ 1000, /*seed*/ 1);
//   gan::data::Mixture fixed = test.mixtures(false);  // the same mixtures on every call
//
// Mixture: u = min(a gt + b ref + noise, 1), ref channel = ref_scale ref, t = target_scale gt
// (target_scale = a unless a recipe fixes it). Pixels are in [0, 1]: load MNIST with
// PixelRange::ZeroOne.
// Training (MixtureStream::draw): a, b ~ U(0.2, 1) per batch, noise ~ U[0, 1) per pixel,
// gt = the next batch of the shuffled train split and ref = the batch after it (TF's
// mnist.train.next_batch twice); with small_data both are random windows of the first
// ~1,100 digits. With scaled_ref the ref channel has its own scale b' ~ U(0.2, 1).
// Test (MixtureTestSet): a = 0.5, b = 0.7; gt = test digits 0..n-1 (the study:
// mnist.test.images[0:16] for its panel), ref = a seeded draw from the other test digits,
// noise from the same seed; with scaled_ref the ref channel is 0.85 ref.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"
#include "gan/data/loader.hpp"
#include "gan/data/mnist.hpp"

namespace gan::data {

// A batch of mixtures: the filter's two inputs, its target and what went into them.
struct Mixture {
  Tensor<float> input, ref, target;  // u, the ref channel, t: (B, 1, 28, 28)
  Tensor<float> gt, ref_raw;         // the clean digit and the unscaled ref
  std::vector<std::int64_t> gt_labels, ref_labels;
};

// How a variant of the study builds its mixtures (the defaults: the plain recipe).
struct MixtureOptions {
  bool small_data = false;    // gt and ref from batch-sized windows at idx ~ randint(0, 1000)
  bool scaled_ref = false;    // ref channel = b' ref with its own b' ~ U(0.2, 1)
  double target_scale = 0;    // 0: t = a gt; else t = target_scale gt
};

// Rows [begin, end) of an (N, ...) tensor, copied.
inline Tensor<float> rows(const Tensor<float>& t, std::int64_t begin, std::int64_t end) {
  check(t.defined() && t.rank() >= 1 && 0 <= begin && begin <= end && end <= t.dim(0), "rows: [", begin, ", ",
        end, ") of ", t.defined() ? t.shape().to_string() : "undefined", " is out of range");
  std::vector<std::int64_t> dims = t.shape().to_vector();
  dims[0] = end - begin;
  Tensor<float> out = Tensor<float>::empty(Shape(dims));
  const std::int64_t per = t.dim(0) ? t.numel() / t.dim(0) : 0;
  std::copy_n(t.data() + begin * per, out.numel(), out.data());
  return out;
}

// u = min(a gt + b ref + noise, 1), ref channel = ref_scale ref, t = target_scale gt.
inline Mixture mix_digits(const Batch& gt, const Batch& ref, double a, double b, double ref_scale,
                          double target_scale, const Tensor<float>& noise) {
  check(ref.images.shape() == gt.images.shape() && noise.shape() == gt.images.shape(), "mix_digits: gt ",
        gt.images.shape().to_string(), ", ref ", ref.images.shape().to_string(), " and noise ",
        noise.shape().to_string(), " must have one shape");
  Mixture m{Tensor<float>::empty(gt.images.shape()), Tensor<float>::empty(gt.images.shape()),
            Tensor<float>::empty(gt.images.shape()), gt.images, ref.images, gt.labels, ref.labels};
  for (std::int64_t i = 0; i < gt.images.numel(); ++i) {
    const float g = gt.images[i], r = ref.images[i];
    m.input[i] = std::min(float(a) * g + float(b) * r + noise[i], 1.0f);
    m.ref[i] = float(ref_scale) * r;
    m.target[i] = float(target_scale) * g;
  }
  return m;
}

// The training mixtures. Deterministic for a seed; loader() and rng() are its whole state
// (save both in a checkpoint to resume the same stream).
class MixtureStream {
 public:
  MixtureStream(const MnistDataset& train, std::int64_t batch, std::uint64_t seed)
      : images_(train.images()), labels_(train.labels()), batch_(batch),
        loader_(train.images(), train.labels(), {batch, true, true, seed}), rng_(seed + 1000003) {}

  Mixture draw(const MixtureOptions& o) {
    const double a = rng_.uniform(0.2, 1.0);  // the draw order is part of the recipe
    Batch gt = o.small_data ? window() : next();
    Batch ref = o.small_data ? window() : next();
    const double b = rng_.uniform(0.2, 1.0);
    const Tensor<float> noise = rand<float>(gt.images.shape(), 0.0, 1.0, rng_);
    const double b_ref = o.scaled_ref ? rng_.uniform(0.2, 1.0) : 1.0;
    return mix_digits(gt, ref, a, b, b_ref, o.target_scale > 0 ? o.target_scale : a, noise);
  }
  DataLoader& loader() { return loader_; }
  Rng& rng() { return rng_; }

 private:
  Batch next() {
    auto b = loader_.next_batch();
    return b ? *b : *loader_.next_batch();  // epoch boundary: the next order is drawn
  }
  // images[idx : idx + batch], idx ~ randint(0, 1000): the first ~1,100 digits only.
  Batch window() {
    const std::int64_t hi = std::min<std::int64_t>(1000, images_.dim(0) - batch_);
    const std::int64_t idx = rng_.randint(0, std::max<std::int64_t>(1, hi));
    Batch b;
    b.images = rows(images_, idx, idx + batch_);
    b.labels.assign(labels_.begin() + idx, labels_.begin() + idx + batch_);
    return b;
  }
  Tensor<float> images_;
  std::vector<std::int64_t> labels_;
  std::int64_t batch_;
  DataLoader loader_;
  Rng rng_;
};

// The fixed test mixtures: n = min(count, test size / 2) digits with their refs and noise,
// drawn once from `seed`; mixtures() scales them for a variant of the recipe.
class MixtureTestSet {
 public:
  MixtureTestSet(const MnistDataset& test, std::int64_t count, std::uint64_t seed) {
    const std::int64_t n = std::min(count, test.size() / 2);
    Rng rng(seed);
    std::vector<std::int64_t> gt_idx(static_cast<std::size_t>(n)), ref_idx(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      gt_idx[std::size_t(i)] = i;
      ref_idx[std::size_t(i)] = n + rng.randint(0, test.size() - n);
    }
    gt_ = gather(test, gt_idx), ref_ = gather(test, ref_idx);
    noise_ = rand<float>(gt_.images.shape(), 0.0, 1.0, rng);
  }

  static constexpr double a = 0.5, b = 0.7;

  std::int64_t size() const { return gt_.images.dim(0); }
  // u = min(a gt + b ref + noise, 1), ref channel = 0.85 ref with scaled_ref (else ref),
  // t = target_scale gt (the study: target_scale = a, or 0.8 / 0.9 for its dcnn_v3).
  Mixture mixtures(bool scaled_ref, double target_scale = a) const {
    return mix_digits(gt_, ref_, a, b, scaled_ref ? 0.85 : 1.0, target_scale, noise_);
  }

 private:
  static Batch gather(const MnistDataset& d, const std::vector<std::int64_t>& idx) {
    constexpr std::int64_t per = MnistDataset::kSide * MnistDataset::kSide;
    Batch b;
    b.images = Tensor<float>::empty(Shape{std::int64_t(idx.size()), 1, MnistDataset::kSide, MnistDataset::kSide});
    for (std::size_t i = 0; i < idx.size(); ++i) {
      std::copy_n(d.images().data() + idx[i] * per, per, b.images.data() + std::int64_t(i) * per);
      b.labels.push_back(d.labels()[std::size_t(idx[i])]);
      b.indices.push_back(idx[i]);
    }
    return b;
  }
  Batch gt_, ref_;
  Tensor<float> noise_;
};

}  // namespace gan::data
