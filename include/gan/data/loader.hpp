#pragma once
// DataLoader: mini-batches over an in-memory dataset (images (N, ...) + optional labels),
// reshuffled every epoch by a seeded gan::Rng, so the same seed gives the same batches.
//
//   gan::data::DataLoader loader(train.images(), train.labels(), {/*batch*/ 64, /*shuffle*/ true,
//                                                                  /*drop_last*/ true, /*seed*/ 1});
//   for (int epoch = 0; epoch < 5; ++epoch)
//     for (const gan::data::Batch& b : loader) { ... b.images (64, 1, 28, 28), b.labels ... }
//
// Range-for runs the rest of the current epoch; next_batch() is the same walk one step at a
// time and returns nullopt at the end of an epoch. Either way the loader then moves to the
// next epoch. state()/set_state() capture (epoch, position, rng) for exact resume.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"
#include "gan/data/sampler.hpp"

namespace gan::data {

struct Batch {
  Tensor<float> images;               // (B, ...) : the dataset's sample shape with B in front
  std::vector<std::int64_t> labels;   // B labels, or empty when the dataset has none
  std::vector<std::int64_t> indices;  // dataset index of each sample (for debugging, tests)
};

class DataLoader {
 public:
  using State = EpochSampler::State;

  // Shares `images` (no copy). `labels` is empty or has one entry per sample.
  DataLoader(Tensor<float> images, std::vector<std::int64_t> labels, DataLoaderOptions options = {})
      : images_(checked(std::move(images))), labels_(std::move(labels)), sampler_(images_.dim(0), options) {
    const std::int64_t n = images_.dim(0);
    check(labels_.empty() || static_cast<std::int64_t>(labels_.size()) == n, "DataLoader: ", n,
          " images but ", labels_.size(), " labels; expected equal counts (or no labels)");
  }

  std::int64_t size() const { return sampler_.size(); }
  std::int64_t batch_size() const { return sampler_.batch_size(); }
  std::int64_t batches_per_epoch() const { return sampler_.batches_per_epoch(); }
  std::int64_t epoch() const { return sampler_.epoch(); }
  std::int64_t position() const { return sampler_.position(); }

  // The next batch of the current epoch, or nullopt when it is exhausted; in that case the
  // loader has moved to the next epoch (a new order) and the following call starts it.
  std::optional<Batch> next_batch() {
    auto idx = sampler_.next_indices();
    if (!idx) return std::nullopt;
    return gather(*idx);
  }

  State state() const { return sampler_.state(); }
  // Restores a state() taken from a loader over the same dataset and options.
  void set_state(const State& s) { sampler_.set_state(s); }
  EpochSampler& sampler() { return sampler_; }

  // Range-for over the rest of the current epoch.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;
    Iterator() = default;
    explicit Iterator(DataLoader* loader) : loader_(loader) { ++*this; }
    const Batch& operator*() const { return *current_; }
    const Batch* operator->() const { return &*current_; }
    Iterator& operator++() {
      current_ = loader_->next_batch();
      if (!current_) loader_ = nullptr;
      return *this;
    }
    bool operator==(const Iterator& o) const { return loader_ == o.loader_; }
    bool operator!=(const Iterator& o) const { return loader_ != o.loader_; }

   private:
    DataLoader* loader_ = nullptr;
    std::optional<Batch> current_;
  };
  Iterator begin() { return Iterator(this); }
  Iterator end() { return Iterator(); }

 private:
  static Tensor<float> checked(Tensor<float> images) {
    check(images.defined() && images.rank() >= 1 && images.dim(0) > 0,
          "DataLoader: images must be a non-empty (N, ...) tensor, got ", images.shape());
    return images;
  }

  Batch gather(const std::vector<std::int64_t>& idx) const {
    const auto b = static_cast<std::int64_t>(idx.size());
    std::vector<std::int64_t> dims = images_.shape().to_vector();
    const std::int64_t per_sample = images_.numel() / dims[0];
    dims[0] = b;
    Batch batch;
    batch.images = Tensor<float>::empty(Shape(dims));
    batch.indices = idx;
    for (std::int64_t i = 0; i < b; ++i) {
      std::memcpy(batch.images.data() + i * per_sample, images_.data() + idx[std::size_t(i)] * per_sample,
                  static_cast<std::size_t>(per_sample) * sizeof(float));
      if (!labels_.empty()) batch.labels.push_back(labels_[static_cast<std::size_t>(idx[std::size_t(i)])]);
    }
    return batch;
  }

  Tensor<float> images_;
  std::vector<std::int64_t> labels_;
  EpochSampler sampler_;
};

}  // namespace gan::data
