// GAN theory on toy data (Goodfellow et al. 2014, as summarised in the PR12 notes, PR-001).
//
// Claims checked, one part each (--part):
//  dstar  For a fixed G the best discriminator is D*(x) = p_data / (p_data + p_g). D alone is
//         trained with BCE on fresh samples of a known p_data (two Gaussians) and a known p_g
//         (one wide Gaussian) and compared with D* on a grid.
//  gan1d  V(D*, G) = -log 4 + 2 JS(p_data || p_g): when G learns p_data, JS -> 0, V -> -log 4
//         and D -> 1/2. A 1-D GAN logs V on fresh samples and JS(p_data || histogram of G).
//  ring   The game does not promise that G covers every mode: a GAN on a ring of 8 Gaussians
//         logs the modes it covers and the share of its samples near a mode.
// G and D are MLPs (two hidden LeakyReLU(0.2) layers); D outputs a logit. Each GAN step: D on
// real (1) and G(z).detach() (0), then G with the non-saturating loss -log D(G(z)); Adam.
#include <CLI/CLI.hpp>

#include "example_support.hpp"

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>

#include <gan/gan.hpp>
#include <gan/util/csv_logger.hpp>
#include <gan/util/progress.hpp>

using namespace gan;
using Net = nn::Sequential<float>;

struct Config {
  std::string out = "out/gan_theory", part = "all";
  std::int64_t iters = 10000, batch = 256, hidden = 64, z_dim = 8, log_every = 100, eval_samples = 20000;
  double lr = 1e-3, lr_g = 1e-3, beta1 = 0.5, ring_sigma = 0.02, mode_share = 0.02;
  std::uint64_t seed = 1;
  int threads = 1;  // tiny nets: one thread is fastest
  bool decay = true;
};

// Equal-weight mixture of isotropic Gaussians in `dim` = 1 or 2 dimensions.
struct Mixture {
  int dim;
  std::vector<std::array<double, 2>> means;
  double sigma;
  double pdf(double x) const {  // pdf and cdf: 1-D only
    return std::accumulate(means.begin(), means.end(), 0.0, [&](double s, auto& m) {
      return s + std::exp(-std::pow(x - m[0], 2) / (2 * sigma * sigma)) / (std::sqrt(2 * M_PI) * sigma); }) / means.size();
  }
  double cdf(double x) const {
    return std::accumulate(means.begin(), means.end(), 0.0, [&](double s, auto& m) {
      return s + 0.5 * std::erfc(-(x - m[0]) / (sigma * std::sqrt(2.0))); }) / means.size();
  }
  Tensor<float> sample(std::int64_t n, Rng& rng) const {
    Tensor<float> t = Tensor<float>::empty(Shape{n, dim});
    for (std::int64_t i = 0; i < n; ++i) {
      const auto& m = means[static_cast<std::size_t>(rng.randint(0, static_cast<std::int64_t>(means.size())))];
      for (int k = 0; k < dim; ++k) t[i * dim + k] = static_cast<float>(m[k] + sigma * rng.normal());
    }
    return t;
  }
};

static std::shared_ptr<Net> mlp(std::int64_t in, std::int64_t hidden, std::int64_t out, Rng& rng) {
  auto net = std::make_shared<Net>();
  for (auto [a, b] : {std::pair{in, hidden}, std::pair{hidden, hidden}}) {
    net->push_back(std::make_shared<nn::Linear<float>>(nn::LinearOptions{a, b}, rng));
    net->push_back(std::make_shared<nn::LeakyReLU<float>>(0.2));
  }
  net->push_back(std::make_shared<nn::Linear<float>>(nn::LinearOptions{hidden, out}, rng));
  return net;
}

