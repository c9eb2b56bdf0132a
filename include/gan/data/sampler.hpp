#pragma once
// EpochSampler: which samples form each mini-batch. A seeded Fisher-Yates order per epoch,
// walked batch by batch, with drop-last; the same seed gives the same batches. Loaders
// (data/loader.hpp over in-memory tensors, data/paired_images.hpp over image files) gather
// the samples it names. state()/set_state() capture (epoch, position, rng) for exact resume.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/random.hpp"

namespace gan::data {

struct DataLoaderOptions {
  std::int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;  // drop the short final batch of an epoch
  std::uint64_t seed = 0;
};

class EpochSampler {
 public:
  // Everything needed to resume: the epoch, the next sample's place in the epoch's order and
  // the rng as it was when that epoch's order was drawn.
  struct State {
    std::int64_t epoch = 0;
    std::int64_t position = 0;
    Rng::State rng;
  };

  EpochSampler(std::int64_t size, DataLoaderOptions options) : size_(size), options_(options), rng_(options.seed) {
    check(size_ > 0, "DataLoader: the dataset is empty");
    check(options_.batch_size > 0, "DataLoader: batch_size ", options_.batch_size, ", expected > 0");
    check(!options_.drop_last || options_.batch_size <= size_, "DataLoader: drop_last with batch_size ",
          options_.batch_size, " > dataset size ", size_, " would yield no batches");
    begin_epoch();
  }

  std::int64_t size() const { return size_; }
  std::int64_t batch_size() const { return options_.batch_size; }
  std::int64_t batches_per_epoch() const {
    return options_.drop_last ? size_ / options_.batch_size : (size_ + options_.batch_size - 1) / options_.batch_size;
  }
  std::int64_t epoch() const { return epoch_; }
  std::int64_t position() const { return position_; }

  // The dataset indices of the next batch of this epoch, or nullopt when the epoch is
  // exhausted; the sampler has then moved to the next epoch (a new order).
  std::optional<std::vector<std::int64_t>> next_indices() {
    auto idx = peek_indices();
    if (!idx) {
      ++epoch_;
      begin_epoch();
      return std::nullopt;
    }
    position_ += static_cast<std::int64_t>(idx->size());
    return idx;
  }

  // The indices next_indices() will return, without taking them (nullopt at an epoch's end).
  std::optional<std::vector<std::int64_t>> peek_indices() const {
    const std::int64_t remaining = size_ - position_;
    if (remaining <= 0 || (options_.drop_last && remaining < options_.batch_size)) return std::nullopt;
    const std::int64_t b = std::min(options_.batch_size, remaining);
    return std::vector<std::int64_t>(order_.begin() + position_, order_.begin() + position_ + b);
  }

  State state() const { return State{epoch_, position_, epoch_rng_}; }
  // Restores a state() taken from a sampler over the same dataset size and options.
  void set_state(const State& s) {
    check(s.epoch >= 0 && s.position >= 0 && s.position <= size_, "DataLoader::set_state: position ", s.position,
          " outside [0, ", size_, "] or negative epoch ", s.epoch);
    epoch_ = s.epoch;
    rng_.set_state(s.rng);
    begin_epoch();
    position_ = s.position;
  }

 private:
  // Draws this epoch's order: Fisher-Yates with rng_, whose state beforehand is remembered.
  void begin_epoch() {
    position_ = 0;
    epoch_rng_ = rng_.state();
    order_.resize(static_cast<std::size_t>(size_));
    std::iota(order_.begin(), order_.end(), std::int64_t(0));
    if (!options_.shuffle) return;
    for (std::int64_t i = size_ - 1; i > 0; --i)
      std::swap(order_[static_cast<std::size_t>(i)], order_[static_cast<std::size_t>(rng_.randint(0, i + 1))]);
  }

  std::int64_t size_;
  DataLoaderOptions options_;
  Rng rng_;
  Rng::State epoch_rng_;
  std::vector<std::int64_t> order_;
  std::int64_t epoch_ = 0;
  std::int64_t position_ = 0;
};

}  // namespace gan::data
