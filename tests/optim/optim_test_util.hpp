#pragma once
// Helpers shared by the optimizer tests: a parameter from values, the gradient of a test
// function written into a parameter's grad (and the same gradient for a double reference),
// and a max-difference check against a reference trajectory. Each test file keeps its own
// gradient function and tolerance and passes them in.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gan/autograd/variable.hpp"
#include "gan/core/tensor.hpp"

namespace gan_test {

// The test gradient at parameter value p, element i, on a given step.
using GradFn = double (*)(double p, int step, std::size_t i);

// A 1-D leaf parameter holding `values`.
template <class T>
gan::Var<T> make_param(const std::vector<double>& values) {
  gan::Tensor<T> t = gan::Tensor<T>::empty(gan::Shape{static_cast<std::int64_t>(values.size())});
  for (std::size_t i = 0; i < values.size(); ++i) t[static_cast<std::int64_t>(i)] = static_cast<T>(values[i]);
  return gan::parameter(t);
}

// Writes grad_at(p, step) into p's grad, as a backward pass would.
template <class T>
void set_grad(gan::Var<T>& p, int step, GradFn grad_at) {
  if (!p.grad().defined()) p.grad() = gan::Tensor<T>::zeros(p.shape());
  for (std::int64_t i = 0; i < p.numel(); ++i)
    p.grad()[i] = static_cast<T>(grad_at(static_cast<double>(p.value()[i]), step, static_cast<std::size_t>(i)));
}

// The same gradient for a reference parameter held in double.
inline std::vector<double> ref_grad(const std::vector<double>& p, int step, GradFn grad_at) {
  std::vector<double> g(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) g[i] = grad_at(p[i], step, i);
  return g;
}

// Checks that every value of p is within tol of the reference.
template <class T>
void check_close(const gan::Var<T>& p, const std::vector<double>& expected, const std::string& what, double tol) {
  double maxdiff = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    maxdiff = std::max(maxdiff, std::abs(static_cast<double>(p.value()[static_cast<std::int64_t>(i)]) - expected[i]));
  CHECK_MESSAGE(maxdiff <= tol, what, ": maxdiff ", maxdiff, ", first value ", p.value()[0], " vs ", expected[0]);
}

}  // namespace gan_test
