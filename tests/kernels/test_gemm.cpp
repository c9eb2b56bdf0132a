// kernels::gemm against a plain triple loop in double: all four transpose combinations,
// alpha 1 / 0.75 and beta 0 / 1 / 0.5 (alpha 1 with beta 0 or 1 takes the micro-kernel path
// of kernels/gemm_tiles.hpp, the rest Eigen), odd sizes, k = 0, and products large enough to
// be split on 2 threads: few rows into column slabs (slab edges fall inside rows, not on
// them), few columns into row slabs (an odd row count: uneven slabs). The tile path's shapes
// cover vectors along C's columns and (few columns) along its rows, part-filled tiles and
// vector blocks (one of a whole vector and a part: 50 = 32 + 16 + 2), the fewest rows (4) and
// shallowest reduction (8) it takes, and less (the shallow products' row groups, whole and
// part-filled, and Eigen). With alpha 1, each also with a column bias (a linear layer's),
// which the tiles add as they store and the other paths first.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gan/core/parallel.hpp"
#include "gan/core/random.hpp"
#include "gan/kernels/gemm.hpp"

namespace {

using gan::kernels::Op;

std::vector<float> random_vector(std::int64_t size, gan::Rng& rng) {
  std::vector<float> v(static_cast<std::size_t>(size));
  for (float& x : v) x = static_cast<float>(rng.uniform(-1.0, 1.0));
  return v;
}

// a (m x k, or k x m when ta) times b (k x n, or n x k when tb), summed in double: the
// reference that every alpha, beta, bias and thread count of one shape and transpose shares.
std::vector<double> exact_product(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k,
                                  const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<double> product(static_cast<std::size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (std::int64_t p = 0; p < k; ++p)
        sum += double(a[std::size_t(ta ? p * m + i : i * k + p)]) * double(b[std::size_t(tb ? j * k + p : p * n + j)]);
      product[std::size_t(i * n + j)] = sum;
    }
  return product;
}

struct GemmCase {
  bool ta, tb;
  std::int64_t m, n, k;
  const std::vector<float>& a;
  const std::vector<float>& b;
  const std::vector<float>& bias;
  const std::vector<float>& c_start;
  const std::vector<double>& product;  // exact_product(ta, tb, m, n, k, a, b)
};

void check_gemm(const GemmCase& g, float alpha, float beta, int threads, bool with_bias) {
  CAPTURE(g.ta);
  CAPTURE(g.tb);
  CAPTURE(g.m);
  CAPTURE(g.n);
  CAPTURE(g.k);
  CAPTURE(alpha);
  CAPTURE(beta);
  CAPTURE(threads);
  CAPTURE(with_bias);
  std::vector<float> c = g.c_start;
  std::vector<double> want(c.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    want[i] = alpha * g.product[i] + (beta == 0.f ? 0.0 : double(beta) * c[i]) +
              (with_bias ? double(g.bias[i % std::size_t(g.n)]) : 0.0);
  if (beta == 0.f) std::fill(c.begin(), c.end(), std::nanf(""));  // beta 0 must not read C
  gan::set_num_threads(threads);
  gan::kernels::gemm(g.ta ? Op::transpose : Op::none, g.tb ? Op::transpose : Op::none, g.m, g.n, g.k, alpha,
                     g.a.data(), g.b.data(), beta, c.data(), with_bias ? g.bias.data() : nullptr);
  gan::set_num_threads(2);
  double worst = 0;
  for (std::size_t i = 0; i < c.size(); ++i) worst = std::max(worst, std::abs(c[i] - want[i]) / (1.0 + std::abs(want[i])));
  CHECK(worst < 1e-5 * std::sqrt(double(g.k) + 1));
}

}  // namespace

TEST_CASE("gemm matches a triple loop on odd shapes, every transpose, alpha, beta and bias, 1 and 2 threads") {
  const std::int64_t shapes[][3] = {{1, 1, 1},    {3, 5, 7},       {1, 17, 9},   {13, 1, 31},    {7, 6, 0},
                                    {17, 1000, 300}, {64, 6272, 100}, {5, 2049, 513}, {300, 40, 500}, {33, 100, 1300},
                                    {64, 100, 257}, {6, 40, 19},     {45, 5, 11},  {4, 33, 8},     {3, 200, 50}, {40, 50, 7},
                                    {64, 6272, 1}, {37, 21, 3}, {21, 37, 1}, {33, 50, 20}};
  for (const auto& s : shapes) {
    const std::int64_t m = s[0], n = s[1], k = s[2];
    gan::Rng rng(static_cast<std::uint64_t>(m * 131 + n * 17 + k));
    const std::vector<float> a = random_vector(m * k, rng), b = random_vector(k * n, rng);
    const std::vector<float> bias = random_vector(n, rng), c = random_vector(m * n, rng);
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        const std::vector<double> product = exact_product(ta, tb, m, n, k, a, b);
        const GemmCase g{ta, tb, m, n, k, a, b, bias, c, product};
        for (int threads : {1, 2})
          for (float alpha : {1.f, 0.75f})
            for (float beta : {0.f, 1.f, 0.5f})
              for (bool with_bias : {false, true})
                if (!with_bias || alpha == 1.f) check_gemm(g, alpha, beta, threads, with_bias);
      }
  }
}
