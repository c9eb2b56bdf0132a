// End-to-end: the pieces train together. A small conv net must learn a synthetic task,
// and one GAN iteration must route gradients the way a GAN step needs.
#include <doctest/doctest.h>

#include "gan/losses/bce.hpp"
#include "gan/losses/cross_entropy.hpp"
#include "gan/models/dcgan.hpp"
#include "gan/nn/activation.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/linear.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/nn/shape_layers.hpp"
#include "gan/ops/elementwise.hpp"
#include "gan/optim/adam.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;

namespace {
// 8x8 images of one bright bar: horizontal (class 0) or vertical (class 1), at a random
// position, on noise. Not separable by mean intensity, so the net has to learn shapes.
void make_bars(gan::Rng& rng, std::int64_t n, Tensor<float>& images, std::vector<std::int64_t>& labels) {
  images = gan::rand<float>(Shape{n, 1, 8, 8}, 0.0, 0.3, rng);
  labels.assign(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t cls = rng.randint(0, 2), pos = rng.randint(0, 8);
    labels[static_cast<std::size_t>(i)] = cls;
    for (std::int64_t k = 0; k < 8; ++k) (cls == 0 ? images.at(i, 0, pos, k) : images.at(i, 0, k, pos)) += 1.0f;
  }
}
}  // namespace

TEST_CASE("a small conv net learns horizontal vs vertical bars") {
  gan::Rng rng(11);
  gan::manual_seed(11);
  using namespace gan::nn;
  Sequential<float> net;
  net.push_back(std::make_shared<Conv2d<float>>(Conv2dOptions{1, 8, 3, 1, 1}));
  net.push_back(std::make_shared<ReLU<float>>());
  net.push_back(std::make_shared<Conv2d<float>>(Conv2dOptions{8, 8, 4, 2, 1}));
  net.push_back(std::make_shared<ReLU<float>>());
  net.push_back(std::make_shared<Flatten<float>>());
  LinearOptions head;
  head.in = 8 * 4 * 4, head.out = 2;
  net.push_back(std::make_shared<Linear<float>>(head));

  gan::optim::AdamOptions ao;
  ao.lr = 3e-3;
  gan::optim::Adam<float> opt(net.parameters(), ao);
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    Tensor<float> x;
    std::vector<std::int64_t> y;
    make_bars(rng, 32, x, y);
    Var<float> loss = gan::cross_entropy(net(Var<float>(x)), y);
    if (step == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  // Stated threshold: chance level is ln 2 = 0.69; a net that learned the bars is far below.
  CHECK(first > 0.5);
  CHECK(last < 0.1);

  Tensor<float> x;
  std::vector<std::int64_t> y;
  make_bars(rng, 200, x, y);
  gan::NoGradGuard no_grad;
  Tensor<float> logits = net(Var<float>(x)).value();
  int correct = 0;
  for (std::int64_t i = 0; i < 200; ++i) correct += (logits[2 * i + 1] > logits[2 * i]) == (y[static_cast<std::size_t>(i)] == 1);
  CHECK(correct >= 190);
}

TEST_CASE("one GAN iteration: D learns from detached fakes, G learns through D") {
  gan::Rng rng(4);
  gan::models::DcganOptions o;
  o.width = 4, o.z_dim = 8;
  gan::models::DcganGenerator<float> G(o);
  gan::models::DcganDiscriminator<float> D(o);
  gan::models::dcgan_init(G, rng);
  gan::models::dcgan_init(D, rng);
  gan::optim::AdamOptions ao;
  ao.lr = 2e-4, ao.beta1 = 0.5;
  gan::optim::Adam<float> opt_g(G.parameters(), ao), opt_d(D.parameters(), ao);

  auto nonzero_grads = [](const auto& module) {
    int n = 0;
    for (auto& p : module.parameters())
      if (p.grad().defined() && p.grad().vec().cwiseAbs().maxCoeff() > 0) ++n;
    return n;
  };
  auto snapshot = [](const auto& module) {
    std::vector<Tensor<float>> v;
    for (auto& p : module.parameters()) v.push_back(p.value().clone());
    return v;
  };
  auto changed = [](const auto& module, const std::vector<Tensor<float>>& before) {
    auto params = module.parameters();
    int n = 0;
    for (std::size_t i = 0; i < params.size(); ++i) n += params[i].value().vec() != before[i].vec();
    return n;
  };

  Var<float> real(gan::rand<float>(Shape{4, 1, 28, 28}, -1.0, 1.0, rng));
  Var<float> fake = G(Var<float>(gan::randn<float>(Shape{4, 8}, rng)));

  // D step: real -> 1, G(z).detach() -> 0. G must receive nothing.
  auto g_before = snapshot(G);
  opt_d.zero_grad();
  Var<float> d_loss = gan::bce_with_logits(D(real), 1.0) + gan::bce_with_logits(D(fake.detach()), 0.0);
  d_loss.backward();
  CHECK(nonzero_grads(D) == static_cast<int>(D.parameters().size()));
  CHECK(nonzero_grads(G) == 0);
  opt_d.step();

  // G step: D(G(z)) -> 1, through D into G; only G's optimizer steps.
  auto d_before = snapshot(D);
  opt_g.zero_grad();
  Var<float> g_loss = gan::bce_with_logits(D(fake), 1.0);
  g_loss.backward();
  CHECK(nonzero_grads(G) == static_cast<int>(G.parameters().size()));
  opt_g.step();
  CHECK(changed(G, g_before) == static_cast<int>(G.parameters().size()));
  CHECK(changed(D, d_before) == 0);
}
