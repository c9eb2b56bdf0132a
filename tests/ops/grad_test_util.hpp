#pragma once
// Helpers shared by the finite-difference gradient tests of the ops.

#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "gan/autograd/grad_check.hpp"
#include "gan/core/random.hpp"
#include "gan/core/shape.hpp"

namespace gan_test {

// A double leaf with entries uniform in [lo, hi).
inline gan::Var<double> uniform_leaf(const gan::Shape& s, std::uint64_t seed, double lo = -2, double hi = 2) {
  gan::Rng rng(seed);
  return gan::Var<double>(gan::rand<double>(s, lo, hi, rng), true);
}

// f's gradient with respect to every input matches central differences, and at least one
// entry was checked (a check of nothing would pass).
template <class F>
void expect_grad_ok(F&& f, const std::vector<gan::Var<double>>& inputs, gan::GradCheckOptions options = {}) {
  const gan::GradCheckResult r = gan::grad_check(f, inputs, options);
  CHECK_MESSAGE(r.ok, r.worst);
  CHECK(r.checked > 0);
}

}  // namespace gan_test
