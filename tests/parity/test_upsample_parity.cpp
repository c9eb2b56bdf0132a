// Upsampling against F.interpolate (fixtures upsample_*.bin from
// tests/reference/make_refs.py): nearest x2 and to explicit sizes, bilinear and bicubic
// with align_corners=False to odd sizes, up and down, on a (2, 3, 5, 7) input. Output and
// the gradient of (y * gy).sum().
//
// Tolerance: rtol 1e-5 with atol 1e-6. Each output is a short weighted sum (<= 16 taps of
// O(1) values); the input gradient sums a few dozen such products at most.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "../reference/fixture.hpp"
#include "gan/ops/upsample.hpp"

using gan::Var;
using gan::test::check_close;
using gan::test::load_ref;

namespace {
constexpr double kUpsampleRtol = 1e-5, kUpsampleAtol = 1e-6;

template <class Op>
void check_resample(const std::string& case_name, Op op) {
  INFO("fixture ", case_name);
  auto ref = load_ref(case_name);
  Var<float> x(ref["x"], true);
  Var<float> y = op(x, ref.get("y").dim(2), ref.get("y").dim(3));
  check_close(case_name + " y", y.value(), ref["y"], kUpsampleRtol, kUpsampleAtol);
  y.backward(ref["gy"]);
  check_close(case_name + " gx", x.grad(), ref["gx"], kUpsampleRtol, kUpsampleAtol);
}
}  // namespace

TEST_CASE("parity upsample: nearest") {
  check_resample("upsample_nearest2",
                 [](const Var<float>& x, std::int64_t, std::int64_t) { return gan::upsample_nearest(x, 2); });
  auto to_size = [](const Var<float>& x, std::int64_t h, std::int64_t w) { return gan::upsample_nearest(x, h, w); };
  check_resample("upsample_nearest_9x11", to_size);
  check_resample("upsample_nearest_3x4", to_size);
}

TEST_CASE("parity upsample: bilinear, align_corners=False") {
  auto op = [](const Var<float>& x, std::int64_t h, std::int64_t w) { return gan::upsample_bilinear(x, h, w); };
  check_resample("upsample_bilinear_10x14", op);
  check_resample("upsample_bilinear_9x13", op);
  check_resample("upsample_bilinear_3x4", op);
}

TEST_CASE("parity upsample: bicubic, align_corners=False") {
  auto op = [](const Var<float>& x, std::int64_t h, std::int64_t w) { return gan::upsample_bicubic(x, h, w); };
  check_resample("upsample_bicubic_11x9", op);
  check_resample("upsample_bicubic_3x4", op);
}
