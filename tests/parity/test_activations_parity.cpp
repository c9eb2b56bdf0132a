// Activations against torch (fixtures act_<name>.bin from tests/reference/make_refs.py):
// output and the gradient of (y * gy).sum() on a (2, 3, 5, 7) input kept >= 0.05 away from
// the ReLU kink; elu, tanh and sigmoid also see saturated inputs (+-6, +-12, +-30).
// Dropout is random and has no parity test.
//
// Tolerance: rtol 1e-5 with atol 1e-6 for values near 0 (sigmoid(-30) ~ 1e-13, gradients
// in the saturated tails): a few float ulps of a SIMD exp/tanh stay well inside.
#include <doctest/doctest.h>

#include <string>

#include "../reference/fixture.hpp"
#include "gan/ops/activations.hpp"

using gan::Var;
using gan::test::check_close;
using gan::test::load_ref;

namespace {
constexpr double kActivationRtol = 1e-5, kActivationAtol = 1e-6;

template <class Op>
void check_activation(const std::string& name, Op op) {
  INFO("fixture act_", name);
  auto ref = load_ref("act_" + name);
  Var<float> x(ref["x"], true);
  Var<float> y = op(x);
  check_close(name + " y", y.value(), ref["y"], kActivationRtol, kActivationAtol);
  y.backward(ref["gy"]);
  check_close(name + " gx", x.grad(), ref["gx"], kActivationRtol, kActivationAtol);
}
}  // namespace

TEST_CASE("parity activations: relu, leaky_relu(0.2), elu(1), tanh, sigmoid") {
  check_activation("relu", [](const Var<float>& x) { return gan::relu(x); });
  check_activation("leaky_relu", [](const Var<float>& x) { return gan::leaky_relu(x, 0.2); });
  check_activation("elu", [](const Var<float>& x) { return gan::elu(x, 1.0); });
  check_activation("tanh", [](const Var<float>& x) { return gan::tanh(x); });
  check_activation("sigmoid", [](const Var<float>& x) { return gan::sigmoid(x); });
}
