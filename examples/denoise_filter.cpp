// The residual denoising-filter study (experiment_2, E4 in the experiment notes): does an
// adversarial loss help a filter that removes a reference digit and noise from a mixture?
//
// Method. Each step draws a batch of MNIST digits gt and the next batch ref, two scalars a,
// b ~ U(0.2, 1) for the whole batch and noise U[0, 1) per pixel, and feeds
// u = min(a gt + b ref + noise, 1) with ref to the filter G (gan/models/denoise_filter.hpp),
// whose target is t = a gt (the recipe: gan/data/digit_mixtures.hpp). dcnn_* train G with
// the L1 loss only (Adam 1e-4, beta1 0.9). dcgans_* add a discriminator D that sees t or
// G(u, ref) (one D step, then one G step; D_loss = -0.5 (log D(t) + log(1 - D(G))),
// G_loss = w_c L1 + w_adv (-0.5 log D(G))); cgan_* give D also [u, ref]. The variants differ
// in the table `kVariants` below. Evaluation (gan/metrics/denoise_quality.hpp): 1,000 fixed
// test mixtures (a = 0.5, b = 0.7, seeded ref and noise): L1, PSNR, SSIM against the target,
// the share of outputs that look more like the ref than the digit (the study's failure), and
// with --classifier the reference classifier's accuracy on the outputs and how often it names
// the ref's digit. Panel: the first 16 mixtures.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include <gan/data/digit_mixtures.hpp>
#include <gan/data/mnist.hpp>
#include <gan/gan.hpp>
#include <gan/io/checkpoint.hpp>
#include <gan/io/image_grid.hpp>
#include <gan/metrics/denoise_quality.hpp>
#include <gan/metrics/reference_classifier.hpp>
#include <gan/models/conditional.hpp>
#include <gan/models/denoise_filter.hpp>
#include <gan/util/csv_logger.hpp>
#include <gan/util/progress.hpp>
#include <gan/util/stopwatch.hpp>

#include "example_support.hpp"

using namespace gan;
namespace fs = std::filesystem;

struct Config {
  std::string data = "data/mnist", out = "out/denoise_filter", variant = "all", classifier;
  std::int64_t iters = 2000, pretrain = 300, batch = 32, width = 32, d_width = 8;
  std::int64_t log_every = 50, checkpoint_every = 250, eval_count = 1000;
  double lr = 1e-3, lambda_switch = 0.4, v3_test_target = 0.8;
  std::uint64_t seed = 1, test_seed = 1;
  int threads = 0;
  bool resume = false, full = false, eval_only = false, plots = true;
};

// One row of the study. Kinds: L1 only, L1 + vanilla D, L1 + conditional D.
struct Variant {
  std::string name;
  enum Kind { dcnn, gan, cgan } kind;
  double w_content, w_adv;
  bool same_batch;       // D and G steps on the same batch (else G draws a fresh one)
  bool scaled_ref;       // ref channel = b' ref with its own b' (test: 0.85 ref)
  double target_scale;   // 0: t = a gt; else t = target_scale gt (dcnn_v3: 0.8)
  bool small_data;       // 100-image windows of the first ~1,100 train digits
  bool pretrain;         // L1-only steps with their own Adam before the GAN loop
  bool lambda_schedule;  // w_content 1 -> 100 after lambda_switch of the iterations
  std::int64_t original_iters;
  data::MixtureOptions mixture() const { return {small_data, scaled_ref, target_scale}; }
  // The fixed test mixtures as this variant sees them (dcnn_v3: t = --v3-test-target gt).
  data::Mixture test_mixture(const data::MixtureTestSet& test, double v3_test_target) const {
    return test.mixtures(scaled_ref, target_scale > 0 ? v3_test_target : data::MixtureTestSet::a);
  }
};

