// Conditional GAN of the "Generative data for improve accuracy (MNist)" study (E3,
// kangheeyong/2018-1-Deep-Learing-pc1 generative_data_input_experiment/ex_basic_5_v1.py).
//
// Method. G(z, c): z ~ N(0, I_100) concatenated with the one-hot label c, transposed convs,
// ELU + batch norm, sigmoid output in (0, 1) like MNIST's pixels. D(x, c): the image plus
// 10 constant one-hot label maps, convs with batch norm + ELU, one logit. Real images come
// with their real labels and G is conditioned on the same labels. Losses with the study's
// 0.5 factors: D = -0.5 log D(x) - 0.5 log(1 - D(G(z))), G = -0.5 log D(G(z)). Adam, beta1
// 0.9. Each iteration: one D step, then G steps on the same batch and z until G's loss is
// below 2 ln 2 (D(G(z)) >~ 1/16), at most --max-g-steps times (the original had no cap; the
// number of G steps and the capped iterations are logged). G's batch norm uses batch
// statistics also when sampling, as in the study (--g-running-stats to change it).
// Writes G.safetensors (weights + widths), samples*.png (row = digit), log.csv, checkpoint.
#include <CLI/CLI.hpp>

#include "example_support.hpp"

#include <cmath>
#include <filesystem>
#include <iostream>

#include <gan/data/loader.hpp>
#include <gan/data/mnist.hpp>
#include <gan/gan.hpp>
#include <gan/io/checkpoint.hpp>
#include <gan/io/image_grid.hpp>
#include <gan/models/cgan_study.hpp>
#include <gan/util/csv_logger.hpp>
#include <gan/util/progress.hpp>
#include <gan/util/stopwatch.hpp>

using namespace gan;

struct Config {
  std::string data = "data/mnist", out = "out/cgan_mnist";
  std::int64_t iters = 1000, batch = 100, g_width = 16, d_width = 8, z_dim = 100;
  std::int64_t max_g_steps = 5, log_every = 100, save_every = 500;
  double lr = 2e-4, beta1 = 0.9;
  bool g_running_stats = false, resume = false;
  std::uint64_t seed = 1;
  int threads = 0;
};

