// Sample-quality metrics against answers known in closed form: IS of uniform / one-hot
// predictions, Fréchet distance of identical sets and of Gaussians with known moments,
// class histograms of balanced and collapsed predictions.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "gan/core/random.hpp"
#include "gan/metrics/class_histogram.hpp"
#include "gan/metrics/frechet_distance.hpp"
#include "gan/metrics/inception_score.hpp"
#include "gan/metrics/sample_quality.hpp"
#include "gan/models/mnist_classifier.hpp"

using gan::Shape;
using gan::Tensor;
namespace metrics = gan::metrics;

namespace {
// (n, c) probabilities; row i is one-hot on class(i).
template <class F>
Tensor<float> one_hot_rows(std::int64_t n, std::int64_t c, F cls) {
  Tensor<float> p = Tensor<float>::zeros(Shape{n, c});
  for (std::int64_t i = 0; i < n; ++i) p.data()[i * c + cls(i)] = 1.0f;
  return p;
}

// n samples of N(mean, L L^T) as an (n, d) tensor.
Tensor<float> gaussian_samples(std::int64_t n, const Eigen::VectorXd& mean, const Eigen::MatrixXd& L, gan::Rng& rng) {
  const std::int64_t d = mean.size();
  Tensor<float> z = gan::randn<float>(Shape{n, d}, rng);
  Tensor<float> x = Tensor<float>::empty(Shape{n, d});
  for (std::int64_t i = 0; i < n; ++i) {
    Eigen::VectorXd zi(d);
    for (std::int64_t j = 0; j < d; ++j) zi[j] = z.data()[i * d + j];
    const Eigen::VectorXd xi = mean + L * zi;
    for (std::int64_t j = 0; j < d; ++j) x.data()[i * d + j] = float(xi[j]);
  }
  return x;
}

Eigen::MatrixXd rotation(double angle) {
  Eigen::MatrixXd r(2, 2);
  r << std::cos(angle), -std::sin(angle), std::sin(angle), std::cos(angle);
  return r;
}
}  // namespace

TEST_CASE("inception_score: uniform predictions score 1, even one-hots score C, one class scores 1") {
  SUBCASE("uniform rows") {
    Tensor<float> p = Tensor<float>::full(Shape{50, 10}, 0.1f);
    CHECK(metrics::inception_score(p).mean == doctest::Approx(1.0).epsilon(1e-6));
  }
  SUBCASE("one-hot, every class equally often") {
    Tensor<float> p = one_hot_rows(100, 10, [](std::int64_t i) { return i % 10; });
    CHECK(metrics::inception_score(p).mean == doctest::Approx(10.0).epsilon(1e-6));
    const metrics::InceptionScore s = metrics::inception_score(p, 10);  // each split holds all 10 classes
    CHECK(s.mean == doctest::Approx(10.0).epsilon(1e-6));
    CHECK(s.std == doctest::Approx(0.0).epsilon(1e-9));
  }
  SUBCASE("one-hot, collapsed to one class") {
    Tensor<float> p = one_hot_rows(40, 10, [](std::int64_t) { return 3; });
    CHECK(metrics::inception_score(p).mean == doctest::Approx(1.0).epsilon(1e-6));
  }
  SUBCASE("one-hot over k of C classes scores k") {
    Tensor<float> p = one_hot_rows(60, 10, [](std::int64_t i) { return 2 * (i % 3); });
    CHECK(metrics::inception_score(p).mean == doctest::Approx(3.0).epsilon(1e-6));
  }
  SUBCASE("two classes, rows (q, 1-q) and (1-q, q): IS = exp(log 2 - H(q))") {
    const double q = 0.8;
    Tensor<float> p = Tensor<float>::empty(Shape{2, 2});
    p.data()[0] = float(q), p.data()[1] = float(1 - q), p.data()[2] = float(1 - q), p.data()[3] = float(q);
    const double entropy = -q * std::log(q) - (1 - q) * std::log(1 - q);
    CHECK(metrics::inception_score(p).mean == doctest::Approx(std::exp(std::log(2.0) - entropy)).epsilon(1e-6));
  }
  SUBCASE("bad input") {
    CHECK_THROWS_WITH(metrics::inception_score(Tensor<float>::zeros(Shape{4})), doctest::Contains("(N, C)"));
    CHECK_THROWS_WITH(metrics::inception_score(Tensor<float>::full(Shape{4, 2}, 0.5f), 5), doctest::Contains("splits"));
  }
}