static Tensor<float> eval(Net& f, const Tensor<float>& x) { NoGradGuard no_grad; return f(Var<float>(x)).value(); }
// Linear decay from lr to lr / 100 over the run: the last steps average out sampling noise.
static double decayed(double lr, std::int64_t step, std::int64_t total) { return lr * (1.0 - 0.99 * double(step - 1) / total); }
static double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }
static double mean_sigm(const Tensor<float>& logits) { return std::accumulate(logits.begin(), logits.end(), 0.0, [](double s, float v) { return s + sigm(v); }) / logits.numel(); }
// V(D, G) = E_data log D(x) + E_z log(1 - D(G(z))), estimated on the given samples.
static double value_v(Net& D, const Tensor<float>& real, const Tensor<float>& fake) {
  NoGradGuard no_grad;
  return -(bce_with_logits(D(Var<float>(real)), 1.0).item() + bce_with_logits(D(Var<float>(fake)), 0.0).item());
}
// One term of a JS divergence in nats: 1/2 p log(2p / (p + q)).
static double js_term(double p, double q) { return p > 0 ? 0.5 * p * std::log(2 * p / (p + q)) : 0.0; }
// Histogram of x as bin probabilities: 240 bins of width 0.05 on [-6, 6], outliers in the edge bins.
static std::vector<double> histogram(const Tensor<float>& x) {
  std::vector<double> q(240, 0.0);
  for (float v : x) q[static_cast<std::size_t>(std::clamp(int(std::floor((v + 6.0) / 0.05)), 0, 239))] += 1.0 / x.numel();
  return q;
}
// JS(p_data || p_x) in nats between p_data's exact bin probabilities and the histogram of x.
static double js_hist(const Mixture& data, const Tensor<float>& x) {
  const std::vector<double> q = histogram(x);
  double js = 0;
  for (int b = 0; b < 240; ++b) {
    const double p = data.cdf(b == 239 ? 1e9 : -6 + 0.05 * (b + 1)) - data.cdf(b == 0 ? -1e9 : -6 + 0.05 * b);
    js += js_term(p, q[b]) + js_term(q[b], p);
  }
  return js;
}

// Final numbers of a part: printed and written to <out>/<part>_summary.csv.
static void write_summary(const std::string& path, const std::vector<std::pair<std::string, double>>& rows) {
  std::ofstream file(path);
  file << "metric,value\n";
  for (auto& [name, v] : rows) file << name << "," << v << "\n", std::cout << "  " << name << " = " << v << "\n";
}

static void part_dstar(const Config& c, Rng rng) {
  const Mixture data{1, {{{-2, 0}}, {{2, 0}}}, 0.5}, gen{1, {{{0.5, 0}}}, 1.5};
  auto D = mlp(1, c.hidden, 1, rng);
  optim::Adam<float> opt(D->parameters(), {c.lr});  // beta1 0.9: with G fixed this is plain logistic regression
  util::Progress progress(c.iters, "dstar");
  for (std::int64_t step = 1; step <= c.iters; ++step) {
    opt.set_lr(decayed(c.lr, step, c.iters));
    opt.zero_grad();
    Var<float> loss = bce_with_logits((*D)(Var<float>(data.sample(c.batch, rng))), 1.0) +
                      bce_with_logits((*D)(Var<float>(gen.sample(c.batch, rng))), 0.0);
    loss.backward();
    opt.step();
    progress.update(step, {{"loss", loss.item()}});
  }
  // Compare on a grid of step 0.01; errors count where p_data + p_g >= 0.05.
  util::CsvLogger grid(c.out + "/dstar_grid.csv", {"x", "p_data", "p_g", "d_star", "d_trained"});
  Tensor<float> xs = Tensor<float>::empty(Shape{1201, 1});
  for (std::int64_t i = 0; i < 1201; ++i) xs[i] = float(-6 + 0.01 * i);
  const Tensor<float> logits = eval(*D, xs);
  double max_err = 0, sum_err = 0, weighted_err = 0, js = 0, n = 0;
  for (std::int64_t i = 0; i < 1201; ++i) {
    const double pd = data.pdf(xs[i]), pg = gen.pdf(xs[i]), d_star = pd / (pd + pg), err = std::abs(sigm(logits[i]) - d_star);
    grid.row({xs[i], pd, pg, d_star, sigm(logits[i])});
    js += 0.01 * (js_term(pd, pg) + js_term(pg, pd));
    weighted_err += 0.01 * 0.5 * (pd + pg) * err;
    if (pd + pg >= 0.05) max_err = std::max(max_err, err), sum_err += err, ++n;
  }
  write_summary(c.out + "/dstar_summary.csv",
                {{"max_abs_err", max_err}, {"mean_abs_err", sum_err / n}, {"mean_abs_err_weighted", weighted_err},
                 {"js_data_g", js}, {"C_G_theory", -std::log(4.0) + 2 * js},  // C(G) = V(D*, G)
                 {"V_trained_D", value_v(*D, data.sample(c.eval_samples, rng), gen.sample(c.eval_samples, rng))}});
}

