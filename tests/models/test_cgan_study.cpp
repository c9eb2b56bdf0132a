// The E3 study's networks: shapes, the original layer sizes (parameter counts of the
// TensorFlow graphs), init, and the "G's batch norm always uses batch statistics" quirk.
#include <doctest/doctest.h>

#include <cmath>

#include "gan/models/cgan_study.hpp"
#include "gan/ops/one_hot.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
namespace models = gan::models;

namespace {
std::int64_t count_parameters(const gan::nn::Module<float>& m) {
  std::int64_t n = 0;
  for (auto& [name, p] : m.named_parameters()) n += p.numel();
  return n;
}
}  // namespace

TEST_CASE("cGAN study networks give the documented shapes and output ranges") {
  gan::Rng rng(3);
  models::CganStudyOptions o;
  o.z_dim = 7, o.classes = 10, o.g_width = 4, o.d_width = 2;
  models::StudyGenerator<float> g(o, rng);
  auto d = models::study_discriminator<float>(o, rng);
  const std::vector<std::int64_t> labels{0, 9, 3};
  Var<float> x = g(Var<float>(gan::randn<float>(Shape{3, 7}, rng)), labels);
  CHECK(x.shape() == Shape{3, 1, 28, 28});
  for (float v : x.value()) REQUIRE((v > 0.0f && v < 1.0f));  // sigmoid output, MNIST's [0, 1]
  Var<float> maps(gan::one_hot_maps<float>(labels, 10, 28, 28), false);
  CHECK((*d)(x, maps).shape() == Shape{3, 1});

  models::StudyClassifier<float> c({2, 10}, rng);
  CHECK(c(x).shape() == Shape{3, 10});
  CHECK_THROWS_AS(c(Var<float>(Tensor<float>::zeros(Shape{2, 1, 32, 32}))), gan::Error);
  CHECK_THROWS_AS(g(Var<float>(Tensor<float>::zeros(Shape{2, 7})), labels), gan::Error);  // 2 z, 3 labels
}

TEST_CASE("cGAN study networks at the original widths have the TensorFlow graphs' parameter counts") {
  // Counted from the layer lists of ex_basic_5_v1.py / normal_cnn_v1.py (kernel + bias,
  // BN gamma + beta).
  models::CganStudyOptions o;  // g_width 128, d_width 64
  models::StudyGenerator<float> g(o);
  const std::int64_t g_expected = (110 * 1024 * 16 + 1024 + 2 * 1024) + (1024 * 512 * 16 + 512 + 2 * 512) +
                                  (512 * 256 * 16 + 256 + 2 * 256) + (256 * 128 * 16 + 128 + 2 * 128) +
                                  (128 * 64 * 9 + 64 + 2 * 64) + (64 * 9 + 1);
  CHECK(count_parameters(g) == g_expected);
  auto d = models::study_discriminator<float>(o);
  const std::int64_t d_expected = (11 * 64 * 25 + 64 + 128) + (64 * 128 * 25 + 128 + 256) +
                                  (128 * 256 * 25 + 256 + 512) + (256 * 512 * 16 + 512 + 1024) +
                                  (512 * 1024 * 16 + 1024 + 2048) + (1024 * 16 + 1);
  CHECK(count_parameters(*d) == d_expected);
  models::StudyClassifier<float> c({32, 10});
  const std::int64_t c_expected = (1 * 32 * 25 + 32) + (32 * 64 * 25 + 64) + (64 * 128 * 25 + 128) +
                                  (128 * 256 * 16 + 256) + (256 * 512 * 16 + 512) + (512 * 1024 * 16 + 1024) +
                                  (1024 * 1024 + 1024) + (1024 * 10 + 10);
  CHECK(count_parameters(c) == c_expected);
}

TEST_CASE("cGAN study init: truncated N(0, 0.02) in G, Glorot-uniform convs, zero biases, unit BN scales") {
  gan::Rng rng(11);
  models::CganStudyOptions o;
  o.g_width = 16, o.d_width = 8;
  models::StudyGenerator<float> g(o, rng);
  for (auto& [name, p] : g.named_parameters()) {
    const Tensor<float> v = p.value();
    if (v.rank() >= 2) {
      double sq = 0;
      for (float x : v) {
        REQUIRE(std::abs(x) <= 0.04f + 1e-7f);
        sq += double(x) * x;
      }
      CHECK(std::sqrt(sq / v.numel()) == doctest::Approx(0.0176).epsilon(0.15));  // sd of N(0,1) cut at 2: 0.88
    } else {
      const float want = name.find("bias") != std::string::npos ? 0.0f : 1.0f;
      for (float x : v) REQUIRE(x == want);
    }
  }
  models::StudyClassifier<float> c({4, 10}, rng);
  auto params = c.named_parameters();
  const Tensor<float> w0 = params[0].second.value();  // conv 1 -> 4, k5: limit sqrt(6 / (25 + 100))
  const float limit = float(std::sqrt(6.0 / (25 + 100)));
  float max_abs = 0;
  for (float x : w0) max_abs = std::max(max_abs, std::abs(x));
  CHECK(max_abs <= limit);
  CHECK(max_abs > 0.8f * limit);
}

TEST_CASE("StudyGenerator keeps batch statistics in eval() by default (the study's quirk), running ones by option") {
  gan::Rng rng(5);
  models::CganStudyOptions o;
  o.z_dim = 6, o.g_width = 4;
  const std::vector<std::int64_t> labels{1, 2, 3, 4};
  Var<float> z(gan::randn<float>(Shape{4, 6}, rng));
  for (bool quirk : {true, false}) {
    o.g_batch_stats_in_eval = quirk;
    models::StudyGenerator<float> g(o, rng);
    Tensor<float> train_out = g(z, labels).value().clone();
    g.eval();
    Tensor<float> eval_out = g(z, labels).value();
    double diff = 0;
    for (std::int64_t i = 0; i < eval_out.numel(); ++i) diff = std::max(diff, double(std::abs(eval_out[i] - train_out[i])));
    if (quirk) CHECK(diff < 1e-6);
    else CHECK(diff > 1e-3);  // running statistics after one update differ from the batch's
  }
}