TEST_CASE("frechet_distance: closed forms") {
  SUBCASE("identical feature sets give 0") {
    gan::Rng rng(1);
    Tensor<float> f = gan::randn<float>(Shape{300, 16}, rng);
    CHECK(metrics::frechet_distance(f, f) == doctest::Approx(0.0).epsilon(1e-9).scale(1.0));
  }
  SUBCASE("1-D: (m1 - m2)^2 + (s1 - s2)^2") {
    Eigen::VectorXd m1(1), m2(1);
    Eigen::MatrixXd c1(1, 1), c2(1, 1);
    m1 << 1.0, m2 << -2.0, c1 << 4.0, c2 << 0.25;  // sd 2 and 0.5
    CHECK(metrics::frechet_distance(m1, c1, m2, c2) == doctest::Approx(9.0 + 2.25).epsilon(1e-12));
  }
  SUBCASE("covariances sharing eigenvectors: |dm|^2 + ||S1^1/2 - S2^1/2||_F^2") {
    const Eigen::MatrixXd r = rotation(0.7);
    Eigen::VectorXd a(2), b(2), m1(2), m2(2);
    a << 9.0, 1.0, b << 1.0, 4.0, m1 << 0.5, 1.0, m2 << -0.5, 3.0;
    const Eigen::MatrixXd c1 = r * a.asDiagonal() * r.transpose(), c2 = r * b.asDiagonal() * r.transpose();
    const double expected = (m1 - m2).squaredNorm() + std::pow(3.0 - 1.0, 2) + std::pow(1.0 - 2.0, 2);
    CHECK(metrics::frechet_distance(m1, c1, m2, c2) == doctest::Approx(expected).epsilon(1e-10));
  }
  SUBCASE("non-commuting covariances: symmetric, and tr sqrt(S1 S2) matches the 2x2 formula") {
    // For 2x2 PSD M, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)); S1 S2 has the eigenvalues of
    // S1^1/2 S2 S1^1/2, so tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)).
    Eigen::MatrixXd c1(2, 2), c2(2, 2);
    c1 << 2.0, 0.5, 0.5, 1.0;
    c2 << 1.0, -0.3, -0.3, 3.0;
    const Eigen::VectorXd m = Eigen::VectorXd::Zero(2);
    const double tr_root = std::sqrt((c1 * c2).trace() + 2.0 * std::sqrt(c1.determinant() * c2.determinant()));
    const double expected = c1.trace() + c2.trace() - 2.0 * tr_root;
    CHECK(metrics::frechet_distance(m, c1, m, c2) == doctest::Approx(expected).epsilon(1e-10));
    CHECK(metrics::frechet_distance(m, c2, m, c1) == doctest::Approx(expected).epsilon(1e-10));
  }
  SUBCASE("sample statistics converge to the Gaussians' distance") {
    gan::Rng rng(7);
    Eigen::VectorXd m1(2), m2(2);
    m1 << 0.0, 0.0, m2 << 1.0, -1.0;
    Eigen::MatrixXd l1(2, 2), l2(2, 2);
    l1 << 1.0, 0.0, 0.5, 1.0;
    l2 << 2.0, 0.0, 0.0, 0.5;
    const double exact = metrics::frechet_distance(m1, l1 * l1.transpose(), m2, l2 * l2.transpose());
    const double sampled = metrics::frechet_distance(gaussian_samples(20000, m1, l1, rng), gaussian_samples(20000, m2, l2, rng));
    CHECK(sampled == doctest::Approx(exact).epsilon(0.03));
  }
  SUBCASE("gaussian_stats: mean and unbiased covariance") {
    Tensor<float> f = Tensor<float>::empty(Shape{3, 2});
    const float v[] = {1, 2, 3, 6, 5, 10};
    std::copy(v, v + 6, f.data());
    const metrics::GaussianStats s = metrics::gaussian_stats(f);
    CHECK(s.mean[0] == doctest::Approx(3.0));
    CHECK(s.mean[1] == doctest::Approx(6.0));
    CHECK(s.cov(0, 0) == doctest::Approx(4.0));
    CHECK(s.cov(1, 1) == doctest::Approx(16.0));
    CHECK(s.cov(0, 1) == doctest::Approx(8.0));
  }
  SUBCASE("mismatched dimensions are refused") {
    CHECK_THROWS_WITH(metrics::frechet_distance(Tensor<float>::zeros(Shape{4, 3}), Tensor<float>::zeros(Shape{4, 2})),
                      doctest::Contains("dimensions differ"));
    CHECK_THROWS_WITH(metrics::gaussian_stats(Tensor<float>::zeros(Shape{1, 3})), doctest::Contains("N >= 2"));
  }
}