static int run(const Config& c) {
  if (c.threads > 0) set_num_threads(c.threads);
  std::filesystem::create_directories(c.out);
  data::MnistDataset train(c.data, data::Split::Train, data::PixelRange::ZeroOne);
  data::DataLoader loader(train.images(), train.labels(), {c.batch, true, true, c.seed});

  Rng rng(c.seed);
  models::CganStudyOptions shape;
  shape.z_dim = c.z_dim, shape.g_width = c.g_width, shape.d_width = c.d_width;
  shape.g_batch_stats_in_eval = !c.g_running_stats;
  models::StudyGenerator<float> G(shape, rng);
  auto D = models::study_discriminator<float>(shape, rng);
  optim::AdamOptions adam;
  adam.lr = c.lr, adam.beta1 = c.beta1;
  optim::Adam<float> opt_g(G.parameters(), adam), opt_d(D->parameters(), adam);

  std::int64_t step = 0;
  io::Checkpoint ckpt;
  ckpt.add("G", G).add("D", *D).add("opt_g", opt_g).add("opt_d", opt_d).add("rng", rng).add("loader", loader).add("step", step);
  const std::string ckpt_path = c.out + "/checkpoint.safetensors";
  if (c.resume && std::filesystem::exists(ckpt_path)) {
    ckpt.load(ckpt_path);
    std::cout << "resumed from " << ckpt_path << " at step " << step << "\n";
  }
  util::truncate_csv_after(c.out + "/log.csv", step);  // rows past the checkpoint are redone
  util::CsvLogger log(c.out + "/log.csv", {"step", "loss_d", "loss_g", "d_real", "d_fake", "g_steps", "capped", "seconds"}, step > 0);

  // 10 x 10 grid: row r shows digit r for ten fixed z.
  Rng sample_rng(c.seed + 1000);
  const Var<float> fixed_z(randn<float>(Shape{100, c.z_dim}, sample_rng));
  std::vector<std::int64_t> fixed_labels(100);
  for (int i = 0; i < 100; ++i) fixed_labels[i] = i / 10;
  auto save = [&](const std::string& samples) {
    {
      NoGradGuard no_grad;
      G.eval();
      io::save_image_grid(c.out + "/" + samples, G(fixed_z, fixed_labels).value(), {10, 2, 0, 0.0f, 1.0f});
      G.train();
    }
    ckpt.save(ckpt_path);
    io::save_module(c.out + "/G.safetensors", G, {{"z_dim", std::to_string(c.z_dim)}, {"g_width", std::to_string(c.g_width)}});
  };

  std::cout << "cGAN (E3) on " << train.size() << " digits from " << c.data << ": " << c.iters << " iterations of batch "
            << c.batch << ", G width " << c.g_width << ", D width " << c.d_width << ", lr " << c.lr << ", "
            << max_threads() << " threads -> " << c.out << "\n";
  util::Progress progress(c.iters, "cgan");
  progress.set_start_step(step);
  const double g_target = 2.0 * std::log(2.0);
  double sums[5] = {0, 0, 0, 0, 0};  // loss_d, loss_g, d_real, d_fake, g_steps over the log interval
  std::int64_t capped = 0, in_interval = 0;
  const util::Stopwatch watch;
  while (step < c.iters) {
    auto batch = loader.next_batch();
    if (!batch) batch = loader.next_batch();  // epoch boundary
    const std::int64_t n = batch->images.dim(0);
    Var<float> real(batch->images);
    Var<float> maps(one_hot_maps<float>(batch->labels, 10, 28, 28), false);
    Var<float> z(randn<float>(Shape{n, c.z_dim}, rng));

    // D step: real (with its label maps) -> 1, G(z, same labels) -> 0.
    opt_d.zero_grad();
    Var<float> logits_real = (*D)(real, maps), logits_fake = (*D)(G(z, batch->labels).detach(), maps);
    Var<float> loss_d = 0.5 * bce_with_logits(logits_real, 1.0) + 0.5 * bce_with_logits(logits_fake, 0.0);
    loss_d.backward();
    opt_d.step();

    // G steps on the same batch and z until -0.5 log D(G(z)) < 2 ln 2 (loss before the step,
    // as the original's sess.run([G_optim, G_loss]) reports it), at most max_g_steps.
    double loss_g = 0;
    std::int64_t g_steps = 0;
    do {
      opt_g.zero_grad();
      Var<float> l = 0.5 * bce_with_logits((*D)(G(z, batch->labels), maps), 1.0);
      l.backward();
      opt_g.step();
      loss_g = l.item(), ++g_steps;
    } while (loss_g >= g_target && g_steps < c.max_g_steps);
    if (loss_g >= g_target) ++capped;

    ++step, ++in_interval;
    const double values[5] = {loss_d.item(), loss_g, example::mean_sigmoid(logits_real.value()),
                              example::mean_sigmoid(logits_fake.value()),
                              double(g_steps)};
    for (int i = 0; i < 5; ++i) sums[i] += values[i];
    progress.update(step, {{"loss_d", values[0]}, {"loss_g", values[1]}, {"D(x)", values[2]}, {"D(G(z))", values[3]}, {"g_steps", values[4]}});
    if (step % c.log_every == 0 || step == c.iters) {
      const double k = 1.0 / in_interval;
      log.row({double(step), sums[0] * k, sums[1] * k, sums[2] * k, sums[3] * k, sums[4] * k, double(capped), watch.seconds()});
      for (double& s : sums) s = 0;
      capped = 0, in_interval = 0;
    }
    if (step % c.save_every == 0 && step < c.iters) save("samples_" + std::to_string(step) + ".png");
  }
  save("samples.png");
  std::cout << "wrote " << c.out << "/G.safetensors, samples.png, log.csv\n";
  return 0;
}

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"Conditional GAN of the E3 augmentation study: trains G and D on MNIST-format data, saves G."};
  app.add_option("--data", c.data, "directory with the four IDX files (MNIST or Fashion-MNIST)")->capture_default_str();
  app.add_option("--out", c.out, "output directory")->capture_default_str();
  app.add_option("--iters", c.iters, "iterations (study: 100000)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", c.batch, "batch size (study: 100)")->capture_default_str()->check(CLI::Range(2, 100000));
  app.add_option("--lr", c.lr, "Adam learning rate of D and G (study: 1e-5)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--beta1", c.beta1, "Adam beta1 (study: TF default 0.9)")->capture_default_str()->check(CLI::Range(0.0, 0.999999));
  app.add_option("--g-width", c.g_width, "G width w: 8w,4w,2w,w,w/2 channels (study: 128)")->capture_default_str()->check(CLI::Range(2, 4096));
  app.add_option("--d-width", c.d_width, "D width w: w..16w channels (study: 64)")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--z-dim", c.z_dim, "latent dimension (study: 100)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-g-steps", c.max_g_steps, "cap on G steps per iteration (study: unbounded)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--g-running-stats", c.g_running_stats, "sample with G's running BN statistics (study: batch statistics)");
  app.add_option("--log-every", c.log_every, "CSV row every N iterations (means over them)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--save-every", c.save_every, "checkpoint, G and a sample grid every N iterations")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", c.seed, "seed for init, data order and z")->capture_default_str();
  app.add_option("--threads", c.threads, "OpenMP threads (0: OMP_NUM_THREADS or all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--resume", c.resume, "continue from <out>/checkpoint.safetensors if it exists");
  CLI11_PARSE(app, argc, argv);
  return example::run("cgan_mnist", [&] { return run(c); });  // also catches std::out_of_range etc.
}
