#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gan/data/loader.hpp"

using gan::Shape;
using gan::Tensor;
using gan::data::Batch;
using gan::data::DataLoader;
using gan::data::DataLoaderOptions;

// n samples of shape (1, 2, 3) whose every value is the sample index; label = index * 10.
static DataLoader make_loader(std::int64_t n, DataLoaderOptions o) {
  auto images = Tensor<float>::empty(Shape{n, 1, 2, 3});
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n; ++i) {
    std::fill(images.data() + i * 6, images.data() + (i + 1) * 6, float(i));
    labels.push_back(i * 10);
  }
  return DataLoader(images, labels, o);
}

static std::vector<std::vector<std::int64_t>> epoch_indices(DataLoader& loader) {
  std::vector<std::vector<std::int64_t>> out;
  for (const Batch& b : loader) out.push_back(b.indices);
  return out;
}

TEST_CASE("batches carry the right images and labels") {
  auto loader = make_loader(10, {4, true, false, 7});
  std::int64_t seen = 0;
  for (const Batch& b : loader) {
    const auto n = static_cast<std::int64_t>(b.indices.size());
    CHECK(b.images.shape() == Shape{n, 1, 2, 3});
    REQUIRE(b.labels.size() == b.indices.size());
    for (std::int64_t i = 0; i < n; ++i) {
      CHECK(b.labels[std::size_t(i)] == b.indices[std::size_t(i)] * 10);
      for (int k = 0; k < 6; ++k) CHECK(b.images[i * 6 + k] == float(b.indices[std::size_t(i)]));
    }
    seen += n;
  }
  CHECK(seen == 10);
  CHECK(loader.epoch() == 1);
}

TEST_CASE("every sample exactly once per epoch, last batch short unless drop_last") {
  for (bool drop_last : {false, true}) {
    CAPTURE(drop_last);
    auto loader = make_loader(23, {5, true, drop_last, 3});
    CHECK(loader.batches_per_epoch() == (drop_last ? 4 : 5));
    for (int epoch = 0; epoch < 3; ++epoch) {
      auto batches = epoch_indices(loader);
      REQUIRE(std::int64_t(batches.size()) == loader.batches_per_epoch());
      std::vector<std::int64_t> all;
      for (std::size_t i = 0; i < batches.size(); ++i) {
        CHECK(batches[i].size() == (i == 4 ? 3u : 5u));
        all.insert(all.end(), batches[i].begin(), batches[i].end());
      }
      std::sort(all.begin(), all.end());
      CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());  // no repeats
      CHECK(all.size() == (drop_last ? 20u : 23u));
      CHECK(all.front() >= 0);
      CHECK(all.back() <= 22);
    }
  }
}

TEST_CASE("same seed gives the same batches, another seed or epoch a different order") {
  auto a = make_loader(50, {8, true, false, 42});
  auto b = make_loader(50, {8, true, false, 42});
  auto c = make_loader(50, {8, true, false, 43});
  auto a0 = epoch_indices(a), b0 = epoch_indices(b), c0 = epoch_indices(c);
  CHECK(a0 == b0);
  CHECK(a0 != c0);
  auto a1 = epoch_indices(a);
  CHECK(a1 == epoch_indices(b));
  CHECK(a1 != a0);  // reshuffled each epoch
}

TEST_CASE("shuffle off keeps dataset order") {
  auto loader = make_loader(7, {3, false, false, 0});
  auto e = epoch_indices(loader);
  CHECK(e == std::vector<std::vector<std::int64_t>>{{0, 1, 2}, {3, 4, 5}, {6}});
}

TEST_CASE("next_batch returns nullopt at the end of an epoch and then starts the next") {
  auto loader = make_loader(4, {2, true, false, 1});
  CHECK(loader.next_batch().has_value());
  CHECK(loader.next_batch().has_value());
  CHECK(!loader.next_batch().has_value());
  CHECK(loader.epoch() == 1);
  CHECK(loader.position() == 0);
  CHECK(loader.next_batch().has_value());
}

TEST_CASE("state() and set_state() resume mid-epoch exactly") {
  auto a = make_loader(30, {4, true, true, 9});
  epoch_indices(a);        // finish epoch 0
  a.next_batch();          // one batch into epoch 1
  a.next_batch();
  auto saved = a.state();
  CHECK(saved.epoch == 1);
  CHECK(saved.position == 8);
  auto rest_a = epoch_indices(a);
  auto next_a = epoch_indices(a);

  auto b = make_loader(30, {4, true, true, 9});  // a fresh loader, as after a restart
  b.set_state(saved);
  CHECK(b.epoch() == 1);
  CHECK(b.position() == 8);
  CHECK(epoch_indices(b) == rest_a);
  CHECK(epoch_indices(b) == next_a);
}

TEST_CASE("invalid loader arguments throw gan::Error") {
  auto images = Tensor<float>::zeros(Shape{5, 1, 2, 2});
  CHECK_THROWS_WITH_AS(DataLoader(images, {1, 2}, {}), doctest::Contains("5 images but 2 labels"), gan::Error);
  CHECK_THROWS_WITH_AS(DataLoader(images, {}, {0}), doctest::Contains("batch_size 0"), gan::Error);
  CHECK_THROWS_WITH_AS(DataLoader(images, {}, {8, true, true, 0}), doctest::Contains("no batches"), gan::Error);
  CHECK_THROWS_AS(DataLoader(Tensor<float>(), {}, {}), gan::Error);
  DataLoader unlabeled(images, {}, {2});
  auto b = unlabeled.next_batch();
  REQUIRE(b.has_value());
  CHECK(b->labels.empty());
  CHECK(b->images.shape() == Shape{2, 1, 2, 2});
}
