// The discriminator as a feature extractor (Radford et al. 2015, §5.1).
//
// Method. Every conv layer's activations of a trained D (after its LeakyReLU) are
// max-pooled to a 4x4 grid and concatenated, as the paper does, then standardised with the
// training set's mean and std. A linear softmax classifier (Adam, weight decay, --steps
// mini-batches) is trained on them with 100, 1,000 and all training labels (class-balanced
// subsets, --repeats draws each) and tested on the test split. The same classifier runs on
// raw pixels and on the features of a randomly initialised D of the same architecture
// (N(0, 0.02), the untrained DCGAN init). Results: features.csv (one row per extractor and
// label count: mean and std of test accuracy over the repeats).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <gan/data/mnist.hpp>
#include <gan/gan.hpp>
#include <gan/io/checkpoint.hpp>
#include <gan/util/csv_logger.hpp>
#include <gan/util/progress.hpp>

using namespace gan;

struct Config {
  std::string discriminator = "out/dcgan/discriminator.safetensors", data = "data/mnist", out = "out/dcgan_features";
  std::vector<std::int64_t> labels = {100, 1000, 0};  // 0: all
  std::int64_t steps = 600, batch = 128, repeats = 3, pool = 4;
  double lr = 1e-3, weight_decay = 1e-4;
  std::uint64_t seed = 1;
  int threads = 0;
};

// Adaptive max pooling of (N, C, H, W) to (N, C, g, g): cell i covers rows
// [floor(i H / g), ceil((i + 1) H / g)), like torch.nn.AdaptiveMaxPool2d.
static void pool_into(float* dst, const Tensor<float>& a, std::int64_t g, std::int64_t n_offset, std::int64_t dim,
                      std::int64_t col) {
  const std::int64_t n = a.dim(0), c = a.dim(1), h = a.dim(2), w = a.dim(3);
  for (std::int64_t s = 0; s < n; ++s)
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t i = 0; i < g; ++i)
        for (std::int64_t j = 0; j < g; ++j) {
          float m = -1e30f;
          for (std::int64_t y = i * h / g; y < ((i + 1) * h + g - 1) / g; ++y)
            for (std::int64_t x = j * w / g; x < ((j + 1) * w + g - 1) / g; ++x)
              m = std::max(m, a.data()[((s * c + ch) * h + y) * w + x]);
          dst[(n_offset + s) * dim + col + (ch * g + i) * g + j] = m;
        }
}

// Pooled activations of every LeakyReLU in D's Sequential (conv layers only: 4-D outputs).
static Tensor<float> d_features(models::DcganDiscriminator<float>& D, const Tensor<float>& images, std::int64_t g) {
  NoGradGuard no_grad;
  D.eval();
  auto net = std::dynamic_pointer_cast<nn::Sequential<float>>(D.children().at(0).second);
  check(net != nullptr, "dcgan_features: D has no Sequential body");
  const std::int64_t n = images.dim(0);
  Tensor<float> out;
  std::int64_t dim = 0;
  for (std::int64_t b = 0; b < n; b += 500) {
    Var<float> h = slice(Var<float>(images), b, std::min(n, b + 500), 0);
    std::vector<Tensor<float>> taps;
    for (const auto& layer : *net) {
      h = layer->forward(h);
      if (layer->describe().rfind("LeakyReLU", 0) == 0 && h.shape().rank() == 4) taps.push_back(h.value());
    }
    if (!out.defined()) {
      for (auto& t : taps) dim += t.dim(1) * g * g;
      out = Tensor<float>::empty(Shape{n, dim});
    }
    std::int64_t col = 0;
    for (auto& t : taps) pool_into(out.data(), t, g, b, dim, col), col += t.dim(1) * g * g;
  }
  return out;
}

