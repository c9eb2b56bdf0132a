// Adam and SGD against torch.optim on 10 steps with a different fixed gradient each step
// (fixtures optim_*.bin from tests/reference/make_refs.py). Two parameters, (3, 4) and (5),
// updated by one optimizer; the parameters are compared after every step.
//
// Tolerance: the reference trajectory is float64 rounded to float32; ours runs in float32,
// so each step adds about one float ulp (~1e-7 for |p| ~ 1) of drift. rtol 1e-5 + atol 1e-6
// leaves room for 10 steps of that while a wrong bias correction, beta, or weight-decay
// placement shows up at >= 1e-5 (Adam at lr 2e-4 moves a parameter ~2e-4 per step).
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../reference/fixture.hpp"
#include "gan/optim/adam.hpp"
#include "gan/optim/sgd.hpp"

using gan::Tensor;
using gan::Var;
using gan::test::check_close;
using gan::test::load_ref;

namespace {
constexpr double kOptimRtol = 1e-5, kOptimAtol = 1e-6;

using MakeOptimizer = std::function<std::unique_ptr<gan::optim::Optimizer<float>>(std::vector<Var<float>>)>;

void run_optimizer_case(const std::string& case_name, const MakeOptimizer& make) {
  INFO("fixture ", case_name);
  auto ref = load_ref(case_name);
  Var<float> p0(ref["p0"], true), p1(ref["p1"], true);
  auto opt = make({p0, p1});
  for (int step = 1; step <= 10; ++step) {
    const std::string s = ".step" + std::to_string(step);
    p0.grad() = ref["grad.p0" + s];
    p1.grad() = ref["grad.p1" + s];
    opt->step();
    check_close(case_name + " p0" + s, p0.value(), ref["p0" + s], kOptimRtol, kOptimAtol);
    check_close(case_name + " p1" + s, p1.value(), ref["p1" + s], kOptimRtol, kOptimAtol);
  }
}
}  // namespace

TEST_CASE("parity optim: Adam lr 2e-4, betas (0.5, 0.999) (DCGAN)") {
  run_optimizer_case("optim_adam", [](std::vector<Var<float>> ps) {
    gan::optim::AdamOptions o;
    o.lr = 2e-4;
    o.beta1 = 0.5;
    o.beta2 = 0.999;
    o.eps = 1e-8;
    return std::make_unique<gan::optim::Adam<float>>(ps, o);
  });
}

TEST_CASE("parity optim: Adam with L2 weight decay 0.1") {
  run_optimizer_case("optim_adam_wd", [](std::vector<Var<float>> ps) {
    gan::optim::AdamOptions o;
    o.lr = 2e-4;
    o.beta1 = 0.5;
    o.beta2 = 0.999;
    o.eps = 1e-8;
    o.weight_decay = 0.1;
    return std::make_unique<gan::optim::Adam<float>>(ps, o);
  });
}

TEST_CASE("parity optim: Adam lr 1e-2, betas (0.9, 0.999)") {
  run_optimizer_case("optim_adam_lr1e-2", [](std::vector<Var<float>> ps) {
    gan::optim::AdamOptions o;
    o.lr = 1e-2;
    o.beta1 = 0.9;
    o.beta2 = 0.999;
    o.eps = 1e-8;
    return std::make_unique<gan::optim::Adam<float>>(ps, o);
  });
}

TEST_CASE("parity optim: SGD momentum 0.9, weight decay 0.01") {
  run_optimizer_case("optim_sgd_momentum_wd", [](std::vector<Var<float>> ps) {
    gan::optim::SGDOptions o;
    o.lr = 0.05;
    o.momentum = 0.9;
    o.weight_decay = 0.01;
    return std::make_unique<gan::optim::SGD<float>>(ps, o);
  });
}

TEST_CASE("parity optim: SGD Nesterov momentum 0.9") {
  run_optimizer_case("optim_sgd_nesterov", [](std::vector<Var<float>> ps) {
    gan::optim::SGDOptions o;
    o.lr = 0.05;
    o.momentum = 0.9;
    o.nesterov = true;
    return std::make_unique<gan::optim::SGD<float>>(ps, o);
  });
}
