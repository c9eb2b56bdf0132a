#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gan/optim/adam.hpp"
#include "optim_test_util.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
using gan::optim::Adam;
using gan::optim::AdamOptions;
using gan_test::check_close;
using gan_test::make_param;
using gan_test::ref_grad;
using gan_test::set_grad;

namespace {

// A gradient that changes with the step and depends on the parameter (so a wrong update
// also changes later gradients): d/dp of (p - c)^2 plus a step-dependent wobble.
double adam_grad_at(double p, int step, std::size_t i) {
  return 2 * (p - 0.3 * static_cast<double>(i)) + std::sin(0.7 * step + 1.3 * static_cast<double>(i));
}

std::vector<double> adam_start_values(std::size_t n, double offset) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = offset + 0.25 * static_cast<double>(i) - 0.4;
  return v;
}

// Textbook Adam (Kingma & Ba, Algorithm 1) in double, written independently of the header:
// explicit m_hat / v_hat, b1*m + (1-b1)*g, the L2 term folded into g, AdamW's decay on p.
struct RefAdam {
  AdamOptions o;
  double lr;
  double wd;
  std::vector<double> m, v, vmax;
  int t = 0;

  RefAdam(AdamOptions opt, double lr_, double wd_, std::size_t n)
      : o(opt), lr(lr_), wd(wd_), m(n, 0.0), v(n, 0.0), vmax(n, 0.0) {}

  void step(std::vector<double>& p, const std::vector<double>& grad) {
    ++t;
    for (std::size_t i = 0; i < p.size(); ++i) {
      double g = grad[i];
      if (o.decoupled_weight_decay)
        p[i] -= lr * wd * p[i];
      else
        g += wd * p[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      vmax[i] = std::max(vmax[i], v[i]);
      const double m_hat = m[i] / (1 - std::pow(o.beta1, t));
      const double v_hat = (o.amsgrad ? vmax[i] : v[i]) / (1 - std::pow(o.beta2, t));
      p[i] -= lr * m_hat / (std::sqrt(v_hat) + o.eps);
    }
  }
};

template <class T>
double adam_tolerance() {
  return std::is_same_v<T, float> ? 2e-5 : 1e-12;
}

}  // namespace

TEST_CASE_TEMPLATE("Adam follows the textbook trajectory over 10 changing gradients", T, float, double) {
  AdamOptions o;
  o.lr = 0.05;
  SUBCASE("defaults") {}
  SUBCASE("L2 weight decay") { o.weight_decay = 0.1; }
  SUBCASE("AdamW") {
    o.weight_decay = 0.1;
    o.decoupled_weight_decay = true;
  }
  SUBCASE("amsgrad") { o.amsgrad = true; }
  SUBCASE("DCGAN betas (lerp weight 0.5)") {
    o.beta1 = 0.5;
    o.beta2 = 0.999;
  }
  SUBCASE("beta1 = 0") { o.beta1 = 0; }
  SUBCASE("large eps") { o.eps = 0.1; }

  std::vector<double> ref_p = adam_start_values(7, 0.0);
  Var<T> p = make_param<T>(ref_p);
  Adam<T> adam({p}, o);
  RefAdam ref(o, o.lr, o.weight_decay, ref_p.size());
  for (int step = 1; step <= 10; ++step) {
    set_grad(p, step, adam_grad_at);
    adam.step();
    ref.step(ref_p, ref_grad(ref_p, step, adam_grad_at));
  }
  check_close(p, ref_p, "Adam after 10 steps", adam_tolerance<T>());
  CHECK(adam.state(0, 0).steps() == 10);
}

TEST_CASE("Adam on a parameter large enough for the threaded loop matches the reference") {
  AdamOptions o;
  o.lr = 0.01;
  o.weight_decay = 0.01;
  std::vector<double> ref_p = adam_start_values(20011, 0.0);
  Var<double> p = make_param<double>(ref_p);
  Adam<double> adam({p}, o);
  RefAdam ref(o, o.lr, o.weight_decay, ref_p.size());
  for (int step = 1; step <= 3; ++step) {
    set_grad(p, step, adam_grad_at);
    adam.step();
    ref.step(ref_p, ref_grad(ref_p, step, adam_grad_at));
  }
  check_close(p, ref_p, "Adam, 20011 elements", adam_tolerance<double>());
}

