// Losses against torch.nn.functional (fixtures loss_*.bin from tests/reference/make_refs.py):
// the mean-reduced loss, and the gradients w.r.t. the input (gx) and, for the pointwise
// losses, the target (gt), with a scalar upstream gradient gy = 0.75.
//
// Tolerance: rtol 1e-5 with atol 1e-7. The gan losses accumulate in double and round once,
// so they should be within an ulp or two of torch's float64 result; gradients are
// O(1 / numel) ~ 0.04, where 1e-7 absolute is ~100 float ulps of headroom.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../reference/fixture.hpp"
#include "gan/losses/bce.hpp"
#include "gan/losses/cross_entropy.hpp"
#include "gan/losses/l1.hpp"
#include "gan/losses/mse.hpp"

using gan::Tensor;
using gan::Var;
using gan::test::check_close;
using gan::test::load_ref;
using gan::test::RefFile;

namespace {
constexpr double kLossRtol = 1e-5, kLossAtol = 1e-7;

// Runs a loss of (input, target) with both requiring grad and compares loss, gx and gt.
template <class Loss>
void check_pointwise_loss(const std::string& case_name, Loss loss_fn) {
  INFO("fixture ", case_name);
  RefFile ref = load_ref(case_name);
  Var<float> x(ref["x"], true), t(ref["t"], true);
  Var<float> loss = loss_fn(x, t);
  check_close(case_name + " loss", loss.value(), ref["loss"], kLossRtol, kLossAtol);
  loss.backward(ref["gy"]);
  check_close(case_name + " gx", x.grad(), ref["gx"], kLossRtol, kLossAtol);
  check_close(case_name + " gt", t.grad(), ref["gt"], kLossRtol, kLossAtol);
}

std::vector<std::int64_t> labels_of(const Tensor<float>& t) {
  std::vector<std::int64_t> labels;
  for (float v : t) labels.push_back(static_cast<std::int64_t>(v));
  return labels;
}
}  // namespace

TEST_CASE("parity losses: bce_with_logits, soft and hard targets, |x| up to 100") {
  check_pointwise_loss("loss_bce_with_logits",
                       [](const Var<float>& x, const Var<float>& t) { return gan::bce_with_logits(x, t); });
}

TEST_CASE("parity losses: bce on probabilities in [0.05, 0.95]") {
  // gan adds eps = 1e-12 inside the logs where torch clamps at -100: identical here.
  check_pointwise_loss("loss_bce", [](const Var<float>& p, const Var<float>& t) { return gan::bce(p, t); });
}

TEST_CASE("parity losses: l1_loss and mse_loss") {
  auto l1 = [](const Var<float>& x, const Var<float>& t) { return gan::l1_loss(x, t); };
  check_pointwise_loss("loss_l1", l1);       // zero target
  check_pointwise_loss("loss_l1_pair", l1);  // random target
  check_pointwise_loss("loss_mse", [](const Var<float>& x, const Var<float>& t) { return gan::mse_loss(x, t); });
}

TEST_CASE("parity losses: cross_entropy with a row of +-50 logits") {
  RefFile ref = load_ref("loss_cross_entropy");
  Var<float> x(ref["x"], true);
  Var<float> loss = gan::cross_entropy(x, labels_of(ref["t"]));
  check_close("loss_cross_entropy loss", loss.value(), ref["loss"], kLossRtol, kLossAtol);
  loss.backward(ref["gy"]);
  check_close("loss_cross_entropy gx", x.grad(), ref["gx"], kLossRtol, kLossAtol);
}

TEST_CASE("parity losses: sigmoid_cross_entropy = BCEWithLogits against one-hot labels") {
  RefFile ref = load_ref("loss_sigmoid_cross_entropy");
  Var<float> x(ref["x"], true);
  Var<float> loss = gan::sigmoid_cross_entropy(x, labels_of(ref["t"]));
  check_close("loss_sigmoid_cross_entropy loss", loss.value(), ref["loss"], kLossRtol, kLossAtol);
  loss.backward(ref["gy"]);
  check_close("loss_sigmoid_cross_entropy gx", x.grad(), ref["gx"], kLossRtol, kLossAtol);
}