// Standardises columns of train and test with the training set's statistics.
static void standardise(Tensor<float>& train, Tensor<float>& test) {
  const std::int64_t n = train.dim(0), d = train.dim(1);
  for (std::int64_t j = 0; j < d; ++j) {
    double m = 0, v = 0;
    for (std::int64_t i = 0; i < n; ++i) m += train.data()[i * d + j] / double(n);
    for (std::int64_t i = 0; i < n; ++i) v += std::pow(train.data()[i * d + j] - m, 2) / double(n);
    const double s = 1.0 / std::sqrt(v + 1e-8);
    for (Tensor<float>* t : {&train, &test})
      for (std::int64_t i = 0; i < t->dim(0); ++i) t->data()[i * d + j] = float((t->data()[i * d + j] - m) * s);
  }
}

// Test accuracy of a linear softmax classifier trained on `subset` of the training rows.
static double linear_probe(const Config& c, const Tensor<float>& train, const std::vector<std::int64_t>& train_labels,
                           const std::vector<std::int64_t>& subset, const Tensor<float>& test,
                           const std::vector<std::int64_t>& test_labels, Rng& rng) {
  nn::LinearOptions lo;
  lo.in = train.dim(1), lo.out = 10;
  nn::Linear<float> probe(lo, rng);
  optim::AdamOptions adam;
  adam.lr = c.lr, adam.weight_decay = c.weight_decay;
  optim::Adam<float> opt(probe.parameters(), adam);
  const std::int64_t d = train.dim(1), b = std::min<std::int64_t>(c.batch, std::int64_t(subset.size()));
  for (std::int64_t s = 0; s < c.steps; ++s) {
    Tensor<float> x = Tensor<float>::empty(Shape{b, d});
    std::vector<std::int64_t> y;
    for (std::int64_t i = 0; i < b; ++i) {
      const std::int64_t r = subset[std::size_t(rng.randint(0, std::int64_t(subset.size())))];
      std::copy_n(train.data() + r * d, d, x.data() + i * d);
      y.push_back(train_labels[std::size_t(r)]);
    }
    opt.zero_grad();
    Var<float> loss = cross_entropy(probe(Var<float>(x)), y);
    loss.backward();
    opt.step();
  }
  NoGradGuard no_grad;
  const Tensor<float> logits = probe(Var<float>(test)).value();
  std::int64_t right = 0;
  for (std::int64_t i = 0; i < test.dim(0); ++i)
    right += std::max_element(logits.data() + i * 10, logits.data() + i * 10 + 10) - (logits.data() + i * 10) ==
             test_labels[std::size_t(i)];
  return double(right) / double(test.dim(0));
}

static models::DcganOptions d_options(const std::string& path) {
  check(std::filesystem::exists(path), "discriminator '", path, "' not found; train one with `build/examples/dcgan`");
  const auto meta = io::read_safetensors(path).metadata;
  const models::DcganOptions o = models::dcgan_options_from_metadata(meta);
  check(o.image_size == 28, "dcgan_features: expects a 28x28 discriminator, '", path, "' is ", o.image_size, "x", o.image_size);
  return o;
}