const std::vector<Variant> kVariants = {
    {"dcnn_v1", Variant::dcnn, 1, 0, true, false, 0, false, false, false, 1000000},
    {"dcnn_v2", Variant::dcnn, 1, 0, true, true, 0, false, false, false, 1000000},
    {"dcnn_v3", Variant::dcnn, 1, 0, true, true, 0.8, false, false, false, 1000000},
    {"dcnn_v5", Variant::dcnn, 1, 0, true, false, 0, true, false, false, 1000000},
    {"dcgans_v1", Variant::gan, 1, 0.001, false, false, 0, false, false, false, 1000000},
    {"dcgans_v2", Variant::gan, 0.9, 0.1, false, false, 0, false, false, false, 200000},
    {"dcgans_v3", Variant::gan, 1, 1, false, false, 0, false, false, false, 200000},
    {"dcgans_v4", Variant::gan, 1, 0.001, true, false, 0, false, false, false, 200000},
    {"dcgans_v5", Variant::gan, 0.9, 0.1, true, false, 0, false, false, false, 200000},
    {"dcgans_v6", Variant::gan, 1, 1, true, false, 0, false, false, false, 200000},
    {"dcgans_v7", Variant::gan, 1, 0.001, true, false, 0, false, true, false, 200000},
    {"cgan_v1", Variant::cgan, 1, 1, true, false, 0, false, false, false, 500000},
    {"cgan_v2", Variant::cgan, 1, 0.001, true, false, 0, false, false, false, 500000},
    {"cgan_v3", Variant::cgan, 0, 1, true, false, 0, false, false, false, 500000},
    {"cgan_v4", Variant::cgan, 0, 1, false, false, 0, false, false, false, 500000},
    {"cgan_v5", Variant::cgan, 1, 1, true, false, 0, false, false, true, 500000},
    {"cgan_v6", Variant::cgan, 1, 0, true, false, 0, false, false, false, 500000},
};

// The metrics.csv columns: the quality of the test outputs, then how long training took.
static void write_metrics(const std::string& path, const metrics::DenoiseQuality& q, double seconds, std::int64_t iters) {
  std::vector<std::string> columns = metrics::DenoiseQuality::names();
  std::vector<double> values = q.values();
  columns.insert(columns.end(), {"train_seconds", "iters"}), values.insert(values.end(), {seconds, double(iters)});
  util::CsvLogger(path, columns).row(values);
}

