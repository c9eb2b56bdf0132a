#pragma once
// Matchers shared by the tests of error messages.

#include <string>

#include <doctest/doctest.h>

namespace gan_test {

// CHECK_THROWS_WITH_AS(expr, has(path), gan::Error): the message names `s` somewhere.
inline doctest::Contains has(const std::string& s) { return doctest::Contains(s.c_str()); }

}  // namespace gan_test
