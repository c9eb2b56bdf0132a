// Walking and doing arithmetic in a trained DCGAN's latent space (Radford et al. 2015, §6).
//
// Method. 1) Interpolation: for --rows pairs of random z, G along the straight line
// z0 -> z1 in --steps frames (interpolation.png); the reference classifier labels every frame
// (interpolation.csv), so "smooth" is a count of class changes, not an impression.
// 2) Vector arithmetic on averages of 3 z's, the paper's recipe with the concepts picked
// automatically: G draws --pool samples; the classifier gives each a class and a confidence,
// the ink measure (mean brightness of the digit, in [0, 1]) says thick or thin. For a source
// class k and a target class j:  z = mean(thick k) - mean(thin k) + mean(thin j)  should
// be a thick j (and the mirror recipe a thin j). Each result is generated 8 times with
// N(0, 0.25^2) noise added to z, as in the paper, and measured: class kept (= j), ink moved
// the intended way from G(mean(thin j)). A control adds a random direction of the same
// length instead of mean(thick k) - mean(thin k). Results: arithmetic.csv (one row per
// (k, j, direction)), arithmetic_summary.csv and arithmetic.png (rows: 3 thick k, 3 thin k,
// 3 thin j, then 8 results). --concept averages more than 3 samples per concept.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <numeric>

#include <gan/gan.hpp>
#include <gan/io/checkpoint.hpp>
#include <gan/io/image_grid.hpp>
#include <gan/metrics/reference_classifier.hpp>
#include <gan/util/csv_logger.hpp>
#include <gan/util/progress.hpp>

using namespace gan;

struct Config {
  std::string generator = "out/dcgan/generator.safetensors", classifier = "out/classifier/classifier.safetensors";
  std::string out = "out/dcgan_latent";
  std::int64_t pool = 2000, rows = 8, steps = 10, examples = 6, concept = 3;
  double confidence = 0.9, noise = 0.25;
  std::uint64_t seed = 1;
  int threads = 0;
};

struct Latent {  // G, its z size, and images brought to the classifier's 28x28
  std::unique_ptr<models::DcganGenerator<float>> G;
  std::int64_t z_dim = 100;
  Tensor<float> operator()(const Tensor<float>& z) const {
    NoGradGuard no_grad;
    Var<float> x = (*G)(Var<float>(z));
    if (x.dim(2) != 28) x = upsample_bilinear(x, 28, 28);
    return x.value();
  }
};

static Latent load_generator(const std::string& path) {
  check(std::filesystem::exists(path), "generator '", path, "' not found; train one with `build/examples/dcgan`");
  const auto meta = io::read_safetensors(path).metadata;
  const models::DcganOptions o = models::dcgan_options_from_metadata(meta);
  Latent l{std::make_unique<models::DcganGenerator<float>>(o), o.z_dim};
  io::load_module(path, *l.G);
  l.G->eval();
  return l;
}

// Mean pixel brightness in [0, 1] of each image in [-1, 1]: the amount of ink.
static std::vector<double> ink(const Tensor<float>& x) {
  const std::int64_t n = x.dim(0), per = x.numel() / n;
  std::vector<double> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    out[std::size_t(i)] = std::accumulate(x.data() + i * per, x.data() + (i + 1) * per, 0.0) / double(per) * 0.5 + 0.5;
  return out;
}

static std::int64_t argmax(const float* p, std::int64_t c) { return std::max_element(p, p + c) - p; }

static Tensor<float> rows_of(const Tensor<float>& t, const std::vector<std::int64_t>& idx) {
  const std::int64_t per = t.numel() / t.dim(0);
  std::vector<std::int64_t> dims = t.shape().to_vector();
  dims[0] = std::int64_t(idx.size());
  Tensor<float> out = Tensor<float>::empty(Shape(dims));
  for (std::size_t i = 0; i < idx.size(); ++i) std::copy_n(t.data() + idx[i] * per, per, out.data() + i * per);
  return out;
}

static Tensor<float> mean_row(const Tensor<float>& z) {
  const std::int64_t n = z.dim(0), d = z.dim(1);
  Tensor<float> m = Tensor<float>::zeros(Shape{1, d});
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j) m.data()[j] += z.data()[i * d + j] / float(n);
  return m;
}