static void train_variant(const Config& c, const Variant& v, const data::MnistDataset& train,
                          const data::MixtureTestSet& test, models::MnistClassifier<float>* judge) {
  const std::string dir = c.out + "/" + v.name, ckpt_path = dir + "/checkpoint.safetensors";
  fs::create_directories(dir);
  const std::int64_t iters = c.iters > 0 ? c.iters : v.original_iters;
  const std::int64_t pre = v.pretrain ? c.pretrain : 0, total = pre + iters;
  const std::int64_t lambda_step = pre + std::int64_t(c.lambda_switch * double(iters));
  const std::int64_t width = c.width, d_width = c.d_width;

  Rng init_rng(c.seed);
  models::DenoiseFilter<float> G({width, 4, 1});
  models::tf_glorot_init(G, init_rng);
  auto D_body = std::make_shared<models::DenoiseDiscriminator<float>>(
      models::DenoiseDiscriminatorOptions{v.kind == Variant::cgan ? 3 : 1, d_width});
  models::ConditionalDiscriminator<float> D(D_body);  // vanilla D: an empty condition is not allowed,
  models::tf_glorot_init(D, init_rng);                 // so it calls D_body directly
  optim::AdamOptions adam;
  adam.lr = c.lr, adam.beta1 = 0.9;
  optim::Adam<float> opt_g(G.parameters(), adam), opt_d(D.parameters(), adam), opt_pre(G.parameters(), adam);
  data::MixtureStream stream(train, c.batch, c.seed);

  std::int64_t step = 0, elapsed_ms = 0;  // elapsed_ms: training time before this process
  io::Checkpoint ckpt;
  ckpt.add("G", G).add("opt_g", opt_g).add("data_rng", stream.rng()).add("loader", stream.loader()).add("step", step);
  ckpt.add("elapsed_ms", elapsed_ms);
  if (v.kind != Variant::dcnn) ckpt.add("D", D).add("opt_d", opt_d);
  if (v.pretrain) ckpt.add("opt_pre", opt_pre);
  const bool resuming = (c.resume || c.eval_only) && fs::exists(ckpt_path);
  check(!c.eval_only || resuming, v.name, ": --eval-only needs the checkpoint ", ckpt_path);
  if (resuming) {
    ckpt.load(ckpt_path);
    check(!c.eval_only || step == total, v.name, ": --eval-only needs a finished run, the checkpoint is at step ", step, " of ", total);
    if (!c.eval_only && step == total && fs::exists(dir + "/metrics.csv")) {
      std::cout << v.name << ": already finished (" << dir << "/metrics.csv)\n";
      return;
    }
    util::truncate_csv_after(dir + "/log.csv", step);  // the rows after the checkpoint are redone
    std::cout << v.name << ": " << (c.eval_only ? "evaluating" : "resuming at") << " step " << step << "\n";
  }
  util::CsvLogger log(dir + "/log.csv", {"step", "l1", "mse", "loss_d", "loss_g", "gan", "d_real", "d_fake", "val_l1", "seconds"}, resuming);
  const data::Mixture fixed = v.test_mixture(test, c.v3_test_target);
  const data::Mixture panel{data::rows(fixed.input, 0, 16), data::rows(fixed.ref, 0, 16), data::rows(fixed.target, 0, 16), {}, {}, {}, {}};
  std::cout << v.name << ": " << total << " iterations of batch " << c.batch << ", G width " << width
            << (v.kind == Variant::dcnn ? "" : ", D width " + std::to_string(d_width)) << ", " << max_threads()
            << " threads -> " << dir << "\n";

  auto discriminate = [&](const Var<float>& image, const data::Mixture& m) {
    if (v.kind == Variant::gan) return D_body->forward(image);
    return D(image, concat(std::vector<Var<float>>{Var<float>(m.input), Var<float>(m.ref)}, 1));
  };
  std::vector<double> sums(8, 0.0);
  std::int64_t in_window = 0;
  util::Progress progress(total, v.name);
  const util::Stopwatch watch;
  auto seconds_so_far = [&, before = double(elapsed_ms) / 1000] { return before + watch.seconds(); };
  while (step < total) {
    ++step;
    data::Mixture m = stream.draw(v.mixture());
    Var<float> fake = G(Var<float>(m.input), Var<float>(m.ref));
    double loss_d = 0, d_real = 0, d_fake = 0, gan_loss = 0, loss_g;
    if (step <= pre || v.kind == Variant::dcnn) {  // L1 only (pre-training has its own Adam)
      optim::Adam<float>& opt = step <= pre ? opt_pre : opt_g;
      opt.zero_grad();
      Var<float> l1 = l1_loss(fake, m.target);
      l1.backward();
      opt.step();
      loss_g = l1.item();
    } else {
      // D step: real targets -> 1, filter outputs -> 0, each term weighted 0.5 as in the study.
      opt_d.zero_grad();
      Var<float> real_logits = discriminate(Var<float>(m.target), m), fake_logits = discriminate(fake.detach(), m);
      Var<float> ld = 0.5 * (bce_with_logits(real_logits, 1.0) + bce_with_logits(fake_logits, 0.0));
      ld.backward();
      opt_d.step();
      loss_d = ld.item(), d_real = example::mean_sigmoid(real_logits.value()), d_fake = example::mean_sigmoid(fake_logits.value());
      if (!v.same_batch) {  // G learns on a freshly drawn batch
        m = stream.draw(v.mixture());
        fake = G(Var<float>(m.input), Var<float>(m.ref));
      }
      // G step: w_c L1 + w_adv (-0.5 log D(G)); the gradient flows through D into G.
      const double w_c = v.lambda_schedule && step > lambda_step ? 100.0 : v.w_content;
      opt_g.zero_grad();
      Var<float> gan_term = 0.5 * bce_with_logits(discriminate(fake, m), 1.0);
      Var<float> lg = w_c * l1_loss(fake, m.target) + v.w_adv * gan_term;
      lg.backward();
      opt_g.step();
      loss_g = lg.item(), gan_loss = gan_term.item();
    }
    double l1 = 0, mse = 0;
    for (std::int64_t i = 0; i < m.target.numel(); ++i) {
      const double d = double(fake.value()[i]) - double(m.target[i]);
      l1 += std::abs(d), mse += 0.5 * d * d;
    }
    const double vals[] = {l1 / double(m.target.numel()), mse / double(m.target.numel()), loss_d, loss_g, gan_loss, d_real, d_fake};
    for (int k = 0; k < 7; ++k) sums[std::size_t(k)] += vals[k];
    ++in_window;
    if (step % c.log_every == 0 || step == total) {  // means over the window, val L1 on the 16 panel mixtures
      const Tensor<float> y = metrics::filter_outputs(G, panel);
      double val = 0;
      for (std::int64_t i = 0; i < y.numel(); ++i) val += std::abs(double(y[i]) - double(panel.target[i]));
      std::vector<double> row{double(step)};
      for (int k = 0; k < 7; ++k) row.push_back(sums[std::size_t(k)] / double(in_window));
      row.push_back(val / double(y.numel()));
      row.push_back(seconds_so_far());
      log.row(row);
      progress.update(step, {{"l1", row[1]}, {"val_l1", row[8]}, {"loss_d", row[3]}});
      std::fill(sums.begin(), sums.end(), 0.0), in_window = 0;
    }
    if (step % c.checkpoint_every == 0 || step == total) {
      elapsed_ms = std::int64_t(seconds_so_far() * 1000);
      ckpt.save(ckpt_path);
    }
  }
  const double seconds = seconds_so_far();
  const Tensor<float> y = metrics::filter_outputs(G, fixed);
  io::save_image_grid(dir + "/panel.png", data::rows(y, 0, 16), {4, 2, 0, 0.0f, 1.0f});
  write_metrics(dir + "/metrics.csv", metrics::denoise_quality(y, fixed, judge), seconds, total);
  if (c.plots) example::plot_csv(dir + "/log.csv", dir + "/curves.png", v.kind == Variant::dcnn ? "--y l1,val_l1" : "--y l1,val_l1,loss_d,gan");
  std::cout << v.name << ": done in " << seconds << " s -> " << dir << "/{panel.png,metrics.csv,log.csv}\n";
}

