#pragma once
// Paired images for image-to-image training (pix2pix): input and target of the same scene.
//
//   gan::data::PairedImageOptions o;                    // pix2pix: A|B side by side in one PNG
//   o.jitter = {/*load*/ 286, /*crop*/ 256, /*flip*/ true};
//   gan::data::PairedImageDataset train("data/facades/train", o);
//   gan::data::PairedImageLoader loader(train, {/*batch*/ 1, true, false, /*seed*/ 1});
//   while (auto b = loader.next_batch()) { ... b->input, b->target: (B, C, 256, 256) ... }
//
// Layouts: SideBySide (each PNG is input|target, as the pix2pix datasets ship; b_to_a swaps
// them) or Folders (dir/A/<name>.png and dir/B/<name>.png). Images are decoded once into
// memory as bytes; jitter is drawn per (seed, epoch, sample) so batches do not depend on
// batch size or prefetching, and a resumed run sees the same crops. Optional prefetch builds
// the next batch on a background thread while the caller trains on the current one.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"
#include "gan/data/sampler.hpp"
#include "gan/data/transforms.hpp"
#include "gan/io/png.hpp"

namespace gan::data {

enum class PairLayout { SideBySide, Folders };

struct PairedImageOptions {
  PairLayout layout = PairLayout::SideBySide;
  bool b_to_a = false;  // the right/B image is the input
  int channels = 3;     // 1 (gray) or 3 (RGB); files are converted
  PixelRange range = PixelRange::MinusOneOne;
  JitterOptions jitter;  // applied by the loader when it jitters (training)
};

struct PairBatch {
  Tensor<float> input, target;        // (B, C, H, W)
  std::vector<std::int64_t> indices;  // dataset index of each pair
};

class PairedImageDataset {
 public:
  PairedImageDataset(const std::string& dir, PairedImageOptions options) : options_(std::move(options)) {
    check(options_.channels == 1 || options_.channels == 3, "PairedImageDataset: channels ", options_.channels,
          ", expected 1 or 3");
    std::error_code ec;
    check(std::filesystem::is_directory(dir, ec), "PairedImageDataset: directory '", dir, "' not found");
    if (options_.layout == PairLayout::SideBySide) {
      for (const std::string& name : png_names(dir)) add_side_by_side(dir + "/" + name, name);
    } else {
      for (const std::string& name : png_names(dir + "/A")) {
        const std::string b = dir + "/B/" + name;
        check(std::filesystem::exists(b, ec), "PairedImageDataset: '", dir, "/A/", name, "' has no partner '", b, "'");
        add_pair(io::read_image(dir + "/A/" + name, options_.channels), io::read_image(b, options_.channels), name);
      }
    }
    check(!inputs_.empty(), "PairedImageDataset: no .png files in '", dir, "'");
  }

  std::int64_t size() const { return static_cast<std::int64_t>(inputs_.size()); }
  const std::string& name(std::int64_t i) const { return names_.at(static_cast<std::size_t>(i)); }
  const PairedImageOptions& options() const { return options_; }

  // Pair i as (C, H, W) floats, jittered by `draw` (the default draw is the centre crop).
  std::pair<Tensor<float>, Tensor<float>> get(std::int64_t i, const JitterDraw& draw = {}) const {
    check(i >= 0 && i < size(), "PairedImageDataset::get: index ", i, " outside [0, ", size(), ")");
    const auto k = static_cast<std::size_t>(i);
    return {apply_jitter(to_float(inputs_[k]), options_.jitter, draw),
            apply_jitter(to_float(targets_[k]), options_.jitter, draw)};
  }

