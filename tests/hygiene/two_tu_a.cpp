// With two_tu_b.cpp: both translation units include every public header (all_headers.hpp
// is generated at configure time), so any definition in a header that is not inline, a
// template or constexpr is defined twice and this program fails to link.
#include "all_headers.hpp"

#include <cstdio>

float sum_in_b();  // two_tu_b.cpp

int main() {
  auto t = gan::Tensor<float>::full(gan::Shape{3}, 2.0f);
  const float a = t[0] + t[1] + t[2];
  const float b = sum_in_b();
  std::printf("two TUs: %g + %g\n", a, b);
  return (a == 6.0f && b == 6.0f) ? 0 : 1;
}
