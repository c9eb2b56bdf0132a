#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "conv_test_util.hpp"

using namespace conv_test;

namespace {

// The hand-picked edge cases; the randomized sweep below adds more.
std::vector<ConvShape> conv_edge_cases() {
  return {
      make_shape(1, 1, 1, 1, 1, 1),                  // 1x1 kernel on a 1x1 image
      make_shape(2, 17, 5, 7, 19, 1),                // pointwise fast path, odd channels
      make_shape(3, 3, 7, 7, 5, 1, 2),               // 1x1 stride 2: not pointwise
      make_shape(1, 3, 5, 5, 2, 1, 1, 1),            // 1x1 with padding: not pointwise
      make_shape(3, 5, 9, 7, 6, 3, 1, 1),            // odd H/W, batch > threads
      make_shape(2, 3, 28, 28, 8, 4, 2, 1),          // DCGAN D: 28 -> 14
      make_shape(1, 5, 7, 7, 3, 4, 2, 1),            // stride 2, odd input, padding 1
      make_shape(2, 2, 9, 11, 3, 3, 2, 0),           // stride 2, odd input, padding 0
      make_shape(2, 3, 8, 9, 4, 3, 1, 2, 2),         // dilation 2
      make_shape(1, 17, 6, 5, 3, 5, 1, 2),           // k5
      make_shape(2, 2, 7, 9, 3, 7, 1, 3),            // k7
      make_shape(1, 2, 9, 9, 2, 9, 1, 4),            // k9 same-size
      make_shape(1, 3, 9, 9, 2, 9),                  // k9 -> 1x1 output
      make_shape(2, 3, 3, 3, 2, 5, 1, 1),            // kernel larger than the image
      make_shape(2, 3, 8, 7, 4, {3, 5}, {2, 1}, {1, 2}, {1, 2}),  // every axis different
      make_shape(2, 4, 10, 10, 3, 3, 3, 0, 2),       // stride 3 with dilation
      make_shape(3, 5, 1, 1, 4, 1),                  // pointwise on 1x1 images: one batched GEMM
      make_shape(3, 8, 4, 4, 1, 4),                  // DCGAN D's last conv: 4x4 -> 1x1, no im2col
      make_shape(2, 3, 4, 4, 2, 4, 2),               // whole-image kernel with stride 2
      make_shape(2, 3, 1, 5, 4, {1, 5}),             // whole-image, non-square
      make_shape(2, 3, 3, 5, 4, {1, 5}),             // pointwise on h, whole on w: needs im2col
      make_shape(2, 3, 4, 4, 2, 4, 1, 1),            // whole-image kernel but padded: needs im2col
  };
}

std::vector<ConvShape> transposed_edge_cases() {
  return {
      make_shape(1, 1, 1, 1, 1, 1, 1, 0, 1, 0, true),
      make_shape(2, 19, 5, 7, 17, 1, 1, 0, 1, 0, true),  // pointwise
      make_shape(2, 5, 1, 1, 7, 4, 1, 0, 1, 0, true),    // DCGAN G: 1x1 -> 4x4
      make_shape(3, 6, 1, 1, 4, 7, 1, 0, 1, 0, true),    // 28x28 DCGAN G: 1x1 -> 7x7
      make_shape(2, 3, 1, 1, 2, 3, 2, 0, 1, 1, true),    // 1x1 with output_padding: needs col2im
      make_shape(2, 3, 1, 1, 2, 3, 1, 1, 1, 0, true),    // 1x1 with padding
      make_shape(3, 4, 1, 1, 6, 1, 1, 0, 1, 0, true),    // pointwise on 1x1 images
      make_shape(3, 4, 7, 7, 3, 4, 2, 1, 1, 0, true),    // DCGAN G: 7 -> 14
      make_shape(1, 3, 5, 6, 2, 3, 2, 1, 1, 1, true),    // output_padding 1
      make_shape(2, 2, 4, 5, 3, 3, 3, 0, 1, 2, true),    // stride 3, output_padding 2
      make_shape(2, 3, 5, 4, 2, 3, 1, 1, 2, 1, true),    // output_padding >= stride, < dilation
      make_shape(1, 2, 3, 3, 3, 5, 2, 2, 1, 0, true),    // k5
      make_shape(2, 3, 4, 3, 2, 7, 1, 3, 1, 0, true),    // k7
      make_shape(1, 2, 2, 3, 2, 9, 2, 4, 1, 1, true),    // k9
      make_shape(2, 3, 6, 5, 4, {3, 4}, {2, 1}, {1, 0}, {2, 1}, {1, 0}, true),
  };
}

// Random shapes with non-empty outputs and a reference cost the test can afford.
std::vector<ConvShape> random_cases(bool transposed, int count, std::uint64_t seed) {
  gan::Rng rng(seed);
  const std::int64_t channels[] = {1, 2, 3, 5, 17};
  const std::int64_t kernels[] = {1, 3, 4, 5, 7, 9};
  auto pick = [&](const std::int64_t* v, std::int64_t n) { return v[rng.randint(0, n)]; };
  std::vector<ConvShape> out;
  while (static_cast<int>(out.size()) < count) {
    const std::int64_t kh = pick(kernels, 6), kw = rng.randint(0, 4) == 0 ? pick(kernels, 6) : kh;
    const std::int64_t s = rng.randint(1, 4), d = rng.randint(1, 3);
    ConvShape c = make_shape(rng.randint(1, 4), pick(channels, 5), rng.randint(1, 14), rng.randint(1, 14),
                             pick(channels, 5), {kh, kw}, s, rng.randint(0, std::max<std::int64_t>(kh, kw) / 2 + 2), d,
                             transposed ? rng.randint(0, std::max(s, d)) : 0, transposed);
    c.pad_w = std::min(c.pad_w, (kw - 1) * d);  // keep transposed outputs non-empty more often
    if (c.out_h() < 1 || c.out_w() < 1) continue;
    const double cost = static_cast<double>(c.output_shape().numel()) * c.weight_shape().numel() / c.out_c;
    if (cost > 3e5) continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("ConvShape output sizes follow PyTorch's formulas") {
  CHECK(make_shape(8, 1, 28, 28, 64, 4, 2, 1).out_h() == 14);
  CHECK(make_shape(8, 1, 7, 7, 64, 4, 2, 1).out_h() == 3);  // floor((7 + 2 - 3 - 1) / 2) + 1
  CHECK(make_shape(1, 1, 5, 5, 1, 3, 1, 2, 2).out_w() == 5);
  CHECK(make_shape(1, 1, 2, 2, 1, 4).out_h() == -1);           // floored, so validate() sees it
  CHECK(make_shape(1, 1, 7, 7, 1, 4, 2, 1, 1, 0, true).out_h() == 14);
  CHECK(make_shape(1, 1, 1, 1, 1, 4, 1, 0, 1, 0, true).out_h() == 4);
  CHECK(make_shape(1, 1, 5, 5, 1, 3, 2, 1, 1, 1, true).out_w() == 10);
  ConvShape t = make_shape(2, 3, 5, 4, 6, 3, 1, 1, 2, 1, true);
  CHECK(t.output_shape() == Shape{2, 6, 8, 7});
  CHECK(t.weight_shape() == Shape{3, 6, 3, 3});
  CHECK(t.as_conv().input_shape() == t.output_shape());
}

TEST_CASE("ConvShape::validate rejects bad geometry with a clear message") {
  using doctest::Contains;
  CHECK_NOTHROW(make_shape(1, 1, 5, 5, 1, 3).validate("conv2d"));
  CHECK_THROWS_WITH_AS(make_shape(1, 1, 5, 5, 1, 3, 0).validate("conv2d"), Contains("conv2d: stride must be >= 1, got 0"),
                       gan::Error);
  CHECK_THROWS_WITH_AS(make_shape(1, 1, 5, 5, 1, 3, 1, -1).validate("x"), Contains("padding must be >= 0"), gan::Error);
  CHECK_THROWS_WITH_AS(make_shape(1, 1, 5, 5, 1, 3, 1, 0, 0).validate("x"), Contains("dilation must be >= 1"), gan::Error);
  CHECK_THROWS_WITH_AS(make_shape(1, 1, 5, 5, 1, 0).validate("x"), Contains("kernel size must be >= 1"), gan::Error);
  CHECK_THROWS_WITH_AS(make_shape(1, 0, 5, 5, 1, 3).validate("x"), Contains("channel counts"), gan::Error);
  CHECK_THROWS_WITH_AS(make_shape(1, 1, 2, 2, 1, 4).validate("conv2d"),
                       Contains("input (1, 1, 2, 2) is too small for kernel 4"), gan::Error);
  CHECK_THROWS_WITH_AS(make_shape(1, 1, 2, 2, 1, 3, 2, 0, 2, 2, true).validate("convT"),
                       Contains("output_padding (2) must be smaller than either stride (2) or dilation (2)"), gan::Error);
  CHECK_NOTHROW(make_shape(1, 1, 2, 2, 1, 3, 1, 0, 2, 1, true).validate("convT"));  // < dilation is enough
  ConvShape padded = make_shape(1, 1, 5, 5, 1, 3, 2);
  padded.output_padding_h = 1;
  CHECK_THROWS_WITH_AS(padded.validate("conv2d"), Contains("output_padding applies to transposed"), gan::Error);
  CHECK_THROWS_WITH_AS(make_shape(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, true).validate("convT"),
                       Contains("the output would be -1x-1"), gan::Error);
}

TEST_CASE_TEMPLATE("the reference conv matches a hand-computed example", T, float, double) {
  // x = 1..9 as a 3x3 image, w = [[1, 0], [0, -1]], b = 0.5: y[i][j] = x[i][j] - x[i+1][j+1] + 0.5 = -3.5.
  std::vector<T> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w = {1, 0, 0, -1}, b = {0.5}, y(4);
  ref::conv2d_forward(y.data(), x.data(), w.data(), b.data(), make_shape(1, 1, 3, 3, 1, 2));
  for (T v : y) CHECK(v == T(-3.5));
  // stride 2, padding 1 on the same image: taps (kh, kw) land on x[2i-1+kh][2j-1+kw].
  ref::conv2d_forward(y.data(), x.data(), w.data(), static_cast<const T*>(nullptr), make_shape(1, 1, 3, 3, 1, 2, 2, 1));
  CHECK(y == std::vector<T>{-1, -3, -7, -4});
  // Transposed, 1x1 input: the output is the filter scaled by x, plus the bias.
  std::vector<T> one = {2}, yt(4);
  ref::conv_transpose2d_forward(yt.data(), one.data(), w.data(), b.data(), make_shape(1, 1, 1, 1, 1, 2, 1, 0, 1, 0, true));
  CHECK(yt == std::vector<T>{2.5, 0.5, 0.5, -1.5});
}

TEST_CASE("the reference kernels are adjoint: <conv(x), y> == <x, conv^T(y)>") {
  gan::Rng rng(7);
  for (const ConvShape& s : {make_shape(2, 3, 7, 6, 4, 3, 2, 1, 2), make_shape(1, 2, 5, 5, 3, 4, 2, 1, 1, 1, true)}) {
    auto x = random_vector<double>(s.input_shape().numel(), rng);
    auto w = random_vector<double>(s.weight_shape().numel(), rng);
    auto v = random_vector<double>(s.output_shape().numel(), rng);
    std::vector<double> y(v.size()), xt(x.size(), 0.0);
    if (s.transposed) {
      ref::conv_transpose2d_forward(y.data(), x.data(), w.data(), static_cast<const double*>(nullptr), s);
      ref::conv_transpose2d_backward_data(xt.data(), v.data(), w.data(), s);
    } else {
      ref::conv2d_forward(y.data(), x.data(), w.data(), static_cast<const double*>(nullptr), s);
      ref::conv2d_backward_data(xt.data(), v.data(), w.data(), s);
    }
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < y.size(); ++i) lhs += y[i] * v[i];
    for (std::size_t i = 0; i < x.size(); ++i) rhs += x[i] * xt[i];
    CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
  }
}

TEST_CASE("the transposed reference equals the conv reference's data gradient") {
  gan::Rng rng(11);
  ConvShape t = make_shape(2, 3, 4, 5, 2, 4, 2, 1, 1, 1, true);
  ConvShape c = t.as_conv();
  REQUIRE(c.output_shape() == t.input_shape());
  auto x = random_vector<double>(t.input_shape().numel(), rng);
  auto w = random_vector<double>(t.weight_shape().numel(), rng);
  std::vector<double> y(static_cast<std::size_t>(t.output_shape().numel())), dx(y.size(), 0.0);
  ref::conv_transpose2d_forward(y.data(), x.data(), w.data(), static_cast<const double*>(nullptr), t);
  ref::conv2d_backward_data(dx.data(), x.data(), w.data(), c);
  expect_close(y, dx, "reference identity");
}

TEST_CASE_TEMPLATE("conv2d kernels match the reference on edge cases", T, float, double) {
  gan::Rng rng(1);
  for (const ConvShape& s : conv_edge_cases()) {
    check_against_reference<T>(s, true, rng);
    check_against_reference<T>(s, false, rng);
  }
}

TEST_CASE_TEMPLATE("conv2d kernels match the reference on a random sweep", T, float, double) {
  gan::Rng rng(2);
  int i = 0;
  for (const ConvShape& s : random_cases(false, 40, sizeof(T))) check_against_reference<T>(s, ++i % 3 != 0, rng);
}

TEST_CASE_TEMPLATE("conv_transpose2d kernels match the reference on edge cases", T, float, double) {
  gan::Rng rng(3);
  for (const ConvShape& s : transposed_edge_cases()) {
    check_against_reference<T>(s, true, rng);
    check_against_reference<T>(s, false, rng);
  }
}

TEST_CASE_TEMPLATE("conv_transpose2d kernels match the reference on a random sweep", T, float, double) {
  gan::Rng rng(4);
  int i = 0;
  for (const ConvShape& s : random_cases(true, 40, 100 + sizeof(T))) check_against_reference<T>(s, ++i % 3 != 0, rng);
}

TEST_CASE("conv2d kernels give the same result on one thread and on all") {
  gan::Rng rng(5);
  const ConvShape s = make_shape(5, 3, 9, 9, 4, 3, 2, 1);
  auto x = random_vector<double>(s.input_shape().numel(), rng);
  auto dy = random_vector<double>(s.output_shape().numel(), rng);
  auto run = [&](int threads) {
    const int before = gan::max_threads();
    gan::set_num_threads(threads);
    std::vector<double> dw(static_cast<std::size_t>(s.weight_shape().numel()), 0.0), db(4, 0.0);
    k::conv2d_backward_weight(dw.data(), db.data(), dy.data(), x.data(), s);
    gan::set_num_threads(before);
    dw.insert(dw.end(), db.begin(), db.end());
    return dw;
  };
  expect_close(run(1), run(gan::max_threads()), "threads");
}

TEST_CASE("conv kernels refuse a ConvShape of the other kind") {
  std::vector<float> buf(64, 0.f);
  ConvShape t = make_shape(1, 1, 2, 2, 1, 2, 1, 0, 1, 0, true);
  CHECK_THROWS_AS(k::conv2d_forward(buf.data(), buf.data(), buf.data(), static_cast<const float*>(nullptr), t),
                  gan::Error);
  CHECK_THROWS_AS(k::conv_transpose2d_forward(buf.data(), buf.data(), buf.data(), static_cast<const float*>(nullptr),
                                              t.as_conv()),
                  gan::Error);
}