// Reference rows: the noisy input itself, a filter that copies the ref (the failure,
// at the target's intensity), the untrained filter (which passes the ref through), and
// the target (the ceiling). Also the shared panels of input, ref and target.
static void baselines(const Config& c, const data::MixtureTestSet& test, models::MnistClassifier<float>* judge) {
  const data::Mixture m = kVariants[0].test_mixture(test, c.v3_test_target);
  const std::string dir = c.out + "/baselines";
  fs::create_directories(dir);
  using Named = std::vector<std::pair<std::string, Tensor<float>>>;
  for (const auto& [name, t] : Named{{"input", m.input}, {"ref", m.ref_raw}, {"target", m.target}})
    io::save_image_grid(dir + "/panel_" + name + ".png", data::rows(t, 0, 16), {4, 2, 0, 0.0f, 1.0f});
  Tensor<float> ref_copy = m.ref_raw.clone();
  for (float& p : ref_copy) p *= 0.5f;
  Rng init_rng(c.seed);
  models::DenoiseFilter<float> G({c.width, 4, 1});
  models::tf_glorot_init(G, init_rng);
  const Tensor<float> untrained = metrics::filter_outputs(G, m);
  io::save_image_grid(dir + "/panel_untrained.png", data::rows(untrained, 0, 16), {4, 2, 0, 0.0f, 1.0f});
  for (const auto& [name, y] : Named{{"input", m.input}, {"ref_copy", ref_copy}, {"untrained", untrained}, {"target", m.target}}) {
    fs::create_directories(dir + "/" + name);
    write_metrics(dir + "/" + name + "/metrics.csv", metrics::denoise_quality(y, m, judge), 0, 0);
  }
  std::cout << "baselines -> " << dir << "\n";
}