TEST_CASE_TEMPLATE("Adam: groups have their own lr; undefined grads are skipped", T, float, double) {
  AdamOptions o;
  o.lr = 0.02;
  std::vector<double> a0 = adam_start_values(5, 0.0), b0 = adam_start_values(3, 1.0), c0 = adam_start_values(4, -1.0),
                      d0 = adam_start_values(2, 0.5);
  Var<T> a = make_param<T>(a0), b = make_param<T>(b0), c = make_param<T>(c0), late = make_param<T>(d0);
  Adam<T> adam({a, c}, o);
  adam.add_param_group({b, late}, 0.002, 0.05);  // SRCNN-style 10x smaller lr, with weight decay
  REQUIRE(adam.param_groups().size() == 2);

  RefAdam ra(o, 0.02, 0, a0.size()), rb(o, 0.002, 0.05, b0.size()), rlate(o, 0.002, 0.05, d0.size());
  for (int step = 1; step <= 10; ++step) {
    set_grad(a, step, adam_grad_at);
    set_grad(b, step, adam_grad_at);
    ra.step(a0, ref_grad(a0, step, adam_grad_at));
    rb.step(b0, ref_grad(b0, step, adam_grad_at));
    // `late` gets gradients only from step 4: its bias correction must start at t = 1 then.
    if (step >= 4) {
      set_grad(late, step, adam_grad_at);
      rlate.step(d0, ref_grad(d0, step, adam_grad_at));
    }
    adam.step();  // c never has a grad
  }
  check_close(a, a0, "group 0", adam_tolerance<T>());
  check_close(b, b0, "group 1", adam_tolerance<T>());
  check_close(late, d0, "parameter first reached at step 4", adam_tolerance<T>());
  check_close(c, c0, "parameter without grad", adam_tolerance<T>());
  CHECK(adam.state(0, 1).steps() == 0);
  CHECK(adam.state(1, 1).steps() == 7);
  for (T x : adam.state(0, 1).buffers[0]) CHECK(x == 0);
}

TEST_CASE_TEMPLATE("Adam minimises a quadratic", T, float, double) {
  // f(p) = sum (p_i - c_i)^2 with c_i = 0.3 i, far from the start.
  std::vector<double> start(6, 5.0);
  Var<T> p = make_param<T>(start);
  AdamOptions o;
  o.lr = 0.1;
  Adam<T> adam({p}, o);
  for (int step = 0; step < 600; ++step) {
    adam.zero_grad();
    if (!p.grad().defined()) p.grad() = Tensor<T>::zeros(p.shape());
    for (std::int64_t i = 0; i < p.numel(); ++i) p.grad()[i] += 2 * (p.value()[i] - T(0.3) * static_cast<T>(i));
    adam.step();
  }
  for (std::int64_t i = 0; i < p.numel(); ++i) CHECK(p.value()[i] == doctest::Approx(0.3 * static_cast<double>(i)).epsilon(1e-3).scale(1));
}

TEST_CASE_TEMPLATE("Adam state saved after 5 steps resumes identically", T, float, double) {
  AdamOptions o;
  o.lr = 0.03;
  o.amsgrad = true;
  std::vector<double> a0 = adam_start_values(9, 0.0), b0 = adam_start_values(4, 2.0);

  // Uninterrupted: 10 steps.
  Var<T> a = make_param<T>(a0), b = make_param<T>(b0);
  Adam<T> full({a}, o);
  full.add_param_group({b}, 0.003);
  for (int step = 1; step <= 10; ++step) {
    set_grad(a, step, adam_grad_at);
    set_grad(b, step, adam_grad_at);
    full.step();
  }

  // Interrupted after 5 steps: keep parameters and optimizer state (cloned: a checkpoint).
  Var<T> a1 = make_param<T>(a0), b1 = make_param<T>(b0);
  std::vector<std::pair<std::string, Tensor<T>>> saved;
  Tensor<T> saved_a, saved_b;
  {
    Adam<T> first({a1}, o);
    first.add_param_group({b1}, 0.003);
    for (int step = 1; step <= 5; ++step) {
      set_grad(a1, step, adam_grad_at);
      set_grad(b1, step, adam_grad_at);
      first.step();
    }
    for (auto& [name, t] : first.state_tensors()) saved.emplace_back(name, t.clone());
    saved_a = a1.value().clone();
    saved_b = b1.value().clone();
  }

  // A fresh process: new parameters and optimizer, loaded, then steps 6..10.
  auto resume = [&](bool load) {
    Var<T> a2 = make_param<T>(a0), b2 = make_param<T>(b0);
    a2.value().copy_from(saved_a);
    b2.value().copy_from(saved_b);
    Adam<T> second({a2}, o);
    second.add_param_group({b2}, 0.003);
    if (load) second.load_state_tensors(saved);
    for (int step = 6; step <= 10; ++step) {
      set_grad(a2, step, adam_grad_at);
      set_grad(b2, step, adam_grad_at);
      second.step();
    }
    return std::make_pair(a2, b2);
  };
  auto [a2, b2] = resume(true);
  CHECK(a2.value().to_vector() == a.value().to_vector());  // bit-identical
  CHECK(b2.value().to_vector() == b.value().to_vector());
  auto [a3, b3] = resume(false);  // the check above is meaningful: fresh state differs
  CHECK(a3.value().to_vector() != a.value().to_vector());
}

