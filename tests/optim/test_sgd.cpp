#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gan/optim/sgd.hpp"
#include "optim_test_util.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;
using gan::optim::SGD;
using gan::optim::SGDOptions;
using gan_test::check_close;
using gan_test::make_param;
using gan_test::ref_grad;
using gan_test::set_grad;

namespace {

// d/dp of (p - c)^2 plus a step-dependent wobble, so gradients change every step and a
// wrong update also changes the later gradients.
double sgd_grad_at(double p, int step, std::size_t i) {
  return 2 * (p - 0.3 * static_cast<double>(i)) + std::cos(0.9 * step + 0.7 * static_cast<double>(i));
}

std::vector<double> sgd_start_values(std::size_t n, double offset) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = offset - 0.15 * static_cast<double>(i) + 0.5;
  return v;
}

// SGD as written in the PyTorch documentation's pseudo-code, in double, with an explicit
// "buffer seeded?" flag instead of a step count.
struct RefSGD {
  SGDOptions o;
  double lr, wd;
  std::vector<double> buf;
  bool seeded = false;

  RefSGD(SGDOptions opt, double lr_, double wd_, std::size_t n) : o(opt), lr(lr_), wd(wd_), buf(n, 0.0) {}

  void step(std::vector<double>& p, const std::vector<double>& grad) {
    std::vector<double> d(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) d[i] = grad[i] + wd * p[i];
    if (o.momentum != 0) {
      for (std::size_t i = 0; i < p.size(); ++i)
        buf[i] = seeded ? o.momentum * buf[i] + (1 - o.dampening) * d[i] : d[i];
      seeded = true;
      for (std::size_t i = 0; i < p.size(); ++i) d[i] = o.nesterov ? d[i] + o.momentum * buf[i] : buf[i];
    }
    for (std::size_t i = 0; i < p.size(); ++i) p[i] -= lr * d[i];
  }
};

template <class T>
double sgd_tolerance() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-13;
}

}  // namespace

TEST_CASE_TEMPLATE("SGD follows PyTorch's trajectory over 10 changing gradients", T, float, double) {
  SGDOptions o;
  o.lr = 0.05;
  SUBCASE("plain") {}
  SUBCASE("weight decay") { o.weight_decay = 0.2; }
  SUBCASE("momentum") { o.momentum = 0.9; }
  SUBCASE("momentum with dampening") {
    o.momentum = 0.9;
    o.dampening = 0.3;
  }
  SUBCASE("nesterov") {
    o.momentum = 0.8;
    o.nesterov = true;
  }
  SUBCASE("nesterov with weight decay") {
    o.momentum = 0.5;
    o.nesterov = true;
    o.weight_decay = 0.01;
  }

  std::vector<double> ref_p = sgd_start_values(7, 0.0);
  Var<T> p = make_param<T>(ref_p);
  SGD<T> sgd({p}, o);
  RefSGD ref(o, o.lr, o.weight_decay, ref_p.size());
  for (int step = 1; step <= 10; ++step) {
    set_grad(p, step, sgd_grad_at);
    sgd.step();
    ref.step(ref_p, ref_grad(ref_p, step, sgd_grad_at));
  }
  check_close(p, ref_p, "SGD after 10 steps", sgd_tolerance<T>());
}

TEST_CASE_TEMPLATE("SGD: groups have their own lr; undefined grads are skipped", T, float, double) {
  SGDOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  std::vector<double> a0 = sgd_start_values(5, 0.0), b0 = sgd_start_values(3, 1.0), c0 = sgd_start_values(4, -1.0),
                      d0 = sgd_start_values(2, 0.5);
  Var<T> a = make_param<T>(a0), b = make_param<T>(b0), c = make_param<T>(c0), late = make_param<T>(d0);
  SGD<T> sgd({a, c}, o);
  sgd.add_param_group({late, b}, 0.01, 0.1);

  RefSGD ra(o, 0.1, 0, a0.size()), rb(o, 0.01, 0.1, b0.size()), rlate(o, 0.01, 0.1, d0.size());
  for (int step = 1; step <= 10; ++step) {
    set_grad(a, step, sgd_grad_at);
    set_grad(b, step, sgd_grad_at);
    ra.step(a0, ref_grad(a0, step, sgd_grad_at));
    rb.step(b0, ref_grad(b0, step, sgd_grad_at));
    // `late` is first reached at step 6: its momentum buffer is seeded with that gradient.
    if (step >= 6) {
      set_grad(late, step, sgd_grad_at);
      rlate.step(d0, ref_grad(d0, step, sgd_grad_at));
    }
    sgd.step();
  }
  check_close(a, a0, "group 0", sgd_tolerance<T>());
  check_close(b, b0, "group 1", sgd_tolerance<T>());
  check_close(late, d0, "parameter first reached at step 6", sgd_tolerance<T>());
  check_close(c, c0, "parameter without grad", sgd_tolerance<T>());
  CHECK(sgd.state(0, 1).steps() == 0);
  CHECK(sgd.state(1, 0).steps() == 5);
}