static void interpolate(const Config& c, const Latent& G, models::MnistClassifier<float>& judge, Rng& rng) {
  const std::int64_t d = G.z_dim;
  Tensor<float> ends = randn<float>(Shape{2 * c.rows, d}, rng), z = Tensor<float>::empty(Shape{c.rows * c.steps, d});
  for (std::int64_t r = 0; r < c.rows; ++r)
    for (std::int64_t s = 0; s < c.steps; ++s) {
      const float t = float(s) / float(c.steps - 1);
      for (std::int64_t j = 0; j < d; ++j)
        z.data()[(r * c.steps + s) * d + j] = (1 - t) * ends.data()[2 * r * d + j] + t * ends.data()[(2 * r + 1) * d + j];
    }
  const Tensor<float> x = G(z);
  io::save_image_grid(c.out + "/interpolation.png", x, {c.steps, 2, 0, -1.0f, 1.0f});
  const Tensor<float> p = metrics::classify(judge, x).probabilities;
  util::CsvLogger log(c.out + "/interpolation.csv", {"row", "frame", "class", "confidence", "ink"});
  const std::vector<double> inks = ink(x);
  std::int64_t changes = 0;
  for (std::int64_t i = 0; i < x.dim(0); ++i) {
    const std::int64_t k = argmax(p.data() + i * 10, 10);
    if (i % c.steps && k != argmax(p.data() + (i - 1) * 10, 10)) ++changes;
    log.row({double(i / c.steps), double(i % c.steps), double(k), p.data()[i * 10 + k], inks[std::size_t(i)]});
  }
  std::cout << "interpolation: " << c.rows << " paths of " << c.steps << " frames, " << changes
            << " class changes in total -> interpolation.png, interpolation.csv\n";
}

