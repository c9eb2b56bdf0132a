// DCGAN on MNIST (Radford et al. 2015) at 28x28.
//
// Method. G maps z ~ N(0, I_100) through transposed convolutions to a 28x28 image in
// [-1, 1]; D maps an image through strided convolutions to one logit. Batch norm
// everywhere but G's output and D's input, ReLU in G, LeakyReLU(0.2) in D, weights
// N(0, 0.02). Each iteration: one D step on a real batch (label 1) and G(z).detach()
// (label 0), then one G step with the non-saturating loss -log D(G(z)). Adam, lr 2e-4,
// beta1 0.5. A grid of samples from a fixed z is written after every epoch.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include <gan/data/loader.hpp>
#include <gan/data/mnist.hpp>
#include <gan/gan.hpp>
#include <gan/io/image_grid.hpp>
#include <gan/util/csv_logger.hpp>
#include <gan/util/progress.hpp>

using namespace gan;

struct Config {
  std::string data = "data/mnist", out = "out/dcgan";
  int epochs = 2;
  std::int64_t iters = 0;  // 0: epochs decide
  std::int64_t batch = 128, width = 64, z_dim = 100;
  double lr = 2e-4, beta1 = 0.5;
  std::uint64_t seed = 1;
  int threads = 0;
};

static double mean_sigmoid(const Tensor<float>& logits) {
  double s = 0;
  for (float v : logits) s += 1.0 / (1.0 + std::exp(-double(v)));
  return s / logits.numel();
}

static int run(const Config& c) {
  if (c.threads > 0) set_num_threads(c.threads);
  std::filesystem::create_directories(c.out);
  data::MnistDataset train(c.data, data::Split::Train, data::PixelRange::MinusOneOne);
  data::DataLoader loader(train.images(), train.labels(), {c.batch, true, true, c.seed});

  models::DcganOptions shape;
  shape.z_dim = c.z_dim, shape.width = c.width, shape.image_size = 28, shape.channels = 1;
  models::DcganGenerator<float> G(shape);
  models::DcganDiscriminator<float> D(shape);
  Rng rng(c.seed);
  models::dcgan_init(G, rng);
  models::dcgan_init(D, rng);
  optim::AdamOptions adam;
  adam.lr = c.lr, adam.beta1 = c.beta1;
  optim::Adam<float> opt_g(G.parameters(), adam), opt_d(D.parameters(), adam);

  const Var<float> fixed_z(randn<float>(Shape{64, c.z_dim}, rng));
  const std::int64_t total = c.iters > 0 ? c.iters : c.epochs * loader.batches_per_epoch();
  util::CsvLogger log(c.out + "/log.csv", {"step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "seconds"});
  util::Progress progress(total, "dcgan");
  std::cout << "DCGAN on " << train.size() << " MNIST digits, " << total << " iterations of batch " << c.batch
            << ", " << max_threads() << " threads -> " << c.out << "\n";

  auto save_samples = [&](const std::string& name) {
    NoGradGuard no_grad;
    G.eval();
    io::save_image_grid(c.out + "/" + name, G(fixed_z).value(), {8, 2, 0, -1.0f, 1.0f});
    G.train();
  };

  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t step = 1; step <= total; ++step) {
    auto batch = loader.next_batch();
    if (!batch) {  // epoch boundary: the loader has already drawn the next order
      save_samples("samples_epoch" + std::to_string(loader.epoch()) + ".png");
      batch = loader.next_batch();
    }
    const std::int64_t n = batch->images.dim(0);
    Var<float> real(batch->images);
    Var<float> fake = G(Var<float>(randn<float>(Shape{n, c.z_dim}, rng)));

    // D step: real -> 1, fake -> 0; detach() keeps this step's gradients out of G.
    opt_d.zero_grad();
    Var<float> logits_real = D(real), logits_fake = D(fake.detach());
    Var<float> loss_d = bce_with_logits(logits_real, 1.0) + bce_with_logits(logits_fake, 0.0);
    loss_d.backward();
    opt_d.step();

    // G step: make D call the fakes real; gradients flow through D into G.
    opt_g.zero_grad();
    Var<float> loss_g = bce_with_logits(D(fake), 1.0);
    loss_g.backward();
    opt_g.step();

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double d_real = mean_sigmoid(logits_real.value()), d_fake = mean_sigmoid(logits_fake.value());
    log.row({double(step), double(loader.epoch()), loss_d.item(), loss_g.item(), d_real, d_fake, seconds});
    progress.update(step, {{"loss_d", loss_d.item()}, {"loss_g", loss_g.item()}, {"D(x)", d_real}, {"D(G(z))", d_fake}});
  }
  save_samples("samples.png");
  std::cout << "wrote " << c.out << "/samples.png and " << c.out << "/log.csv\n";
  return 0;
}

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"DCGAN on MNIST (28x28): trains G and D and writes sample grids and a CSV log."};
  app.add_option("--data", c.data, "directory with the four MNIST IDX files (bash scripts/prepare_data.sh)")->capture_default_str();
  app.add_option("--out", c.out, "output directory for samples*.png and log.csv")->capture_default_str();
  app.add_option("--epochs", c.epochs, "passes over the training set")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--iters", c.iters, "iterations (overrides --epochs when > 0)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--batch", c.batch, "batch size (paper: 128)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", c.lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--beta1", c.beta1, "Adam beta1 (paper: 0.5)")->capture_default_str()->check(CLI::Range(0.0, 0.999999));
  app.add_option("--width", c.width, "base channel width of G and D")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--z-dim", c.z_dim, "latent dimension")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", c.seed, "seed for init, data order and z")->capture_default_str();
  app.add_option("--threads", c.threads, "OpenMP threads (0: OMP_NUM_THREADS or all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(c);
  } catch (const gan::Error& e) {
    std::cerr << "dcgan: " << e.what() << "\n";
    return 1;
  }
}
