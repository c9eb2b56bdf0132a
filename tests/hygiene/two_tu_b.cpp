// See two_tu_a.cpp. Uses the same inline and template code so both TUs emit it.
#include "all_headers.hpp"

float sum_in_b() {
  auto t = gan::Tensor<float>::full(gan::Shape{3}, 2.0f);
  return t[0] + t[1] + t[2];
}
