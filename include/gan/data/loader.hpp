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

namespace gan::data {

struct Batch {
  Tensor<float> images;               // (B, ...) : the dataset's sample shape with B in front
  std::vector<std::int64_t> labels;   // B labels, or empty when the dataset has none
  std::vector<std::int64_t> indices;  // dataset index of each sample (for debugging, tests)
};

struct DataLoaderOptions {
  std::int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;  // drop the short final batch of an epoch
  std::uint64_t seed = 0;
};

class DataLoader {
 public:
  // Everything needed to resume: the epoch, the next sample's place in the epoch's order and
  // the rng as it was when that epoch's order was drawn.
  struct State {
    std::int64_t epoch = 0;
    std::int64_t position = 0;
    Rng::State rng;
  };

  // Shares `images` (no copy). `labels` is empty or has one entry per sample.
  DataLoader(Tensor<float> images, std::vector<std::int64_t> labels, DataLoaderOptions options = {})
      : images_(std::move(images)), labels_(std::move(labels)), options_(options), rng_(options.seed) {
    check(images_.defined() && images_.rank() >= 1 && images_.dim(0) > 0,
          "DataLoader: images must be a non-empty (N, ...) tensor, got ", images_.shape());
    const std::int64_t n = images_.dim(0);
    check(labels_.empty() || static_cast<std::int64_t>(labels_.size()) == n, "DataLoader: ", n,
          " images but ", labels_.size(), " labels; expected equal counts (or no labels)");
    check(options_.batch_size > 0, "DataLoader: batch_size ", options_.batch_size, ", expected > 0");
    check(!options_.drop_last || options_.batch_size <= n, "DataLoader: drop_last with batch_size ",
          options_.batch_size, " > dataset size ", n, " would yield no batches");
    begin_epoch();
  }

  std::int64_t size() const { return images_.dim(0); }
  std::int64_t batch_size() const { return options_.batch_size; }
  std::int64_t batches_per_epoch() const {
    return options_.drop_last ? size() / options_.batch_size : (size() + options_.batch_size - 1) / options_.batch_size;
  }
  std::int64_t epoch() const { return epoch_; }
  std::int64_t position() const { return position_; }

  // The next batch of the current epoch, or nullopt when it is exhausted; in that case the
  // loader has moved to the next epoch (a new order) and the following call starts it.
  std::optional<Batch> next_batch() {
    const std::int64_t remaining = size() - position_;
    if (remaining <= 0 || (options_.drop_last && remaining < options_.batch_size)) {
      ++epoch_;
      begin_epoch();
      return std::nullopt;
    }
    const std::int64_t b = std::min(options_.batch_size, remaining);
    Batch batch = gather(order_.data() + position_, b);
    position_ += b;
    return batch;
  }

  State state() const { return State{epoch_, position_, epoch_rng_}; }
  // Restores a state() taken from a loader over the same dataset and options.
  void set_state(const State& s) {
    check(s.epoch >= 0 && s.position >= 0 && s.position <= size(), "DataLoader::set_state: position ",
          s.position, " outside [0, ", size(), "] or negative epoch ", s.epoch);
    epoch_ = s.epoch;
    rng_.set_state(s.rng);
    begin_epoch();
    position_ = s.position;
  }

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
  // Draws this epoch's order: Fisher-Yates with rng_, whose state beforehand is remembered.
  void begin_epoch() {
    position_ = 0;
    epoch_rng_ = rng_.state();
    order_.resize(static_cast<std::size_t>(size()));
    std::iota(order_.begin(), order_.end(), std::int64_t(0));
    if (!options_.shuffle) return;
    for (std::int64_t i = size() - 1; i > 0; --i)
      std::swap(order_[static_cast<std::size_t>(i)], order_[static_cast<std::size_t>(rng_.randint(0, i + 1))]);
  }

  Batch gather(const std::int64_t* idx, std::int64_t b) const {
    std::vector<std::int64_t> dims = images_.shape().to_vector();
    const std::int64_t per_sample = images_.numel() / dims[0];
    dims[0] = b;
    Batch batch;
    batch.images = Tensor<float>::empty(Shape(dims));
    batch.indices.assign(idx, idx + b);
    for (std::int64_t i = 0; i < b; ++i) {
      std::memcpy(batch.images.data() + i * per_sample, images_.data() + idx[i] * per_sample,
                  static_cast<std::size_t>(per_sample) * sizeof(float));
      if (!labels_.empty()) batch.labels.push_back(labels_[static_cast<std::size_t>(idx[i])]);
    }
    return batch;
  }

  Tensor<float> images_;
  std::vector<std::int64_t> labels_;
  DataLoaderOptions options_;
  Rng rng_;
  Rng::State epoch_rng_;
  std::vector<std::int64_t> order_;
  std::int64_t epoch_ = 0;
  std::int64_t position_ = 0;
};

}  // namespace gan::data