TEST_CASE_TEMPLATE("SGD minimises a quadratic", T, float, double) {
  SGDOptions o;
  o.lr = 0.05;
  o.momentum = 0.9;
  o.nesterov = true;
  Var<T> p = make_param<T>(std::vector<double>(6, -4.0));
  SGD<T> sgd({p}, o);
  for (int step = 0; step < 300; ++step) {
    sgd.zero_grad();
    if (!p.grad().defined()) p.grad() = Tensor<T>::zeros(p.shape());
    for (std::int64_t i = 0; i < p.numel(); ++i) p.grad()[i] += 2 * (p.value()[i] - T(0.3) * static_cast<T>(i));
    sgd.step();
  }
  for (std::int64_t i = 0; i < p.numel(); ++i)
    CHECK(p.value()[i] == doctest::Approx(0.3 * static_cast<double>(i)).epsilon(1e-4).scale(1));
}

TEST_CASE_TEMPLATE("SGD state saved after 4 steps resumes identically", T, float, double) {
  SGDOptions o;
  o.lr = 0.05;
  o.momentum = 0.7;
  o.dampening = 0.1;
  std::vector<double> a0 = sgd_start_values(6, 0.0);
  Var<T> a = make_param<T>(a0);
  SGD<T> full({a}, o);
  for (int step = 1; step <= 10; ++step) {
    set_grad(a, step, sgd_grad_at);
    full.step();
  }

  Var<T> a1 = make_param<T>(a0);
  SGD<T> first({a1}, o);
  for (int step = 1; step <= 4; ++step) {
    set_grad(a1, step, sgd_grad_at);
    first.step();
  }
  std::vector<std::pair<std::string, Tensor<T>>> saved;
  for (auto& [name, t] : first.state_tensors()) saved.emplace_back(name, t.clone());
  REQUIRE(saved.size() == 2);
  CHECK(saved[0].first == "group0.param0.step");
  CHECK(saved[1].first == "group0.param0.momentum_buffer");

  auto resume = [&](bool load) {
    Var<T> a2 = make_param<T>(a0);
    a2.value().copy_from(a1.value());
    SGD<T> second({a2}, o);
    if (load)  // by hand, as a checkpoint reader does: copy into the returned tensors
      for (auto& [name, t] : second.state_tensors())
        for (auto& [saved_name, s] : saved)
          if (saved_name == name) t.copy_from(s);
    for (int step = 5; step <= 10; ++step) {
      set_grad(a2, step, sgd_grad_at);
      second.step();
    }
    return a2;
  };
  CHECK(resume(true).value().to_vector() == a.value().to_vector());  // bit-identical
  CHECK(resume(false).value().to_vector() != a.value().to_vector());
}

TEST_CASE("SGD without momentum keeps only the step count; invalid options throw") {
  Var<float> a = make_param<float>({1, 2});
  SGD<float> plain({a});
  CHECK(plain.lr() == doctest::Approx(1e-3));
  REQUIRE(plain.state_tensors().size() == 1);
  CHECK(plain.state_tensors()[0].first == "group0.param0.step");

  SGDOptions bad;
  bad.nesterov = true;
  CHECK_THROWS_WITH_AS(SGD<float>({a}, bad), doctest::Contains("nesterov"), gan::Error);
  bad.momentum = 0.9;
  bad.dampening = 0.1;
  CHECK_THROWS_WITH_AS(SGD<float>({a}, bad), doctest::Contains("dampening == 0"), gan::Error);
  SGDOptions negative;
  negative.lr = -0.1;
  CHECK_THROWS_WITH_AS(SGD<float>({a}, negative), doctest::Contains("SGD: invalid learning rate"), gan::Error);
  negative.lr = 0.1;
  negative.momentum = -1;
  CHECK_THROWS_WITH_AS(SGD<float>({a}, negative), doctest::Contains("momentum"), gan::Error);
}
