// The fixture reader itself: format, errors, and one case recomputed with plain loops so a
// reader bug cannot hide behind an op bug (both would have to be wrong the same way).
#include <doctest/doctest.h>

#include "../reference/fixture.hpp"

using gan::Shape;
using gan::Tensor;
using gan::test::check_close;
using gan::test::load_ref;

TEST_CASE("reference fixture: linear recomputed with plain loops") {
  auto ref = load_ref("linear");
  Tensor<float> x = ref["x"], w = ref["w"], b = ref["b"], y = ref["y"];
  REQUIRE(x.shape() == Shape{3, 10});
  REQUIRE(w.shape() == Shape{7, 10});
  REQUIRE(y.shape() == Shape{3, 7});
  Tensor<double> ours = Tensor<double>::empty(y.shape());
  for (int n = 0; n < 3; ++n)
    for (int o = 0; o < 7; ++o) {
      double s = b[o];
      for (int i = 0; i < 10; ++i) s += double(x[n * 10 + i]) * w[o * 10 + i];
      ours[n * 7 + o] = s;
    }
  // Double accumulation of float32 inputs vs torch's float64 result rounded to float32.
  check_close("linear.y (plain loops)", ours, y, 1e-6, 1e-7);
}

TEST_CASE("reference fixture: scalars, names and errors") {
  auto ref = load_ref("loss_mse");
  CHECK(ref.get("loss").numel() == 1);  // rank 0 in the file
  CHECK(ref.scalar("gy") == doctest::Approx(0.75));
  CHECK(ref.has("gx"));
  CHECK_THROWS_WITH_AS(ref.get("nope"), doctest::Contains("holds: x, t, loss, gy, gx"), gan::Error);
  CHECK_THROWS_WITH_AS(load_ref("no_such_case"),
                       doctest::Contains("run /usr/bin/python3 tests/reference/make_refs.py"), gan::Error);
  // get() returns a copy: writing into it leaves the fixture intact.
  Tensor<float> t = ref.get("x");
  const float first = t[0];
  t[0] = first + 1;
  CHECK(ref.get("x")[0] == first);
}
