// DCGAN (Radford et al. 2015) on MNIST or Fashion-MNIST, 28x28 or 64x64 (experiment E1).
//
// Method. G maps z ~ N(0, I) through transposed convolutions to an image in [-1, 1]; D maps
// an image through strided convolutions to one logit. Batch norm everywhere but G's output
// and D's input, ReLU in G, LeakyReLU(0.2) in D, weights N(0, 0.02). Each iteration: one D
// step on a real batch (label 1) and G(z).detach() (label 0), then one G step with the
// non-saturating loss -log D(G(z)). Adam, lr 2e-4, beta1 0.5, batch 128. At 64x64 the
// 28x28 digits are resized bilinearly (as znxlwm's TensorFlow code does).
//
// Outputs in --out: log.csv (per step: losses, D(x), D(G(z))), samples_epochNNN.png (fixed
// z, G in eval mode), checkpoint.safetensors (every epoch; --resume continues it exactly).
// With --classifier (from examples/mnist_classifier): metrics.csv with the Inception Score,
// the Fréchet distance to the real test set and the class histogram of --eval-samples
// samples at every evaluation, against training seconds, wall and CPU (evaluation excluded;
// on a shared machine CPU seconds measure the work, wall seconds the neighbours too).
#include <CLI/CLI.hpp>

#include "example_support.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include <gan/data/loader.hpp>
#include <gan/data/mnist.hpp>
#include <gan/gan.hpp>
#include <gan/io/checkpoint.hpp>
#include <gan/io/image_grid.hpp>
#include <gan/metrics/reference_classifier.hpp>
#include <gan/util/csv_logger.hpp>
#include <gan/util/progress.hpp>
#include <gan/util/stopwatch.hpp>

using namespace gan;

struct Config {
  std::string data = "data/mnist", out = "out/dcgan", classifier;
  int epochs = 2;
  std::int64_t iters = 0;  // 0: epochs decide
  std::int64_t batch = 128, width = 64, z_dim = 100, image_size = 28, extra_layers = 0;
  std::int64_t eval_samples = 2000, eval_every = 0, augment_shift = 0;  // eval_every 0: after every epoch
  double lr = 2e-4, lr_d = 0, real_label = 1, beta1 = 0.5, time_limit = 0, cpu_limit = 0, ema = 0, lr_decay_from = 1;
  std::uint64_t seed = 1;
  int threads = 0;
  bool resume = false, long_run = false;
};

static Tensor<float> resize(const Tensor<float>& x, std::int64_t size) {
  if (x.dim(2) == size) return x;
  NoGradGuard no_grad;
  return upsample_bilinear(Var<float>(x), size, size).value();
}