static int run(const Config& c) {
  if (c.threads > 0) set_num_threads(c.threads);
  fs::create_directories(c.out);
  data::MnistDataset train(c.data, data::Split::Train, data::PixelRange::ZeroOne);
  data::MnistDataset test_split(c.data, data::Split::Test, data::PixelRange::ZeroOne);
  const data::MixtureTestSet test(test_split, c.eval_count, c.test_seed);
  const auto judge = c.classifier.empty() ? nullptr : metrics::load_reference_classifier(c.classifier);
  std::vector<std::string> names;
  std::stringstream list(c.variant == "all" ? "baselines" : c.variant);
  for (std::string n; std::getline(list, n, ',');) names.push_back(n);
  if (c.variant == "all")
    for (const Variant& v : kVariants) names.push_back(v.name);
  for (const std::string& n : names) {
    if (n == "baselines") {
      baselines(c, test, judge.get());
      continue;
    }
    auto it = std::find_if(kVariants.begin(), kVariants.end(), [&](const Variant& v) { return v.name == n; });
    check(it != kVariants.end(), "unknown variant '", n, "' (see --help)");
    train_variant(c, *it, train, test, judge.get());
  }
  return 0;
}

int main(int argc, char** argv) {
  Config c;
  std::string names = "all, baselines";
  for (const Variant& v : kVariants) names += ", " + v.name;
  CLI::App app{"E4: the residual denoising filter trained with L1, L1 + GAN and L1 + conditional GAN; writes per variant "
               "log.csv, panel.png, metrics.csv and a resumable checkpoint."};
  app.add_option("--data", c.data, "directory with the four MNIST IDX files (bash scripts/prepare_data.sh)")->capture_default_str();
  app.add_option("--out", c.out, "output directory (one folder per variant)")->capture_default_str();
  app.add_option("--variant", c.variant, "comma-separated list of: " + names)->capture_default_str();
  app.add_option("--iters", c.iters, "training iterations per variant (study: 200,000 to 1,000,000)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--pretrain", c.pretrain, "dcgans_v7: L1 pre-training iterations (study: 30,000 seed-era code)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--batch", c.batch, "batch size (study: 100)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--width", c.width, "channels of the filter's residual trunk (study: 128)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--d-width", c.d_width, "channels of D's first conv, doubling per layer (study: 64)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", c.lr, "Adam learning rate for G and D, beta1 0.9 (study: 1e-4)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lambda-switch", c.lambda_switch, "cgan_v5: fraction of iterations before the L1 weight goes 1 -> 100 (study: 200k of 500k)")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--v3-test-target", c.v3_test_target, "dcnn_v3: test target scale (trained on 0.8 gt; the study's val used 0.9)")->capture_default_str();
  app.add_option("--eval-count", c.eval_count, "fixed test mixtures (at most half the test split)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--log-every", c.log_every, "iterations per log.csv row")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-every", c.checkpoint_every, "iterations between checkpoints")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--classifier", c.classifier, "reference classifier weights (examples/mnist_classifier) for the digit metrics");
  app.add_option("--seed", c.seed, "seed for init, data order, scales and training noise")->capture_default_str();
  app.add_option("--test-seed", c.test_seed, "seed of the fixed test refs and noise (study: 1)")->capture_default_str();
  app.add_option("--threads", c.threads, "OpenMP threads (0: OMP_NUM_THREADS or all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--resume", c.resume, "continue each variant from its checkpoint; finished variants are skipped");
  app.add_flag("!--no-plots", c.plots, "skip the curves.png of each variant (scripts/plot.py)");
  app.add_flag("--eval-only", c.eval_only, "re-evaluate finished variants from their checkpoints (e.g. with --classifier)");
  app.add_flag("--full", c.full, "the study's recipe for every option not given: width 128, D width 64, batch 100, lr 1e-4, "
                 "pre-training 30,000, each variant's original iterations");
  CLI11_PARSE(app, argc, argv);
  if (c.full) {
    auto unset = [&](const char* flag) { return app.get_option(flag)->count() == 0; };
    if (unset("--iters")) c.iters = 0;  // 0: each variant's original length
    if (unset("--width")) c.width = 128;
    if (unset("--d-width")) c.d_width = 64;
    if (unset("--batch")) c.batch = 100;
    if (unset("--lr")) c.lr = 1e-4;
    if (unset("--pretrain")) c.pretrain = 30000;
  }
  return example::run("denoise_filter", [&] { return run(c); });
}
