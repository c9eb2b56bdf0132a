#include <doctest/doctest.h>

#include <cstdint>

#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"

using gan::Shape;
using gan::Tensor;

TEST_CASE_TEMPLATE("tensor storage is 64-byte aligned and zero-initialised", T, float, double) {
  for (std::int64_t n : {1, 3, 17, 1000, 4097}) {
    auto t = Tensor<T>::zeros(Shape{n});
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    for (std::int64_t i = 0; i < n; ++i) REQUIRE(t[i] == T(0));
  }
}

TEST_CASE("reshape is a view, clone is a copy") {
  auto t = Tensor<float>::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  auto v = t.reshape({3, -1});
  CHECK(v.shape() == Shape{3, 2});
  v[0] = 42;
  CHECK(t[0] == 42);
  auto c = t.clone();
  c[1] = -1;
  CHECK(t[1] == 2);
}

TEST_CASE("reshape with the wrong element count names both shapes") {
  auto t = Tensor<float>::zeros(Shape{2, 3});
  CHECK_THROWS_WITH_AS(t.reshape({4, 2}), doctest::Contains("(2, 3)"), gan::Error);
  CHECK_THROWS_WITH_AS(t.reshape({4, 2}), doctest::Contains("(4, 2)"), gan::Error);
  CHECK_THROWS_AS(t.reshape({-1, -1}), gan::Error);
  CHECK_THROWS_AS(t.reshape({4, -1}), gan::Error);
}

TEST_CASE("Tensor::from rejects a wrong number of values") {
  CHECK_THROWS_WITH_AS(Tensor<float>::from(Shape{2, 2}, {1, 2, 3}), doctest::Contains("(2, 2)"), gan::Error);
}

TEST_CASE("freed blocks are reused by the caching allocator") {
  const float* first;
  {
    auto a = Tensor<float>::empty(Shape{12345});
    first = a.data();
  }
  auto b = Tensor<float>::empty(Shape{12345});
  CHECK(b.data() == first);
}

TEST_CASE("random fills are reproducible and independent of thread count") {
  gan::Rng r1(7), r2(7), r3(8);
  auto a = gan::randn<float>(Shape{100000}, r1);
  gan::set_num_threads(1);
  auto b = gan::randn<float>(Shape{100000}, r2);
  gan::set_num_threads(2);
  auto c = gan::randn<float>(Shape{100000}, r3);
  bool same = true, differs = false;
  double mean = 0, var = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    same = same && a[i] == b[i];
    differs = differs || a[i] != c[i];
    mean += a[i];
  }
  mean /= a.numel();
  for (std::int64_t i = 0; i < a.numel(); ++i) var += (a[i] - mean) * (a[i] - mean);
  var /= a.numel();
  CHECK(same);
  CHECK(differs);
  CHECK(std::abs(mean) < 0.02);
  CHECK(std::abs(var - 1.0) < 0.02);
}

TEST_CASE("rng state round-trips for resume") {
  gan::Rng r(3);
  r.uniform();
  auto saved = r.state();
  double expected = r.uniform();
  gan::Rng other(99);
  other.set_state(saved);
  CHECK(other.uniform() == expected);
}
