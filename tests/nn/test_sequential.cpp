#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gan/autograd/grad_check.hpp"
#include "gan/nn/activation.hpp"
#include "gan/nn/dropout.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/nn/shape_layers.hpp"
#include "gan/ops/elementwise.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
namespace nn = gan::nn;

namespace {
// A layer with one parameter (y = x * weight, same shape), standing in for conv layers.
template <class T>
class Gain : public nn::Layer<T> {
 public:
  explicit Gain(const Shape& s, T init = T(2)) { weight_ = this->register_parameter("weight", Tensor<T>::full(s, init)); }
  Var<T> forward(const Var<T>& x) override {
    gan::check(x.shape() == weight_.shape(), describe(), ": input ", x.shape(), " vs weight ", weight_.shape());
    return gan::mul(x, weight_);
  }
  std::string describe() const override { return "Gain" + weight_.shape().to_string(); }
  Var<T> weight_;
};
// Records whether it ran in training mode.
template <class T>
class ModeProbe : public nn::Layer<T> {
 public:
  Var<T> forward(const Var<T>& x) override {
    saw_training = this->is_training();
    return x;
  }
  std::string describe() const override { return "ModeProbe()"; }
  bool saw_training = false;
};
}  // namespace

TEST_CASE("Sequential names children 0, 1, ... and parameters 0.weight-style") {
  auto seq = std::make_shared<nn::Sequential<float>>(std::make_shared<Gain<float>>(Shape{2}),
                                                     std::make_shared<nn::ReLU<float>>(),
                                                     std::make_shared<Gain<float>>(Shape{2}, 3.0f));
  auto outer = nn::Sequential<float>(seq, std::make_shared<Gain<float>>(Shape{2}));
  std::vector<std::string> names;
  for (auto& [name, p] : outer.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0.0.weight", "0.2.weight", "1.weight"});
  CHECK(outer.size() == 2);
  CHECK(seq->size() == 3);
  CHECK((*seq)[1]->describe() == "ReLU()");
  CHECK(seq->describe() == "Sequential(Gain(2), ReLU(), Gain(2))");
  CHECK_THROWS_AS((*seq)[3], gan::Error);
  CHECK_THROWS_AS(seq->push_back(nullptr), gan::Error);
}

TEST_CASE("Sequential forward chains layers and gradients reach every parameter") {
  nn::Sequential<double> seq;
  seq.push_back(std::make_shared<Gain<double>>(Shape{3}, 2.0)).push_back(std::make_shared<nn::Tanh<double>>());
  seq.push_back(std::make_shared<Gain<double>>(Shape{3}, -0.5));
  Var<double> x(Tensor<double>::from(Shape{3}, {0.1, -0.2, 0.3}), true);
  Var<double> y = seq(x);
  for (int i = 0; i < 3; ++i) CHECK(y.value()[i] == doctest::Approx(-0.5 * std::tanh(2 * x.value()[i])));
  std::vector<Var<double>> inputs{x};
  for (auto& p : seq.parameters()) inputs.push_back(p);
  auto r = gan::grad_check([&] { return seq.forward(x); }, inputs);
  CHECK_MESSAGE(r.ok, r.worst);
  CHECK(nn::Sequential<float>().forward(Var<float>(Tensor<float>::ones(Shape{1}))).item() == 1);  // identity
}

TEST_CASE("Sequential prefixes a failing layer's error with its position") {
  nn::Sequential<float> seq(std::make_shared<nn::ReLU<float>>(), std::make_shared<Gain<float>>(Shape{4}));
  Var<float> x(Tensor<float>::ones(Shape{3}));
  CHECK_THROWS_WITH_AS(seq(x), doctest::Contains("Sequential[1] > Gain(4): input (3)"), gan::Error);
}

TEST_CASE("train() and eval() reach layers added before and after the switch") {
  nn::Sequential<float> seq;
  auto early = std::make_shared<ModeProbe<float>>();
  seq.push_back(early);
  seq.eval();
  auto late = std::make_shared<ModeProbe<float>>();
  seq.push_back(late);  // registered into an eval() parent: starts in eval mode
  Var<float> x(Tensor<float>::ones(Shape{1}));
  seq(x);
  CHECK_FALSE(early->saw_training);
  CHECK_FALSE(late->saw_training);
  seq.train();
  seq(x);
  CHECK(early->saw_training);
  CHECK(late->saw_training);
}

TEST_CASE("activation layers describe themselves and use torch defaults") {
  CHECK(nn::LeakyReLU<float>().negative_slope() == doctest::Approx(0.01));
  CHECK(nn::LeakyReLU<float>(0.2).describe() == "LeakyReLU(0.2)");
  CHECK(nn::ELU<float>().describe() == "ELU(alpha=1)");
  CHECK(nn::Sigmoid<float>().describe() == "Sigmoid()");
  Var<float> x(Tensor<float>::from(Shape{2}, {-1, 1}));
  CHECK(nn::LeakyReLU<float>()(x).value()[0] == doctest::Approx(-0.01));
  CHECK(nn::ELU<float>(2.0)(x).value()[0] == doctest::Approx(2 * (std::exp(-1.0) - 1)));
  CHECK(nn::Sigmoid<float>()(x).value()[1] == doctest::Approx(1 / (1 + std::exp(-1.0))));
  CHECK(nn::ReLU<float>()(x).value()[0] == 0);
}

TEST_CASE("Dropout: same seed same mask, eval is the identity, active_in_eval keeps it on") {
  Var<float> x(Tensor<float>::ones(Shape{2, 3, 5, 7}));
  nn::Dropout<float> a(nn::DropoutOptions{0.5, 7}), b(nn::DropoutOptions{0.5, 7}), c(nn::DropoutOptions{0.5, 8});
  Tensor<float> ya = a(x).value(), yb = b(x).value(), yc = c(x).value();
  CHECK(ya.to_vector() == yb.to_vector());
  CHECK(ya.to_vector() != yc.to_vector());
  CHECK(a(x).value().to_vector() != ya.to_vector());  // the layer's Rng advances per call

  // checkpointed state reproduces the next mask
  auto state = a.rng_state();
  Tensor<float> next = a(x).value();
  a.set_rng_state(state);
  CHECK(a(x).value().to_vector() == next.to_vector());

  a.eval();
  CHECK(a(x).id() == x.id());
  nn::Dropout<float> pix(nn::DropoutOptions{0.5, 7, true});
  pix.eval();
  Tensor<float> yp = pix(x).value();
  CHECK(yp.to_vector() == ya.to_vector());  // same seed, still dropping in eval
  CHECK(pix.describe() == "Dropout(p=0.5, active_in_eval)");
  CHECK_THROWS_WITH_AS(nn::Dropout<float>(nn::DropoutOptions{-0.1}), doctest::Contains("Dropout"), gan::Error);

  // inside a Sequential, eval() on the parent turns the child off
  nn::Sequential<float> seq(std::make_shared<nn::Dropout<float>>(nn::DropoutOptions{0.9, 1}));
  seq.eval();
  CHECK(seq(x).value().to_vector() == x.value().to_vector());
}

TEST_CASE("Flatten, Reshape and Upsample layers") {
  Var<float> x(Tensor<float>::ones(Shape{2, 3, 4, 5}));
  CHECK(nn::Flatten<float>()(x).shape() == Shape{2, 60});
  nn::Reshape<float> r({-1, 3, 20});
  CHECK(r(x).shape() == Shape{2, 3, 20});
  CHECK(r.describe() == "Reshape(-1, 3, 20)");
  CHECK_THROWS_WITH_AS(nn::Reshape<float>({7, -1})(x), doctest::Contains("Reshape(7, -1)"), gan::Error);
  CHECK_THROWS_AS(nn::Reshape<float>({-1, -1}), gan::Error);

  nn::UpsampleOptions o;
  CHECK(nn::Upsample<float>(o)(x).shape() == Shape{2, 3, 8, 10});
  CHECK(nn::Upsample<float>(o).describe() == "Upsample(scale=2, mode=nearest)");
  o.mode = nn::UpsampleOptions::bilinear;
  o.out_h = 7;
  o.out_w = 9;
  CHECK(nn::Upsample<float>(o)(x).shape() == Shape{2, 3, 7, 9});
  CHECK(nn::Upsample<float>(o).describe() == "Upsample(size=7x9, mode=bilinear)");
  o.mode = nn::UpsampleOptions::bicubic;
  CHECK(nn::Upsample<float>(o)(x).value()[0] == doctest::Approx(1));  // weights sum to 1
  o.out_w = 0;
  CHECK_THROWS_AS(nn::Upsample<float>{o}, gan::Error);
  CHECK_THROWS_WITH_AS(nn::Upsample<float>()(Var<float>(Tensor<float>::ones(Shape{3, 4}))),
                       doctest::Contains("Upsample(scale=2, mode=nearest): input must be (N, C, H, W), got (3, 4)"),
                       gan::Error);
}