 private:
  static std::vector<std::string> png_names(const std::string& dir) {
    std::error_code ec;
    check(std::filesystem::is_directory(dir, ec), "PairedImageDataset: directory '", dir, "' not found");
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".png") names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());  // directory order differs between filesystems
    return names;
  }

  void add_side_by_side(const std::string& path, const std::string& name) {
    const io::Image both = io::read_image(path, options_.channels);
    check(both.width % 2 == 0, "PairedImageDataset: '", path, "' is ", both.width,
          " pixels wide; a side-by-side pair needs an even width");
    const int half = both.width / 2;
    io::Image left(both.height, half, both.channels), right(both.height, half, both.channels);
    for (int y = 0; y < both.height; ++y)
      for (int x = 0; x < half; ++x)
        for (int c = 0; c < both.channels; ++c) {
          left.at(y, x, c) = both.at(y, x, c);
          right.at(y, x, c) = both.at(y, x + half, c);
        }
    add_pair(std::move(left), std::move(right), name);
  }

  void add_pair(io::Image a, io::Image b, const std::string& name) {
    check(a.height == b.height && a.width == b.width, "PairedImageDataset: '", name, "': input is ", a.height, "x",
          a.width, " but target is ", b.height, "x", b.width);
    if (!inputs_.empty())
      check(a.height == inputs_[0].height && a.width == inputs_[0].width, "PairedImageDataset: '", name, "' is ",
            a.height, "x", a.width, " but '", names_[0], "' is ", inputs_[0].height, "x", inputs_[0].width,
            "; every pair must have one size");
    if (options_.b_to_a) std::swap(a, b);
    inputs_.push_back(std::move(a));
    targets_.push_back(std::move(b));
    names_.push_back(name);
  }

  // Interleaved HWC bytes -> planar (C, H, W) floats in the chosen range.
  Tensor<float> to_float(const io::Image& im) const {
    const std::int64_t c = im.channels, h = im.height, w = im.width;
    std::vector<std::uint8_t> planar(im.pixels.size());
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        for (std::int64_t ch = 0; ch < c; ++ch)
          planar[static_cast<std::size_t>((ch * h + y) * w + x)] = im.pixels[static_cast<std::size_t>((y * w + x) * c + ch)];
    Tensor<float> out = Tensor<float>::empty(Shape{c, h, w});
    pixels_to_float(out.data(), planar.data(), out.numel(), options_.range);
    return out;
  }

  PairedImageOptions options_;
  std::vector<io::Image> inputs_, targets_;
  std::vector<std::string> names_;
};

struct PairedLoaderOptions {
  bool jitter = true;     // false: the deterministic centre crop, no flip (evaluation)
  bool prefetch = false;  // build the next batch on a background thread
};

class PairedImageLoader {
 public:
  PairedImageLoader(const PairedImageDataset& data, DataLoaderOptions options, PairedLoaderOptions paired = {})
      : data_(data), sampler_(data.size(), options), seed_(options.seed), paired_(paired) {}
  // A prefetch in flight points at this loader: it must not move.
  PairedImageLoader(const PairedImageLoader&) = delete;
  PairedImageLoader& operator=(const PairedImageLoader&) = delete;

  std::int64_t size() const { return sampler_.size(); }
  std::int64_t batches_per_epoch() const { return sampler_.batches_per_epoch(); }
  EpochSampler& sampler() { return sampler_; }

  // Like DataLoader::next_batch: nullopt at the end of an epoch, then the next epoch starts.
  std::optional<PairBatch> next_batch() {
    const std::int64_t epoch = sampler_.epoch();
    auto idx = sampler_.next_indices();
    if (!idx) {
      pending_ = {};
      return std::nullopt;
    }
    PairBatch batch = pending_.valid() && pending_indices_ == *idx && pending_epoch_ == epoch
                          ? pending_.get()
                          : build(*idx, epoch);
    pending_ = {};
    if (paired_.prefetch)
      if (auto next = sampler_.peek_indices()) {
        pending_indices_ = *next;
        pending_epoch_ = sampler_.epoch();
        pending_ = std::async(std::launch::async, [this, n = *next, e = pending_epoch_] { return build(n, e); });
      }
    return batch;
  }

 private:
  // Jitter for (epoch, sample) from a counter-based stream: independent of batch size,
  // of prefetching, and of where a resumed run starts.
  JitterDraw draw(std::int64_t epoch, std::int64_t index) const {
    if (!paired_.jitter) return {};
    Rng rng;
    rng.set_state({seed_ ^ 0x9E3779B97F4A7C15ull,
                   (static_cast<std::uint64_t>(epoch) << 40) + static_cast<std::uint64_t>(index) * 4});
    return draw_jitter(data_.options().jitter, rng);
  }

  PairBatch build(const std::vector<std::int64_t>& idx, std::int64_t epoch) const {
    PairBatch b;
    b.indices = idx;
    for (std::size_t i = 0; i < idx.size(); ++i) {
      auto [x, y] = data_.get(idx[i], draw(epoch, idx[i]));
      if (i == 0) {
        const std::int64_t n = static_cast<std::int64_t>(idx.size());
        b.input = Tensor<float>::empty(Shape{n, x.dim(0), x.dim(1), x.dim(2)});
        b.target = Tensor<float>::empty(Shape{n, y.dim(0), y.dim(1), y.dim(2)});
      }
      std::copy(x.begin(), x.end(), b.input.data() + static_cast<std::int64_t>(i) * x.numel());
      std::copy(y.begin(), y.end(), b.target.data() + static_cast<std::int64_t>(i) * y.numel());
    }
    return b;
  }

  const PairedImageDataset& data_;
  EpochSampler sampler_;
  std::uint64_t seed_;
  PairedLoaderOptions paired_;
  std::future<PairBatch> pending_;
  std::vector<std::int64_t> pending_indices_;
  std::int64_t pending_epoch_ = -1;
};

}  // namespace gan::data
