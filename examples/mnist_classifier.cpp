// The reference classifier that judges generators (issue 6, experiment E1).
//
// Method. A small conv net (gan/models/mnist_classifier.hpp: three convs, one hidden
// linear layer of 128 features, no batch norm) is trained with softmax cross-entropy and
// Adam on the training split of MNIST or Fashion-MNIST (pixels in [-1, 1], the range of a
// tanh generator); --augment-shift S shifts each training image by up to S pixels, so the
// judge cannot lean on pixel positions memorised from 8,000 digits. After every epoch: test
// accuracy, a checkpoint for --resume. At the end the weights go to
// <out>/classifier.safetensors and <out>/reference.csv gets the two yardsticks every
// generator is compared with:
//   ceiling  IS of the real test set (what a perfect generator would score),
//   floor    Fréchet distance between two halves of the real test set (sampling noise
//            alone), and between the test set and as many training images (the distance a
//            perfect generator would reach with that many samples).
#include <CLI/CLI.hpp>

#include "example_support.hpp"

#include <filesystem>
#include <iostream>

#include <gan/data/loader.hpp>
#include <gan/data/mnist.hpp>
#include <gan/gan.hpp>
#include <gan/io/checkpoint.hpp>
#include <gan/metrics/sample_quality.hpp>
#include <gan/models/mnist_classifier.hpp>
#include <gan/util/csv_logger.hpp>
#include <gan/util/progress.hpp>

using namespace gan;

struct Config {
  std::string data = "data/mnist", out = "out/classifier";
  int epochs = 3;
  std::int64_t batch = 64, width = 32, hidden = 128, augment_shift = 0;
  double lr = 1e-3;
  std::uint64_t seed = 1;
  int threads = 0;
  bool resume = false;
};

static double accuracy(const Tensor<float>& probs, const std::vector<std::int64_t>& labels) {
  const std::int64_t n = probs.dim(0), c = probs.dim(1);
  std::int64_t right = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = probs.data() + i * c;
    right += std::max_element(row, row + c) - row == labels[std::size_t(i)];
  }
  return double(right) / double(n);
}

static Tensor<float> rows(const Tensor<float>& t, std::int64_t begin, std::int64_t end) {
  return slice(Var<float>(t), begin, end, 0).value();
}

static int run(const Config& c) {
  if (c.threads > 0) set_num_threads(c.threads);
  std::filesystem::create_directories(c.out);
  data::MnistDataset train(c.data, data::Split::Train), test(c.data, data::Split::Test);
  data::DataLoader loader(train.images(), train.labels(), {c.batch, true, false, c.seed});
  manual_seed(c.seed);                                            // PyTorch default init from the seed
  models::MnistClassifier<float> net({c.width, c.hidden, 10});
  optim::AdamOptions adam;
  adam.lr = c.lr;
  optim::Adam<float> opt(net.parameters(), adam);
  Rng rng(c.seed);
  std::int64_t epoch = 0;
  io::Checkpoint ckpt;
  ckpt.add("net", net).add("opt", opt).add("loader", loader).add("rng", rng).add("epoch", epoch);
  const std::string ckpt_path = c.out + "/checkpoint.safetensors";
  if (c.resume) {
    check(std::filesystem::exists(ckpt_path), "--resume: no checkpoint at '", ckpt_path, "'");
    ckpt.load(ckpt_path);
    std::cout << "resumed from " << ckpt_path << " after epoch " << epoch << "\n";
  }
  util::CsvLogger log(c.out + "/log.csv", {"epoch", "train_loss", "test_accuracy", "seconds"}, c.resume);
  const std::int64_t per_epoch = loader.batches_per_epoch();
  util::Progress progress(c.epochs * per_epoch, "classifier");
  progress.set_start_step(epoch * per_epoch);
  std::cout << net.describe() << ", " << net.parameter_count() << " parameters, on " << train.size() << " images of "
            << c.data << " -> " << c.out << "\n";

  const auto start = std::chrono::steady_clock::now();
  for (; epoch < c.epochs;) {
    double loss_sum = 0;
    std::int64_t i = 0;
    for (const data::Batch& b : loader) {
      opt.zero_grad();
      Var<float> images(b.images);
      if (c.augment_shift > 0) images = random_translate(images, c.augment_shift, rng, -1.0f);  // -1: background
      Var<float> loss = cross_entropy(net(images), b.labels);
      loss.backward();
      opt.step();
      loss_sum += loss.item();
      progress.update(epoch * per_epoch + ++i, {{"loss", loss.item()}});
    }
    ++epoch;
    const double acc = accuracy(metrics::classify(net, test.images()).probabilities, test.labels());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log.row({double(epoch), loss_sum / double(i), acc, seconds});
    std::cout << "epoch " << epoch << ": train loss " << loss_sum / double(i) << ", test accuracy " << acc << "\n";
    ckpt.save(ckpt_path);
  }

  // The yardsticks, on the classifier's own features.
  const metrics::ClassifierOutputs real = metrics::classify(net, test.images());
  const std::int64_t n = test.size(), half = n / 2;
  const double acc = accuracy(real.probabilities, test.labels());
  const metrics::InceptionScore is = metrics::inception_score(real.probabilities, 1);
  const double fd_halves = metrics::frechet_distance(rows(real.features, 0, half), rows(real.features, half, 2 * half));
  const std::int64_t m = std::min(n, train.size());
  const double fd_train = metrics::frechet_distance(
      metrics::classify(net, rows(train.images(), 0, m)).features, real.features);
  util::CsvLogger ref(c.out + "/reference.csv",
                      {"test_accuracy", "test_images", "is_real_test", "fd_test_halves", "fd_train_vs_test"});
  ref.row({acc, double(n), is.mean, fd_halves, fd_train});
  io::save_module(c.out + "/classifier.safetensors", net,
                  {{"data", c.data}, {"test_accuracy", std::to_string(acc)}, {"width", std::to_string(c.width)},
                   {"hidden", std::to_string(c.hidden)}});
  std::cout << "test accuracy " << acc << " on " << n << " images; real-test IS " << is.mean
            << " (ceiling); FD test halves " << fd_halves << ", FD " << m << " train vs test " << fd_train
            << " (floors)\nwrote " << c.out << "/classifier.safetensors and " << c.out << "/reference.csv\n";
  return 0;
}

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"Reference classifier for MNIST / Fashion-MNIST: trains, reports test accuracy, saves the weights "
               "and the IS ceiling / FD floor of the real test set."};
  app.add_option("--data", c.data, "directory with the four IDX files (bash scripts/prepare_data.sh)")->capture_default_str();
  app.add_option("--out", c.out, "output directory")->capture_default_str();
  app.add_option("--epochs", c.epochs, "passes over the training set")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", c.batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", c.lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--width", c.width, "channels of the first conv")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--hidden", c.hidden, "feature dimension (penultimate layer)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--augment-shift", c.augment_shift,
                 "shift every training image by up to this many pixels on each axis (0: off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", c.seed, "seed for data order")->capture_default_str();
  app.add_option("--threads", c.threads, "OpenMP threads (0: OMP_NUM_THREADS or all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--resume", c.resume, "continue from <out>/checkpoint.safetensors (same flags)");
  CLI11_PARSE(app, argc, argv);
  return example::run("mnist_classifier", [&] { return run(c); });
}
