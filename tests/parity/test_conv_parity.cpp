// conv2d, conv_transpose2d and linear against torch.nn.functional (fixtures conv2d_*.bin,
// conv_transpose2d_*.bin, linear.bin from tests/reference/make_refs.py): output and the
// gradients w.r.t. input, weight and bias of (y * gy).sum(), on odd shapes (N = 2, C = 3,
// 7x9 or 5x7 maps), stride 2 on odd sizes, dilation 2, k1, no bias, output_padding 1, and
// the 1x1 -> 4x4 first layer of a DCGAN generator.
//
// Tolerance: rtol 1e-5 with atol 1e-5. An output or input-gradient entry is a float dot
// product of up to IC*K*K = 48 O(0.3) terms whose sum can land near 0; the weight gradient
// sums N*OH*OW = 126 products of O(1) values, whose float rounding reaches ~1e-6 absolute.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "../reference/fixture.hpp"
#include "gan/ops/conv2d.hpp"
#include "gan/ops/conv_transpose2d.hpp"
#include "gan/ops/linear.hpp"

using gan::Var;
using gan::test::check_close;
using gan::test::load_ref;
using gan::test::RefFile;

namespace {
constexpr double kConvRtol = 1e-5, kConvAtol = 1e-5;

// Runs op(x, w, b) with everything requiring grad; b is undefined when the case has none.
template <class Op>
void check_conv_case(const std::string& case_name, Op op) {
  INFO("fixture ", case_name);
  RefFile ref = load_ref(case_name);
  const bool bias = ref.has("b");
  Var<float> x(ref["x"], true), w(ref["w"], true);
  Var<float> b = bias ? Var<float>(ref["b"], true) : Var<float>();
  Var<float> y = op(x, w, b);
  check_close(case_name + " y", y.value(), ref["y"], kConvRtol, kConvAtol);
  y.backward(ref["gy"]);
  check_close(case_name + " gx", x.grad(), ref["gx"], kConvRtol, kConvAtol);
  check_close(case_name + " gw", w.grad(), ref["gw"], kConvRtol, kConvAtol);
  if (bias) check_close(case_name + " gb", b.grad(), ref["gb"], kConvRtol, kConvAtol);
}

void check_conv2d(const std::string& case_name, std::int64_t stride, std::int64_t padding, std::int64_t dilation) {
  check_conv_case(case_name, [&](const Var<float>& x, const Var<float>& w, const Var<float>& b) {
    gan::Conv2dParams p;
    p.stride = stride;
    p.padding = padding;
    p.dilation = dilation;
    return gan::conv2d(x, w, b, p);
  });
}

void check_conv_transpose2d(const std::string& case_name, std::int64_t stride, std::int64_t padding,
                            std::int64_t output_padding) {
  check_conv_case(case_name, [&](const Var<float>& x, const Var<float>& w, const Var<float>& b) {
    gan::ConvTranspose2dParams p;
    p.stride = stride;
    p.padding = padding;
    p.output_padding = output_padding;
    return gan::conv_transpose2d(x, w, b, p);
  });
}
}  // namespace

TEST_CASE("parity conv2d: k3 s1 p1, k4 s2 p1, k1, dilation 2, no bias s2 p0") {
  check_conv2d("conv2d_k3s1p1", 1, 1, 1);
  check_conv2d("conv2d_k4s2p1", 2, 1, 1);
  check_conv2d("conv2d_k1", 1, 0, 1);
  check_conv2d("conv2d_dil2", 1, 2, 2);
  check_conv2d("conv2d_nobias_s2p0", 2, 0, 1);
}

TEST_CASE("parity conv_transpose2d: k4 s2 p1, k3 s2 p1 output_padding 1, k4 s1 p0 on 1x1") {
  check_conv_transpose2d("conv_transpose2d_k4s2p1", 2, 1, 0);
  check_conv_transpose2d("conv_transpose2d_k3s2p1op1", 2, 1, 1);
  check_conv_transpose2d("conv_transpose2d_k4s1p0_1x1", 1, 0, 0);
}

TEST_CASE("parity linear: (3, 10) x (7, 10)^T + b") {
  check_conv_case("linear", [](const Var<float>& x, const Var<float>& w, const Var<float>& b) {
    return gan::linear(x, w, b);
  });
}
