// A tiny DCGAN-like stack against the same stack in torch (fixture composite_dcgan.bin from
// tests/reference/make_refs.py):
//   z (3, 4, 1, 1) -> conv_transpose2d(4->6, k4, s1, p0, no bias) -> BatchNorm2d(6), training
//   -> relu -> conv2d(6->5, k4, s2, p1) -> leaky_relu(0.2) -> flatten (3, 20) -> linear(20->1)
// Output, the gradient w.r.t. z and every parameter of (y * gy).sum(), and the batch-norm
// running statistics after the step. This checks that the pieces compose (gradients flow
// through every node, accumulate in the right slots), not each op again.
//
// Tolerance: rtol 1e-5 with atol 1e-5, as for the single ops: nothing looser is needed.
// Batch norm over only 3 * 4 * 4 = 48 values per channel could amplify the convs' float
// error, but the measured worst diff is ~2% of the tolerance (GAN_PARITY_VERBOSE=1).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../reference/fixture.hpp"
#include "gan/nn/activation.hpp"
#include "gan/nn/batch_norm.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/conv_transpose2d.hpp"
#include "gan/nn/linear.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/nn/shape_layers.hpp"
#include "gan/ops/activations.hpp"
#include "gan/ops/conv2d.hpp"
#include "gan/ops/conv_transpose2d.hpp"
#include "gan/ops/linear.hpp"
#include "gan/ops/shape_ops.hpp"

using gan::Var;
using gan::test::check_close;
using gan::test::load_ref;
using gan::test::set_value;

TEST_CASE("parity composite: convT -> BN -> ReLU -> conv -> LeakyReLU -> linear") {
  constexpr double kRtol = 1e-5, kAtol = 1e-5;
  auto ref = load_ref("composite_dcgan");
  Var<float> ct_w(ref["convT.weight"], true);
  Var<float> cv_w(ref["conv.weight"], true), cv_b(ref["conv.bias"], true);
  Var<float> fc_w(ref["fc.weight"], true), fc_b(ref["fc.bias"], true);
  gan::nn::BatchNorm2d<float> bn(6);
  set_value(bn.weight(), ref["bn.weight"], "bn.weight");
  set_value(bn.bias(), ref["bn.bias"], "bn.bias");
  bn.train();

  Var<float> z(ref["z"], true);
  gan::ConvTranspose2dParams up;  // k4 s1 p0: 1x1 -> 4x4
  Var<float> h = gan::relu(bn(gan::conv_transpose2d(z, ct_w, Var<float>(), up)));
  gan::Conv2dParams down;
  down.stride = 2;
  down.padding = 1;
  h = gan::leaky_relu(gan::conv2d(h, cv_w, cv_b, down), 0.2);
  Var<float> y = gan::linear(gan::flatten(h), fc_w, fc_b);

  check_close("composite y", y.value(), ref["y"], kRtol, kAtol);
  y.backward(ref["gy"]);
  check_close("composite gz", z.grad(), ref["gz"], kRtol, kAtol);
  check_close("composite grad.convT.weight", ct_w.grad(), ref["grad.convT.weight"], kRtol, kAtol);
  check_close("composite grad.bn.weight", bn.weight().grad(), ref["grad.bn.weight"], kRtol, kAtol);
  check_close("composite grad.bn.bias", bn.bias().grad(), ref["grad.bn.bias"], kRtol, kAtol);
  check_close("composite grad.conv.weight", cv_w.grad(), ref["grad.conv.weight"], kRtol, kAtol);
  check_close("composite grad.conv.bias", cv_b.grad(), ref["grad.conv.bias"], kRtol, kAtol);
  check_close("composite grad.fc.weight", fc_w.grad(), ref["grad.fc.weight"], kRtol, kAtol);
  check_close("composite grad.fc.bias", fc_b.grad(), ref["grad.fc.bias"], kRtol, kAtol);
  check_close("composite bn.running_mean", bn.running_mean(), ref["bn.running_mean"], kRtol, 1e-6);
  check_close("composite bn.running_var", bn.running_var(), ref["bn.running_var"], kRtol, 1e-6);
}

// The same stack as nn layers in an nn::Sequential, loaded through named_parameters(): the
// child names must match torch.nn.Sequential's ("0.weight", "1.bias", "6.weight", ...).
TEST_CASE("parity composite: the same stack as nn::Sequential with PyTorch parameter names") {
  constexpr double kRtol = 1e-5, kAtol = 1e-5;
  namespace nn = gan::nn;
  auto ref = load_ref("composite_dcgan");
  nn::ConvTranspose2dOptions up;
  up.in = 4, up.out = 6, up.kernel = 4, up.stride = 1, up.padding = 0, up.bias = false;
  nn::Conv2dOptions down;
  down.in = 6, down.out = 5, down.kernel = 4, down.stride = 2, down.padding = 1;
  nn::LinearOptions fc;
  fc.in = 20, fc.out = 1;
  nn::Sequential<float> net(std::make_shared<nn::ConvTranspose2d<float>>(up),
                            std::make_shared<nn::BatchNorm2d<float>>(6), std::make_shared<nn::ReLU<float>>(),
                            std::make_shared<nn::Conv2d<float>>(down),
                            std::make_shared<nn::LeakyReLU<float>>(0.2), std::make_shared<nn::Flatten<float>>(),
                            std::make_shared<nn::Linear<float>>(fc));
  const std::vector<std::pair<std::string, std::string>> names = {
      {"0.weight", "convT.weight"}, {"1.weight", "bn.weight"},   {"1.bias", "bn.bias"}, {"3.weight", "conv.weight"},
      {"3.bias", "conv.bias"},      {"6.weight", "fc.weight"},   {"6.bias", "fc.bias"}};
  auto params = net.named_parameters();
  REQUIRE(params.size() == names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    REQUIRE(params[i].first == names[i].first);
    set_value(params[i].second, ref[names[i].second], names[i].first);
  }
  net.train();

  Var<float> z(ref["z"], true);
  Var<float> y = net(z);
  check_close("sequential y", y.value(), ref["y"], kRtol, kAtol);
  y.backward(ref["gy"]);
  check_close("sequential gz", z.grad(), ref["gz"], kRtol, kAtol);
  for (std::size_t i = 0; i < names.size(); ++i)
    check_close("sequential grad." + names[i].first, params[i].second.grad(), ref["grad." + names[i].second], kRtol,
                kAtol);
  int stats = 0;
  for (auto& [name, buffer] : net.named_buffers()) {
    if (name == "1.running_mean" && ++stats)
      check_close("sequential " + name, buffer, ref["bn.running_mean"], kRtol, 1e-6);
    if (name == "1.running_var" && ++stats)
      check_close("sequential " + name, buffer, ref["bn.running_var"], kRtol, 1e-6);
  }
  CHECK(stats == 2);
}
