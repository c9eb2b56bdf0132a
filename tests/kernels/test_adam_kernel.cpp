// kernels::adam_update against the formula in double, element by element, on arrays whose
// length is not a multiple of the vector width or of the parallel chunk, so the vector loop,
// the scalar tail and a chunk boundary all run. The PyTorch parity tests (tests/parity)
// use small tensors that only reach the tail; this closes the chain to the vector path.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/core/parallel.hpp"
#include "gan/core/random.hpp"
#include "gan/kernels/adam.hpp"

namespace {

struct Case {
  double beta1, wd;
  bool decoupled, amsgrad;
};

void check_adam(const Case& k, std::int64_t n, int threads) {
  CAPTURE(k.beta1);
  CAPTURE(k.wd);
  CAPTURE(k.decoupled);
  CAPTURE(k.amsgrad);
  CAPTURE(n);
  CAPTURE(threads);
  gan::set_num_threads(threads);
  gan::Rng rng(static_cast<std::uint64_t>(n * 7 + threads));
  std::vector<float> p(static_cast<std::size_t>(n)), m(p.size()), v(p.size()), vmax(p.size());
  for (float& x : p) x = static_cast<float>(rng.uniform(-1.0, 1.0));
  std::vector<double> pd(p.begin(), p.end()), md(p.size(), 0.0), vd(p.size(), 0.0), vmaxd(p.size(), 0.0);
  const double lr = 1e-2, beta2 = 0.999, eps = 1e-8;
  for (int t = 1; t <= 5; ++t) {
    std::vector<float> g(p.size());
    for (float& x : g) x = static_cast<float>(rng.uniform(-1.0, 1.0) * (t % 2 ? 1.0 : 1e-3));
    gan::kernels::AdamCoefficients<float> c;
    c.l2 = static_cast<float>(k.decoupled ? 0 : k.wd);
    c.shrink = static_cast<float>(k.decoupled ? 1 - lr * k.wd : 1);
    c.w = static_cast<float>(1 - k.beta1);
    c.lerp_from_end = !(c.w < 0.5f);
    c.beta2 = static_cast<float>(beta2), c.one_minus_beta2 = static_cast<float>(1 - beta2);
    const double bc1 = 1 - std::pow(k.beta1, t), bc2_sqrt = std::sqrt(1 - std::pow(beta2, t));
    c.neg_step_size = static_cast<float>(-lr / bc1);
    c.bias_correction2_sqrt = static_cast<float>(bc2_sqrt);
    c.eps = static_cast<float>(eps);
    c.amsgrad = k.amsgrad;
    gan::kernels::adam_update(p.data(), g.data(), m.data(), v.data(), k.amsgrad ? vmax.data() : nullptr, n, c);
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double gi = g[i] + (k.decoupled ? 0 : k.wd) * pd[i];
      pd[i] *= k.decoupled ? 1 - lr * k.wd : 1;
      md[i] = k.beta1 * md[i] + (1 - k.beta1) * gi;
      vd[i] = beta2 * vd[i] + (1 - beta2) * gi * gi;
      vmaxd[i] = std::max(vmaxd[i], vd[i]);
      pd[i] -= lr / bc1 * md[i] / (std::sqrt(k.amsgrad ? vmaxd[i] : vd[i]) / bc2_sqrt + eps);
    }
  }
  std::int64_t bad = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const bool close = std::abs(p[i] - pd[i]) <= 1e-5 + 1e-5 * std::abs(pd[i]) &&
                       std::abs(m[i] - md[i]) <= 1e-6 + 1e-5 * std::abs(md[i]) && std::abs(v[i] - vd[i]) <= 1e-9 + 1e-5 * vd[i];
    if (!close && ++bad <= 3) {
      INFO("element ", i, ": p ", p[i], " vs ", pd[i], ", m ", m[i], " vs ", md[i], ", v ", v[i], " vs ", vd[i]);
      CHECK(close);
    }
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("kernels adam_update: vector loop, tail and chunk edges match the formula in double") {
  const int restore = gan::max_threads();
  const Case cases[] = {{0.5, 0, false, false}, {0.9, 0, false, false}, {0.9, 0.1, false, false},
                        {0.9, 0.1, true, false}, {0.5, 0, false, true}};
  for (const Case& k : cases)
    for (std::int64_t n : {std::int64_t{1}, std::int64_t{7}, std::int64_t{16 * 9 + 5}, std::int64_t(gan::simd::kChunk) * 2 + 19})
      for (int threads : {1, 2}) check_adam(k, n, threads);
  gan::set_num_threads(restore);
}
