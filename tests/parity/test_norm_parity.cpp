// nn::BatchNorm1d/2d and nn::InstanceNorm2d against torch.nn (fixtures batch_norm*.bin,
// instance_norm2d_*.bin from tests/reference/make_refs.py): outputs, input and parameter
// gradients of (y * gy).sum(), and running statistics after each training step.
//
// Tolerances: outputs are O(1) normalised values, rtol 1e-5 with atol 1e-5. The input
// gradient is w / sigma * (gy - mean(gy) - xhat * mean(gy * xhat)): a difference of O(1)
// terms, so entries near 0 carry an absolute float error of a few 1e-7 * |terms|; atol 1e-5
// covers it. Running statistics are O(1) means/variances, rtol 1e-5 + atol 1e-6.
#include <doctest/doctest.h>

#include <string>

#include "../reference/fixture.hpp"
#include "gan/nn/batch_norm.hpp"
#include "gan/nn/instance_norm.hpp"

using gan::Tensor;
using gan::Var;
using gan::test::check_close;
using gan::test::load_ref;
using gan::test::set_value;

namespace {
constexpr double kNormRtol = 1e-5, kNormAtol = 1e-5, kStatsAtol = 1e-6;

// Running statistics are buffers that share storage with the layer: write through a handle.
template <class Layer>
void set_running_stats(Layer& bn, const Tensor<float>& mean, const Tensor<float>& var) {
  Tensor<float> rm = bn.running_mean(), rv = bn.running_var();
  rm.copy_from(mean);
  rv.copy_from(var);
}
}  // namespace

TEST_CASE("parity norm: BatchNorm2d training, 3 steps, momentum 0.1") {
  auto ref = load_ref("batch_norm2d_train");
  gan::nn::BatchNorm2d<float> bn(gan::nn::BatchNormOptions{3, 1e-5, 0.1});
  set_value(bn.weight(), ref["weight"], "weight");
  set_value(bn.bias(), ref["bias"], "bias");
  bn.train();
  for (int step = 1; step <= 3; ++step) {
    const std::string s = ".step" + std::to_string(step);
    Var<float> x(ref["x" + s], true);
    Var<float> y = bn(x);
    check_close("batch_norm2d_train y" + s, y.value(), ref["y" + s], kNormRtol, kNormAtol);
    if (step == 1) {
      y.backward(ref["gy"]);
      check_close("batch_norm2d_train gx", x.grad(), ref["gx"], kNormRtol, kNormAtol);
      check_close("batch_norm2d_train grad.weight", bn.weight().grad(), ref["grad.weight"], kNormRtol, kNormAtol);
      check_close("batch_norm2d_train grad.bias", bn.bias().grad(), ref["grad.bias"], kNormRtol, kNormAtol);
    }
    check_close("batch_norm2d_train running_mean" + s, bn.running_mean(), ref["running_mean" + s], kNormRtol,
                kStatsAtol);
    check_close("batch_norm2d_train running_var" + s, bn.running_var(), ref["running_var" + s], kNormRtol,
                kStatsAtol);
  }
}

TEST_CASE("parity norm: BatchNorm2d eval uses the running statistics") {
  auto ref = load_ref("batch_norm2d_eval");
  gan::nn::BatchNorm2d<float> bn(3);
  set_value(bn.weight(), ref["weight"], "weight");
  set_value(bn.bias(), ref["bias"], "bias");
  set_running_stats(bn, ref["running_mean"], ref["running_var"]);
  bn.eval();
  Var<float> x(ref["x"], true);
  Var<float> y = bn(x);
  check_close("batch_norm2d_eval y", y.value(), ref["y"], kNormRtol, kNormAtol);
  y.backward(ref["gy"]);
  check_close("batch_norm2d_eval gx", x.grad(), ref["gx"], kNormRtol, kNormAtol);
  check_close("batch_norm2d_eval grad.weight", bn.weight().grad(), ref["grad.weight"], kNormRtol, kNormAtol);
  check_close("batch_norm2d_eval grad.bias", bn.bias().grad(), ref["grad.bias"], kNormRtol, kNormAtol);
  // eval() must leave the running statistics alone.
  check_close("batch_norm2d_eval running_mean", bn.running_mean(), ref["running_mean"], 0, 0);
  check_close("batch_norm2d_eval running_var", bn.running_var(), ref["running_var"], 0, 0);
}

TEST_CASE("parity norm: BatchNorm1d training on (N, C)") {
  auto ref = load_ref("batch_norm1d_train");
  gan::nn::BatchNorm1d<float> bn(5);
  set_value(bn.weight(), ref["weight"], "weight");
  set_value(bn.bias(), ref["bias"], "bias");
  Var<float> x(ref["x"], true);
  Var<float> y = bn(x);
  check_close("batch_norm1d_train y", y.value(), ref["y"], kNormRtol, kNormAtol);
  y.backward(ref["gy"]);
  check_close("batch_norm1d_train gx", x.grad(), ref["gx"], kNormRtol, kNormAtol);
  check_close("batch_norm1d_train grad.weight", bn.weight().grad(), ref["grad.weight"], kNormRtol, kNormAtol);
  check_close("batch_norm1d_train grad.bias", bn.bias().grad(), ref["grad.bias"], kNormRtol, kNormAtol);
  check_close("batch_norm1d_train running_mean", bn.running_mean(), ref["running_mean.step1"], kNormRtol, kStatsAtol);
  check_close("batch_norm1d_train running_var", bn.running_var(), ref["running_var.step1"], kNormRtol, kStatsAtol);
}

TEST_CASE("parity norm: InstanceNorm2d with and without affine") {
  for (bool affine : {true, false}) {
    const std::string name = affine ? "instance_norm2d_affine" : "instance_norm2d_noaffine";
    CAPTURE(name);
    auto ref = load_ref(name);
    gan::nn::InstanceNormOptions o;
    o.num_features = 3;
    o.affine = affine;
    gan::nn::InstanceNorm2d<float> in(o);
    if (affine) {
      set_value(in.weight(), ref["weight"], "weight");
      set_value(in.bias(), ref["bias"], "bias");
    }
    Var<float> x(ref["x"], true);
    Var<float> y = in(x);
    check_close(name + " y", y.value(), ref["y"], kNormRtol, kNormAtol);
    y.backward(ref["gy"]);
    check_close(name + " gx", x.grad(), ref["gx"], kNormRtol, kNormAtol);
    if (affine) {
      check_close(name + " grad.weight", in.weight().grad(), ref["grad.weight"], kNormRtol, kNormAtol);
      check_close(name + " grad.bias", in.bias().grad(), ref["grad.bias"], kNormRtol, kNormAtol);
    }
  }
}