// Trains G and D on `data`; calls on_log(step, G, D) at step 0, every log_every steps and at each quarter.
template <class OnLog>
static void train_gan(const Config& c, const std::string& name, const Mixture& data, Rng& rng, OnLog on_log) {
  const std::int64_t total = c.iters, z_dim = c.z_dim;
  auto G = mlp(z_dim, c.hidden, data.dim, rng), D = mlp(data.dim, c.hidden, 1, rng);
  optim::Adam<float> opt_d(D->parameters(), {c.lr, c.beta1}), opt_g(G->parameters(), {c.lr_g, c.beta1});
  util::Progress progress(total, name);
  on_log(0, *G, *D);
  for (std::int64_t step = 1; step <= total; ++step) {
    if (c.decay) opt_d.set_lr(decayed(c.lr, step, total)), opt_g.set_lr(decayed(c.lr_g, step, total));
    Var<float> fake = (*G)(Var<float>(randn<float>(Shape{c.batch, z_dim}, rng)));
    opt_d.zero_grad();  // D: real -> 1, fake -> 0; detach() keeps this step out of G
    Var<float> loss_d = bce_with_logits((*D)(Var<float>(data.sample(c.batch, rng))), 1.0) + bce_with_logits((*D)(fake.detach()), 0.0);
    loss_d.backward();
    opt_d.step();
    opt_g.zero_grad();  // G: -log D(G(z)), through D into G
    Var<float> loss_g = bce_with_logits((*D)(fake), 1.0);
    loss_g.backward();
    opt_g.step();
    if (step % c.log_every == 0 || 4 * step % total == 0) on_log(step, *G, *D);
    progress.update(step, {{"V", -loss_d.item()}, {"loss_g", loss_g.item()}});
  }
}

static void part_gan1d(const Config& c, Rng rng) {
  const Mixture data{1, {{{-2, 0}}, {{2, 0}}}, 0.5};
  const std::int64_t N = c.eval_samples;
  util::CsvLogger log(c.out + "/gan1d_log.csv", {"step", "V", "js", "C_G", "d_real", "d_fake"});
  util::CsvLogger density(c.out + "/gan1d_density.csv", {"step", "x", "p_data", "p_g_hist", "d"});
  double V = 0, js = 0, d_real = 0, d_fake = 0, max_dev = 0;
  train_gan(c, "gan1d", data, rng, [&](std::int64_t step, Net& G, Net& D) {
    const Tensor<float> real = data.sample(N, rng), fake = eval(G, randn<float>(Shape{N, c.z_dim}, rng));
    V = value_v(D, real, fake), js = js_hist(data, fake);
    d_real = mean_sigm(eval(D, real)), d_fake = mean_sigm(eval(D, fake));
    log.row({double(step), V, js, -std::log(4.0) + 2 * js, d_real, d_fake});
    if (4 * step % c.iters != 0) return;  // snapshots at 0, 1/4, 1/2, 3/4 and the end
    const std::vector<double> hist = histogram(fake);  // divided by the bin width 0.05: a density
    Tensor<float> xs = Tensor<float>::empty(Shape{240, 1});
    for (int b = 0; b < 240; ++b) xs[b] = float(-6 + 0.05 * (b + 0.5));
    const Tensor<float> d = eval(D, xs);
    max_dev = 0;
    for (int b = 0; b < 240; ++b) {
      density.row({double(step), xs[b], data.pdf(xs[b]), hist[b] / 0.05, sigm(d[b])});
      if (data.pdf(xs[b]) >= 0.05) max_dev = std::max(max_dev, std::abs(sigm(d[b]) - 0.5));
    }
  });
  write_summary(c.out + "/gan1d_summary.csv",
                {{"V_final", V}, {"minus_log4", -std::log(4.0)}, {"js_final", js},
                 {"js_floor", js_hist(data, data.sample(N, rng))},  // JS of an N-sample histogram of p_data itself
                 {"d_real_final", d_real}, {"d_fake_final", d_fake},
                 {"max_abs_d_minus_half", max_dev}});  // on the grid where p_data >= 0.05
}