TEST_CASE("class_histogram: balanced, collapsed and partly covered predictions") {
  SUBCASE("balanced") {
    const metrics::ClassHistogram h = metrics::class_histogram(one_hot_rows(100, 10, [](std::int64_t i) { return i % 10; }));
    CHECK(h.covered == 10);
    CHECK(h.max_share == doctest::Approx(0.1));
    CHECK(h.kl_uniform == doctest::Approx(0.0));
    CHECK(h.confident == doctest::Approx(1.0));
    for (std::int64_t k : h.counts) CHECK(k == 10);
  }
  SUBCASE("collapsed") {
    const metrics::ClassHistogram h = metrics::class_histogram(one_hot_rows(50, 10, [](std::int64_t) { return 4; }));
    CHECK(h.covered == 1);
    CHECK(h.max_share == doctest::Approx(1.0));
    CHECK(h.kl_uniform == doctest::Approx(std::log(10.0)));
  }
  SUBCASE("a stray sample does not cover a mode (min_share of the uniform share)") {
    // 999 samples over classes 0..4, one in class 9: 0.1% < 10% of 10%.
    const metrics::ClassHistogram h =
        metrics::class_histogram(one_hot_rows(1000, 10, [](std::int64_t i) { return i == 999 ? 9 : i % 5; }));
    CHECK(h.covered == 5);
    CHECK(h.counts[9] == 1);
  }
  SUBCASE("uniform rows are not confident") {
    const metrics::ClassHistogram h = metrics::class_histogram(Tensor<float>::full(Shape{10, 4}, 0.25f));
    CHECK(h.confident == doctest::Approx(0.0));
  }
}

TEST_CASE("classify + sample_quality with the reference classifier") {
  gan::Rng rng(3);
  gan::manual_seed(3);
  gan::models::MnistClassifier<float> net({4, 8, 10});
  Tensor<float> images = gan::rand<float>(Shape{23, 1, 28, 28}, -1.0, 1.0, rng);
  const metrics::ClassifierOutputs out = metrics::classify(net, images, 10);  // 3 batches, the last short
  CHECK(out.probabilities.shape() == Shape{23, 10});
  CHECK(out.features.shape() == Shape{23, 8});
  for (std::int64_t i = 0; i < 23; ++i) {
    double s = 0;
    for (std::int64_t j = 0; j < 10; ++j) s += out.probabilities.data()[i * 10 + j];
    CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
  }
  // The same images judged against their own statistics: FD 0, IS >= 1.
  const metrics::SampleQuality q = metrics::sample_quality(out, metrics::gaussian_stats(out.features));
  CHECK(q.fd == doctest::Approx(0.0).scale(1.0).epsilon(1e-6));
  CHECK(q.is >= 1.0);
  CHECK(q.histogram.total == 23);
  CHECK_THROWS_WITH(net(gan::Var<float>(Tensor<float>::zeros(Shape{2, 1, 27, 27}))), doctest::Contains("(N, 1, 28, 28)"));
}
