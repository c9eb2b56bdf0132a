// Stopwatch: wall and CPU seconds since construction or restart().
#include <doctest/doctest.h>

#include <cmath>

#include "gan/util/stopwatch.hpp"

TEST_CASE("Stopwatch measures wall and CPU time of busy work, restart() starts again") {
  gan::util::Stopwatch watch;
  volatile double sink = 0;
  for (int i = 0; i < 20000000 && watch.cpu_seconds() < 0.02; ++i) sink = sink + std::sqrt(double(i));
  const double wall = watch.seconds(), cpu = watch.cpu_seconds();
  CHECK(cpu >= 0.02);
  CHECK(wall > 0);
  CHECK(gan::util::process_cpu_seconds() >= cpu);
  watch.restart();
  CHECK(watch.cpu_seconds() < cpu);
  CHECK(watch.seconds() < wall);
}