static void part_ring(const Config& c, Rng rng) {
  Mixture data{2, {}, c.ring_sigma};
  for (int k = 0; k < 8; ++k) data.means.push_back({2 * std::cos(k * M_PI / 4), 2 * std::sin(k * M_PI / 4)});
  const std::int64_t N = 2500;
  util::CsvLogger log(c.out + "/ring_log.csv", {"step", "modes", "hq_share", "V", "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"});
  util::CsvLogger samples(c.out + "/ring_samples.csv", {"step", "x", "y"});
  double modes = 0, hq = 0, V = 0;
  train_gan(c, "ring", data, rng, [&](std::int64_t step, Net& G, Net& D) {
    const Tensor<float> fake = eval(G, randn<float>(Shape{N, c.z_dim}, rng));
    std::vector<int> near(8, 0);  // samples within 3 sigma of mode k
    for (std::int64_t i = 0; i < N; ++i)
      for (int k = 0; k < 8; ++k)
        near[k] += std::hypot(fake[2 * i] - data.means[k][0], fake[2 * i + 1] - data.means[k][1]) < 3 * c.ring_sigma;
    modes = hq = 0;
    for (int k = 0; k < 8; ++k) modes += near[k] >= c.mode_share * N, hq += double(near[k]) / N;
    V = value_v(D, data.sample(N, rng), fake);
    std::vector<double> row{double(step), modes, hq, V};  // then each mode's share of the samples
    for (int k = 0; k < 8; ++k) row.push_back(double(near[k]) / N);
    log.row(row);
    if (4 * step % c.iters == 0)
      for (std::int64_t i = 0; i < 1000; ++i) samples.row({double(step), fake[2 * i], fake[2 * i + 1]});
  });
  write_summary(c.out + "/ring_summary.csv", {{"modes_final", modes}, {"hq_share_final", hq}, {"V_final", V}, {"ring_sigma", c.ring_sigma}, {"mode_share", c.mode_share}});
}

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"GAN theory on toy data: optimal D, V -> -log 4 and JS -> 0 in 1-D, modes of a 2-D ring."};
  app.add_option("--part", c.part, "dstar, gan1d, ring or all")->capture_default_str()->check(CLI::IsMember({"all", "dstar", "gan1d", "ring"}));
  app.add_option("--out", c.out, "output directory for the CSVs")->capture_default_str();
  app.add_option("--iters", c.iters, "steps of each part")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", c.batch, "samples per batch (real and fake each)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--hidden", c.hidden, "units in each of the two hidden layers of G and D")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--z-dim", c.z_dim, "latent dimension of G (z ~ N(0, I))")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", c.lr, "Adam learning rate of D (dstar always decays it linearly to 1%)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr-g", c.lr_g, "Adam learning rate of G in the GAN parts (--lr is D's)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--beta1", c.beta1, "Adam beta1 of the GAN parts")->capture_default_str()->check(CLI::Range(0.0, 0.999999));
  app.add_option("--ring-sigma", c.ring_sigma, "std of each ring Gaussian (radius 2)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--mode-share", c.mode_share, "a mode is covered when this share of G's samples lies within 3 sigma of it")->capture_default_str();
  app.add_flag("--decay,!--no-decay", c.decay, "GAN parts: decay both learning rates linearly to 1% (default on)");
  app.add_option("--seed", c.seed, "seed for init and every sample")->capture_default_str();
  app.add_option("--threads", c.threads, "OpenMP threads (0: OMP_NUM_THREADS or all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  return example::run("gan_theory", [&] {
    if (c.threads > 0) set_num_threads(c.threads);
    std::filesystem::create_directories(c.out);
    for (auto [name, part] : {std::pair{"dstar", &part_dstar}, {"gan1d", &part_gan1d}, {"ring", &part_ring}}) {
      if (c.part != "all" && c.part != name) continue;
      part(c, Rng(c.seed));  // each part on its own stream: --part ring alone gives the same numbers
      std::cout << name << ": CSVs in " << c.out << " (plots: /usr/bin/python3 scripts/plot_gan_theory.py " << c.out << ")\n";
    }
    return 0;
  });
}