TEST_CASE("Adam state tensors exist from construction, named and sharing storage") {
  Var<float> a = make_param<float>({1, 2, 3}), b = make_param<float>({4, 5});
  Adam<float> adam({a});
  adam.add_param_group({b}, 1e-4);
  auto st = adam.state_tensors();
  REQUIRE(st.size() == 6);
  CHECK(st[0].first == "group0.param0.step");
  CHECK(st[1].first == "group0.param0.exp_avg");
  CHECK(st[2].first == "group0.param0.exp_avg_sq");
  CHECK(st[5].first == "group1.param0.exp_avg_sq");
  CHECK(st[0].second.shape() == Shape{1});
  CHECK(st[5].second.shape() == Shape{2});
  CHECK(st[5].second.shares_storage_with(adam.state(1, 0).buffers[1]));
  AdamOptions ams;
  ams.amsgrad = true;
  CHECK(Adam<float>({a}, ams).state_tensors().back().first == "group0.param0.max_exp_avg_sq");

  auto bad = st;
  bad[1].second = Tensor<float>::zeros(Shape{4});
  CHECK_THROWS_WITH_AS(adam.load_state_tensors(bad), doctest::Contains("(4)"), gan::Error);
  bad = st;
  bad[2].first = "group0.param0.m";
  CHECK_THROWS_WITH_AS(adam.load_state_tensors(bad), doctest::Contains("lacks group0.param0.exp_avg_sq"), gan::Error);
  bad.pop_back();
  CHECK_THROWS_WITH_AS(adam.load_state_tensors(bad), doctest::Contains("5 tensors, expected 6"), gan::Error);
}

TEST_CASE("Adam learning rates, zero_grad and invalid use") {
  Var<float> a = make_param<float>({1, 2}), b = make_param<float>({3});
  Adam<float> adam({a});
  adam.add_param_group({b}, 1e-4);
  CHECK(adam.lr() == doctest::Approx(1e-3));
  adam.scale_lr(0.5);
  CHECK(adam.param_groups()[1].lr == doctest::Approx(5e-5));
  adam.set_lr(1, 2e-4);
  CHECK(adam.param_groups()[1].lr == doctest::Approx(2e-4));
  adam.set_lr(0.01);
  CHECK(adam.param_groups()[0].lr == doctest::Approx(0.01));
  CHECK(adam.param_groups()[1].lr == doctest::Approx(0.01));

  set_grad(a, 1, adam_grad_at);
  adam.zero_grad();
  CHECK(a.grad().defined());
  CHECK(a.grad()[1] == 0);
  adam.zero_grad(/*set_to_none=*/true);
  CHECK_FALSE(a.grad().defined());

  AdamOptions bad_beta;
  bad_beta.beta2 = 1.0;
  CHECK_THROWS_WITH_AS(Adam<float>({a}, bad_beta), doctest::Contains("beta2"), gan::Error);
  CHECK_THROWS_WITH_AS(Adam<float>(std::vector<Var<float>>{}), doctest::Contains("empty parameter list"), gan::Error);
  CHECK_THROWS_WITH_AS(adam.add_param_group({a}, 0.1), doctest::Contains("already appears"), gan::Error);
  CHECK_THROWS_WITH_AS(adam.set_lr(-1.0), doctest::Contains("invalid learning rate"), gan::Error);

  Var<float> derived = gan::make_result(Tensor<float>::zeros(Shape{1}), "scale", {a},
                                        [](const Tensor<float>&, gan::GradSlots<float>&) {});
  CHECK_THROWS_WITH_AS(Adam<float>({derived}), doctest::Contains("non-leaf"), gan::Error);

  a.grad() = Tensor<float>::zeros(Shape{3});
  CHECK_THROWS_WITH_AS(adam.step(), doctest::Contains("(2)"), gan::Error);
}
