#pragma once
// Finite-difference gradient check, shipped with the library so users can check their own
// ops and blocks (dlib's test_layer idea). Run it in double.
//
// f() recomputes the output from the current values of `inputs` (Vars it captures); the
// check perturbs those values in place. L = sum(r * f()) with a fixed random r, so every
// output element takes part. f must be deterministic between calls (reseed dropout inside).

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/core/random.hpp"

namespace gan {

struct GradCheckOptions {
  double eps = 1e-6;         // step of the central difference
  double atol = 1e-6;        // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-4;
  bool four_point = false;   // O(eps^4) stencil for ill-conditioned ops
  std::int64_t max_checks_per_input = 400;  // larger inputs are checked on a spread subset
  std::uint64_t seed = 1234;
};

struct GradCheckResult {
  bool ok = true;
  double max_abs_error = 0;
  std::int64_t checked = 0;
  std::string worst;  // "input 1 [17]: analytic 0.31 numeric 0.29"
};

template <class F>
GradCheckResult grad_check(F&& f, const std::vector<Var<double>>& inputs, const GradCheckOptions& opt = {}) {
  Var<double> out = f();
  Rng rng(opt.seed);
  Tensor<double> r = randn<double>(out.shape(), rng);
  auto projected = [&] {
    NoGradGuard no_grad;
    const Tensor<double> y = f().value();
    check_same_shape(y.shape(), r.shape(), "grad_check: f() changed its output shape");
    double s = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) s += r[i] * y[i];
    return s;
  };

  for (Var<double> in : inputs) in.grad() = Tensor<double>();  // handles share state
  out.backward(r);

  GradCheckResult result;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Var<double> in = inputs[k];
    const std::int64_t n = in.numel();
    const std::int64_t stride = n > opt.max_checks_per_input ? (n + opt.max_checks_per_input - 1) / opt.max_checks_per_input : 1;
    for (std::int64_t i = 0; i < n; i += stride) {
      double& x = in.value()[i];
      const double x0 = x;
      auto at = [&](double delta) { x = x0 + delta; double v = projected(); x = x0; return v; };
      double numeric;
      if (opt.four_point) {
        numeric = (-at(2 * opt.eps) + 8 * at(opt.eps) - 8 * at(-opt.eps) + at(-2 * opt.eps)) / (12 * opt.eps);
      } else {
        numeric = (at(opt.eps) - at(-opt.eps)) / (2 * opt.eps);
      }
      const double analytic = in.grad().defined() ? in.grad()[i] : 0.0;
      const double err = std::abs(analytic - numeric);
      ++result.checked;
      if (err > result.max_abs_error) {
        result.max_abs_error = err;
        std::ostringstream os;
        os << "input " << k << " [" << i << "]: analytic " << analytic << " numeric " << numeric;
        result.worst = os.str();
      }
      if (err > opt.atol + opt.rtol * std::abs(numeric)) result.ok = false;
    }
  }
  return result;
}

}  // namespace gan