static int run(Config c) {
  if (c.threads > 0) set_num_threads(c.threads);
  if (c.long_run && c.iters == 0) c.epochs = std::max(c.epochs, 50);
  std::filesystem::create_directories(c.out);
  data::MnistDataset train(c.data, data::Split::Train, data::PixelRange::MinusOneOne);
  data::DataLoader loader(train.images(), train.labels(), {c.batch, true, true, c.seed});

  models::DcganOptions shape;
  shape.z_dim = c.z_dim, shape.width = c.width, shape.image_size = c.image_size, shape.channels = 1;
  shape.extra_layers = c.extra_layers;
  models::DcganGenerator<float> G(shape);
  models::DcganDiscriminator<float> D(shape);
  Rng rng(c.seed);
  models::dcgan_init(G, rng);
  models::dcgan_init(D, rng);
  // --ema (not in the paper; Yazici et al. 2019): a running average of G's weights is what
  // the grids, the metrics and generator.safetensors show. G_ema starts as a copy of G; the
  // decay ramps up as min(ema, (1 + step) / (10 + step)) so the random init is forgotten
  // fast. Its batch norms get statistics of their own (nn::update_bn) before every use:
  // G's running statistics belong to G's weights, not to their average.
  models::DcganGenerator<float> G_ema(shape);
  optim::ExponentialMovingAverage<float> ema(G_ema.parameters(), G.parameters());
  auto refresh_ema_statistics = [&] {
    if (c.ema <= 0) return;
    Rng bn_rng(c.seed + 3000);
    nn::update_bn(G_ema, 4, [&](std::int64_t) { G_ema(Var<float>(randn<float>(Shape{256, c.z_dim}, bn_rng))); });
  };
  models::DcganGenerator<float>& shown = c.ema > 0 ? G_ema : G;
  optim::AdamOptions adam;
  adam.lr = c.lr, adam.beta1 = c.beta1;
  optim::Adam<float> opt_g(G.parameters(), adam);
  if (c.lr_d > 0) adam.lr = c.lr_d;
  optim::Adam<float> opt_d(D.parameters(), adam);
  Rng fixed_rng(c.seed + 1000);  // the grids' z, independent of training
  const Var<float> fixed_z(randn<float>(Shape{64, c.z_dim}, fixed_rng));

  std::int64_t step = 0, train_us = 0, train_cpu_us = 0;
  io::Checkpoint ckpt;
  ckpt.add("G", G).add("D", D).add("opt_g", opt_g).add("opt_d", opt_d).add("rng", rng).add("loader", loader);
  if (c.ema > 0) ckpt.add("G_ema", G_ema);
  ckpt.add("step", step).add("train_us", train_us).add("train_cpu_us", train_cpu_us);
  const std::string ckpt_path = c.out + "/checkpoint.safetensors";
  if (c.resume) {
    check(std::filesystem::exists(ckpt_path), "--resume: no checkpoint at '", ckpt_path, "'");
    ckpt.load(ckpt_path);
    for (const char* f : {"/log.csv", "/metrics.csv"}) util::truncate_csv_after(c.out + f, step);  // redone rows
    std::cout << "resumed from " << ckpt_path << " at step " << step << "\n";
  }

  // The judge: a trained classifier and the real test set's statistics (through the same
  // 28 -> 64 -> 28 resizing as the samples when training at 64x64).
  std::unique_ptr<models::MnistClassifier<float>> judge;
  metrics::Reference ref;
  std::unique_ptr<util::CsvLogger> mlog;
  if (!c.classifier.empty()) {
    judge = metrics::load_reference_classifier(c.classifier);
    data::MnistDataset test(c.data, data::Split::Test, data::PixelRange::MinusOneOne);
    ref = metrics::reference_of(*judge, resize(resize(test.images(), c.image_size), 28));
    std::vector<std::string> cols = {"step", "epoch", "train_seconds", "train_cpu_seconds", "is", "fd", "covered", "max_share",
                                     "kl_uniform", "confident", "is_real", "fd_halves"};
    for (int k = 0; k < 10; ++k) cols.push_back("count_" + std::to_string(k));
    mlog = std::make_unique<util::CsvLogger>(c.out + "/metrics.csv", cols, c.resume);
    std::cout << "reference: real-test IS " << ref.is_real << " (ceiling), FD between test halves "
              << ref.fd_halves << " (floor), " << ref.count << " test images\n";
  }
  auto evaluate = [&] {
    if (!judge) return;
    Rng eval_rng(c.seed + 2000);  // the same z at every evaluation: curves show G, not z noise
    refresh_ema_statistics();
    NoGradGuard no_grad;
    shown.eval();
    Tensor<float> samples = Tensor<float>::empty(Shape{c.eval_samples, 1, 28, 28});
    for (std::int64_t b = 0; b < c.eval_samples; b += 500) {
      const std::int64_t n = std::min<std::int64_t>(500, c.eval_samples - b);
      const Tensor<float> x = resize(shown(Var<float>(randn<float>(Shape{n, c.z_dim}, eval_rng))).value(), 28);
      std::copy(x.begin(), x.end(), samples.data() + b * 784);
    }
    shown.train();
    const metrics::SampleQuality q = metrics::sample_quality(metrics::classify(*judge, samples), ref.stats);
    std::vector<double> row = {double(step), double(loader.epoch()), train_us / 1e6, train_cpu_us / 1e6, q.is, q.fd,
                               double(q.histogram.covered), q.histogram.max_share, q.histogram.kl_uniform,
                               q.histogram.confident, ref.is_real, ref.fd_halves};
    for (std::int64_t k : q.histogram.counts) row.push_back(double(k));
    mlog->row(row);
    std::cout << "\nstep " << step << " (" << train_us / 1e6 << " s, " << train_cpu_us / 1e6 << " CPU s of training): IS " << q.is << " / "
              << ref.is_real << ", FD " << q.fd << " (floor " << ref.fd_halves << "), classes covered "
              << q.histogram.covered << "/10, largest class share " << q.histogram.max_share << "\n";
  };
  // Weights alone for the latent-space and feature programs (dcgan_latent, dcgan_features).
  auto save_all = [&] {
    refresh_ema_statistics();
    ckpt.save(ckpt_path);
    const std::map<std::string, std::string> meta = {{"z_dim", std::to_string(c.z_dim)}, {"width", std::to_string(c.width)},
                                                     {"image_size", std::to_string(c.image_size)}, {"data", c.data},
                                                     {"extra_layers", std::to_string(c.extra_layers)},
                                                     {"step", std::to_string(step)}};
    io::save_module(c.out + "/generator.safetensors", shown, meta);
    io::save_module(c.out + "/discriminator.safetensors", D, meta);
  };
  auto save_samples = [&](const std::string& name) {
    refresh_ema_statistics();
    NoGradGuard no_grad;
    shown.eval();
    io::save_image_grid(c.out + "/" + name, shown(fixed_z).value(), {8, 2, 0, -1.0f, 1.0f});
    shown.train();
  };

  const std::int64_t total = c.iters > 0 ? c.iters : c.epochs * loader.batches_per_epoch();
  util::CsvLogger log(c.out + "/log.csv", {"step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "seconds", "cpu_seconds"},
                      c.resume);
  util::Progress progress(total, "dcgan");
  progress.set_start_step(step);
  std::cout << "DCGAN " << c.image_size << "x" << c.image_size << " on " << train.size() << " images of " << c.data
            << ", " << total << " iterations of batch " << c.batch << ", width " << c.width << ", "
            << max_threads() << " threads -> " << c.out << "\n";

  bool evaluated = false;
  while (step < total && (c.time_limit <= 0 || train_us < c.time_limit * 1e6) &&
         (c.cpu_limit <= 0 || train_cpu_us < c.cpu_limit * 1e6)) {
    auto batch = loader.next_batch();
    if (!batch) {  // epoch boundary: the loader has already drawn the next order
      char name[40];
      std::snprintf(name, sizeof name, "samples_epoch%03lld.png", static_cast<long long>(loader.epoch()));
      save_samples(name);
      if (c.eval_every == 0) evaluate();
      save_all();
      continue;
    }
    const util::Stopwatch watch;  // training time only: evaluation and saving are not counted
    const std::int64_t n = batch->images.dim(0);
    Var<float> real(resize(batch->images, c.image_size));
    Var<float> fake = G(Var<float>(randn<float>(Shape{n, c.z_dim}, rng)));

    if (c.lr_decay_from < 1) {  // both rates fall linearly to 0 over the last part of the run
      const double f = double(step) / double(total);
      const double scale = std::min(1.0, (1.0 - f) / (1.0 - c.lr_decay_from));
      opt_g.set_lr(c.lr * scale), opt_d.set_lr((c.lr_d > 0 ? c.lr_d : c.lr) * scale);
    }
    // --augment-shift (DiffAugment): D sees real and fake images moved by random offsets.
    auto seen_by_D = [&](const Var<float>& x) { return c.augment_shift > 0 ? random_translate(x, c.augment_shift, rng, -1.0f) : x; };
    // D step: real -> 1 (or --real-label), fake -> 0; detach() keeps this step's gradients out of G.
    opt_d.zero_grad();
    Var<float> logits_real = D(seen_by_D(real)), logits_fake = D(seen_by_D(fake.detach()));
    Var<float> loss_d = bce_with_logits(logits_real, c.real_label) + bce_with_logits(logits_fake, 0.0);
    loss_d.backward();
    opt_d.step();

    // G step: make D call the fakes real; gradients flow through D into G. D's parameters
    // are frozen for it: their gradients would only be zeroed before D's next step.
    opt_g.zero_grad();
    D.requires_grad_(false);
    Var<float> loss_g = bce_with_logits(D(seen_by_D(fake)), 1.0);
    loss_g.backward();
    D.requires_grad_(true);
    opt_g.step();
    if (c.ema > 0) ema.update(std::min(c.ema, (1.0 + step) / (10.0 + step)));

    ++step;
    train_us += std::int64_t(1e6 * watch.seconds());
    train_cpu_us += std::int64_t(1e6 * watch.cpu_seconds());
    const double d_real = example::mean_sigmoid(logits_real.value()), d_fake = example::mean_sigmoid(logits_fake.value());
    log.row({double(step), double(loader.epoch()), loss_d.item(), loss_g.item(), d_real, d_fake, train_us / 1e6,
             train_cpu_us / 1e6});
    progress.update(step, {{"loss_d", loss_d.item()}, {"loss_g", loss_g.item()}, {"D(x)", d_real}, {"D(G(z))", d_fake}},
                    c.time_limit > 0 ? std::max(0.0, c.time_limit - train_us / 1e6) : -1.0);
    evaluated = c.eval_every > 0 && step % c.eval_every == 0;
    if (evaluated) evaluate();
  }
  save_samples("samples.png");
  if (!evaluated) evaluate();
  save_all();
  example::plot_csv(c.out + "/log.csv", c.out + "/curves.png", "--y loss_d,loss_g,d_real,d_fake --smooth 10");
  std::cout << "\nwrote " << c.out << "/samples.png, log.csv, curves.png" << (judge ? ", metrics.csv" : "")
            << ", checkpoint.safetensors, generator.safetensors and discriminator.safetensors (" << step << " steps, " << train_us / 1e6 << " s of training)\n";
  return 0;
}

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"DCGAN on MNIST / Fashion-MNIST (28x28 or 64x64): trains G and D, writes sample grids, a CSV log, "
               "checkpoints and (with --classifier) IS / FD / class coverage over training time."};
  app.add_option("--data", c.data, "directory with the four IDX files: data/mnist or data/fashion-mnist (bash scripts/prepare_data.sh)")->capture_default_str();
  app.add_option("--out", c.out, "output directory")->capture_default_str();
  app.add_option("--epochs", c.epochs, "passes over the training set")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--iters", c.iters, "iterations (overrides --epochs when > 0)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--time-limit", c.time_limit, "stop after this many seconds of training (0: no limit)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--cpu-limit", c.cpu_limit, "stop after this many CPU seconds of training, all threads (0: no limit)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--long", c.long_run, "long run for oscillation / mode-collapse study: at least 50 epochs, metrics every epoch");
  app.add_option("--batch", c.batch, "batch size (paper: 128)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", c.lr, "Adam learning rate (paper: 2e-4)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr-d", c.lr_d, "D's Adam learning rate if different from G's (0: --lr for both, the paper; two rates: Heusel et al. 2017)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--real-label", c.real_label, "D's target for real images (1: the paper; 0.9: one-sided label smoothing, Salimans et al. 2016)")->capture_default_str()->check(CLI::Range(0.5, 1.0));
  app.add_option("--augment-shift", c.augment_shift, "DiffAugment translation (Zhao et al. 2020): D's real and fake inputs moved by up to this many pixels, background filled in (0: off, the paper)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--lr-decay-from", c.lr_decay_from, "fraction of the iterations after which both learning rates fall linearly to 0 at the end (1: constant, the paper)")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--beta1", c.beta1, "Adam beta1 (paper: 0.5)")->capture_default_str()->check(CLI::Range(0.0, 0.999999));
  app.add_option("--width", c.width, "base channel width of G and D")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--extra-layers", c.extra_layers, "3x3 stride-1 conv + BN layers added at the largest hidden resolution of G and of D (0: the paper)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--z-dim", c.z_dim, "latent dimension")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--image-size", c.image_size, "28, or 64 (the paper's architecture; digits resized)")->capture_default_str()->check(CLI::IsMember({28, 64}));
  app.add_option("--classifier", c.classifier, "reference classifier weights (examples/mnist_classifier) to compute IS / FD / class histogram");
  app.add_option("--eval-samples", c.eval_samples, "generated samples per evaluation")->capture_default_str()->check(CLI::Range(2, 1000000));
  app.add_option("--eval-every", c.eval_every, "evaluate every N iterations (0: after every epoch)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--ema", c.ema, "decay of an exponential moving average of G's weights used for samples and metrics (0: off, the paper)")->capture_default_str()->check(CLI::Range(0.0, 0.999999));
  app.add_option("--seed", c.seed, "seed for init, data order and z")->capture_default_str();
  app.add_option("--threads", c.threads, "OpenMP threads (0: OMP_NUM_THREADS or all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--resume", c.resume, "continue from <out>/checkpoint.safetensors (same flags); CSV rows after it are dropped");
  CLI11_PARSE(app, argc, argv);
  return example::run("dcgan", [&] { return run(c); });
}