int run(const Config& c) {
  if (c.threads > 0) set_num_threads(c.threads);
  std::filesystem::create_directories(c.out);
  data::MnistDataset train(c.data, data::Split::Train), test(c.data, data::Split::Test);
  const models::DcganOptions o = d_options(c.discriminator);
  models::DcganDiscriminator<float> trained(o), random(o);
  io::load_module(c.discriminator, trained);
  Rng init(c.seed);
  models::dcgan_init(random, init);

  struct Extractor { std::string name; Tensor<float> train, test; };
  std::vector<Extractor> ex;
  ex.push_back({"pixels", train.images().reshape({train.size(), -1}).clone(), test.images().reshape({test.size(), -1}).clone()});
  ex.push_back({"trained_D", d_features(trained, train.images(), c.pool), d_features(trained, test.images(), c.pool)});
  ex.push_back({"random_D", d_features(random, train.images(), c.pool), d_features(random, test.images(), c.pool)});
  for (auto& e : ex) standardise(e.train, e.test);
  // The probes are small (batch x dims x 10): one thread, no fork/join cost per op on a busy machine.
  set_num_threads(1);

  util::CsvLogger log(c.out + "/features.csv", {"extractor", "dims", "labels", "repeats", "accuracy_mean", "accuracy_std"});
  std::int64_t probes = 0;
  for (std::int64_t want : c.labels) probes += want <= 0 || want >= train.size() ? 1 : c.repeats;
  util::Progress progress(probes * std::int64_t(ex.size()), "linear probes");
  std::int64_t done = 0;
  std::cout << "extractor      dims  labels  test accuracy (mean +- std over " << c.repeats << " draws)\n";
  for (std::size_t e = 0; e < ex.size(); ++e)
    for (std::int64_t want : c.labels) {
      const std::int64_t n = want <= 0 ? train.size() : std::min(want, train.size());
      const std::int64_t repeats = n == train.size() ? 1 : c.repeats;
      std::vector<double> acc;
      for (std::int64_t r = 0; r < repeats; ++r) {
        Rng rng(c.seed * 7919 + std::uint64_t(r) * 31 + std::uint64_t(n));  // same subsets for every extractor
        std::vector<std::vector<std::int64_t>> by_class(10);
        for (std::int64_t i = 0; i < train.size(); ++i) by_class[std::size_t(train.labels()[std::size_t(i)])].push_back(i);
        std::vector<std::int64_t> subset;
        for (auto& v : by_class) {  // class-balanced: n / 10 random rows of each class
          for (std::int64_t i = std::int64_t(v.size()) - 1; i > 0; --i) std::swap(v[std::size_t(i)], v[std::size_t(rng.randint(0, i + 1))]);
          const std::int64_t take = n == train.size() ? std::int64_t(v.size()) : std::min<std::int64_t>(n / 10, v.size());
          subset.insert(subset.end(), v.begin(), v.begin() + take);
        }
        acc.push_back(linear_probe(c, ex[e].train, train.labels(), subset, ex[e].test, test.labels(), rng));
        progress.update(++done);
      }
      double m = 0, s = 0;
      for (double a : acc) m += a / double(acc.size());
      for (double a : acc) s += (a - m) * (a - m) / double(acc.size());
      log.row({double(e), double(ex[e].train.dim(1)), double(n), double(acc.size()), m, std::sqrt(s)});
      std::printf("%-12s %6lld  %6lld  %.4f +- %.4f\n", ex[e].name.c_str(), (long long)ex[e].train.dim(1), (long long)n, m,
                  std::sqrt(s));
    }
  std::cout << "wrote " << c.out << "/features.csv (extractor 0 = pixels, 1 = trained D, 2 = random D)\n";
  return 0;
}

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"D as a feature extractor: linear classifiers on pooled features of a trained D vs raw pixels vs a random D, "
               "with 100 / 1,000 / all labels."};
  app.add_option("--discriminator", c.discriminator, "discriminator weights written by examples/dcgan (28x28)")->capture_default_str();
  app.add_option("--data", c.data, "directory with the four IDX files (bash scripts/prepare_data.sh)")->capture_default_str();
  app.add_option("--out", c.out, "output directory")->capture_default_str();
  app.add_option("--labels", c.labels, "label counts (0: all)")->capture_default_str();
  app.add_option("--steps", c.steps, "Adam steps per linear classifier")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", c.batch, "mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--repeats", c.repeats, "label subsets drawn per count (all labels: 1)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--pool", c.pool, "pooled grid size per layer (paper: 4)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", c.lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--weight-decay", c.weight_decay, "L2 penalty")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--seed", c.seed, "seed for the random D, subsets and batches")->capture_default_str();
  app.add_option("--threads", c.threads, "OpenMP threads (0: OMP_NUM_THREADS or all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(c);
  } catch (const gan::Error& e) {
    std::cerr << "dcgan_features: " << e.what() << "\n";
    return 1;
  }
}