int run(const Config& c) {
  if (c.threads > 0) set_num_threads(c.threads);
  std::filesystem::create_directories(c.out);
  const Latent G = load_generator(c.generator);
  auto judge = metrics::load_reference_classifier(c.classifier);
  Rng rng(c.seed);
  interpolate(c, G, *judge, rng);

  // The concept pool: class, confidence and ink of --pool samples.
  const Tensor<float> z = randn<float>(Shape{c.pool, G.z_dim}, rng);
  const Tensor<float> x = G(z);
  const Tensor<float> p = metrics::classify(*judge, x).probabilities;
  const std::vector<double> inks = ink(x);
  std::vector<std::vector<std::int64_t>> by_class(10);  // confident samples, thinnest first
  for (std::int64_t i = 0; i < c.pool; ++i) {
    const std::int64_t k = argmax(p.data() + i * 10, 10);
    if (p.data()[i * 10 + k] >= c.confidence) by_class[std::size_t(k)].push_back(i);
  }
  for (auto& v : by_class) std::sort(v.begin(), v.end(), [&](auto a, auto b) { return inks[a] < inks[b]; });
  const std::int64_t m = c.concept;  // samples averaged per concept (paper: 3)
  auto thin = [&](std::int64_t k) { return std::vector<std::int64_t>(by_class[k].begin(), by_class[k].begin() + m); };
  auto thick = [&](std::int64_t k) { return std::vector<std::int64_t>(by_class[k].end() - m, by_class[k].end()); };
  auto first3 = [](const std::vector<std::int64_t>& v) { return std::vector<std::int64_t>(v.begin(), v.begin() + 3); };

  util::CsvLogger log(c.out + "/arithmetic.csv", {"source", "target", "thicken", "control", "class_kept", "ink_moved",
                                                  "ink_base", "ink_result"});
  double kept[2] = {0, 0}, moved[2] = {0, 0}, trials[2] = {0, 0};
  std::vector<Tensor<float>> panel_rows;
  for (std::int64_t k = 0; k < 10; ++k)
    for (std::int64_t j = 0; j < 10; ++j) {
      if (k == j || std::int64_t(by_class[k].size()) < 2 * m || std::int64_t(by_class[j].size()) < 2 * m) continue;
      for (int thicken = 1; thicken >= 0; --thicken) {
        const auto& add = thicken ? thick(k) : thin(k);
        const auto& sub = thicken ? thin(k) : thick(k);
        const auto& base = thicken ? thin(j) : thick(j);
        Tensor<float> dir = mean_row(rows_of(z, add)), zb = mean_row(rows_of(z, base));
        const Tensor<float> zs = mean_row(rows_of(z, sub));
        double norm = 0;
        for (std::int64_t e = 0; e < G.z_dim; ++e) dir.data()[e] -= zs.data()[e], norm += dir.data()[e] * dir.data()[e];
        const double base_ink = ink(G(zb))[0];
        for (int control = 0; control <= 1; ++control) {
          Tensor<float> step = dir;
          if (control) {  // a random direction of the same length
            step = randn<float>(Shape{1, G.z_dim}, rng);
            double r = 0;
            for (float v : step) r += double(v) * v;
            for (float& v : step) v = float(v * std::sqrt(norm / r));
          }
          Tensor<float> zr = randn<float>(Shape{8, G.z_dim}, rng);
          for (std::int64_t s = 0; s < 8; ++s)
            for (std::int64_t e = 0; e < G.z_dim; ++e)
              zr.data()[s * G.z_dim + e] = float(c.noise) * zr.data()[s * G.z_dim + e] + zb.data()[e] + step.data()[e];
          const Tensor<float> xr = G(zr);
          const Tensor<float> pr = metrics::classify(*judge, xr).probabilities;
          const std::vector<double> ir = ink(xr);
          double same = 0, right = 0, mean_ink = 0;
          for (std::int64_t s = 0; s < 8; ++s) {
            same += argmax(pr.data() + s * 10, 10) == j;
            right += thicken ? ir[s] > base_ink : ir[s] < base_ink;
            mean_ink += ir[s] / 8;
          }
          log.row({double(k), double(j), double(thicken), double(control), same / 8, right / 8, base_ink, mean_ink});
          kept[control] += same, moved[control] += right, trials[control] += 8;
          if (!control && thicken && std::int64_t(panel_rows.size()) < c.examples && j == (k + 1) % 10)
            panel_rows.push_back(concat<float>({Var<float>(rows_of(x, first3(add))), Var<float>(rows_of(x, first3(sub))),
                                                Var<float>(rows_of(x, first3(base))), Var<float>(xr)}, 0).value());
        }
      }
    }
  if (trials[0] == 0) {  // an untrained G (smoke test) may draw one class only
    std::cout << "no class pair has 2 x --concept confident samples each: no arithmetic; raise --pool or lower --confidence\n";
    return 0;
  }
  util::CsvLogger summary(c.out + "/arithmetic_summary.csv", {"control", "results", "class_kept", "ink_moved"});
  for (int control = 0; control <= 1; ++control) {
    summary.row({double(control), trials[control], kept[control] / trials[control], moved[control] / trials[control]});
    std::cout << (control ? "random direction (control): " : "concept arithmetic:         ") << trials[control]
              << " results, class kept " << kept[control] / trials[control] << ", ink moved as intended "
              << moved[control] / trials[control] << "\n";
  }
  if (!panel_rows.empty()) {
    std::vector<Var<float>> parts;
    for (auto& r : panel_rows) parts.emplace_back(r);
    io::save_image_grid(c.out + "/arithmetic.png", concat<float>(parts, 0).value(), {17, 2, 0, -1.0f, 1.0f});
  }
  std::cout << "wrote " << c.out << "/{interpolation,arithmetic}.{png,csv}, arithmetic_summary.csv\n";
  return 0;
}

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"Latent space of a trained DCGAN: interpolation grid and vector arithmetic on averages of 3 z's, "
               "with concepts picked and outcomes measured by the reference classifier and an ink measure."};
  app.add_option("--generator", c.generator, "generator weights written by examples/dcgan")->capture_default_str();
  app.add_option("--classifier", c.classifier, "reference classifier weights (examples/mnist_classifier)")->capture_default_str();
  app.add_option("--out", c.out, "output directory")->capture_default_str();
  app.add_option("--pool", c.pool, "samples drawn to pick the concept z's from")->capture_default_str()->check(CLI::Range(20, 1000000));
  app.add_option("--rows", c.rows, "interpolation paths")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--steps", c.steps, "frames per interpolation path")->capture_default_str()->check(CLI::Range(2, 100));
  app.add_option("--examples", c.examples, "rows of arithmetic.png")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--concept", c.concept, "samples averaged per concept (paper: 3)")->capture_default_str()->check(CLI::Range(3, 1000));
  app.add_option("--confidence", c.confidence, "classifier confidence for a concept sample")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--noise", c.noise, "std of the noise added to the result z (paper: 0.25)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--seed", c.seed, "seed for z")->capture_default_str();
  app.add_option("--threads", c.threads, "OpenMP threads (0: OMP_NUM_THREADS or all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(c);
  } catch (const gan::Error& e) {
    std::cerr << "dcgan_latent: " << e.what() << "\n";
    return 1;
  }
}
