#pragma once
// How long a stretch of work took, as wall-clock seconds and as CPU seconds of the whole
// process (all threads, OpenMP spin-waits included). On a shared machine the wall clock
// also measures the neighbours; the CPU time measures the work.
//
//   gan::util::Stopwatch watch;                 // starts now
//   train_step();
//   log(watch.seconds(), watch.cpu_seconds());  // since construction or restart()

#include <chrono>

#include <time.h>

namespace gan {
namespace util {

// CPU seconds this process has used so far, summed over its threads (POSIX).
inline double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

class Stopwatch {
 public:
  using Clock = std::chrono::steady_clock;

  Stopwatch() { restart(); }
  void restart() {
    start_ = Clock::now();
    cpu_start_ = process_cpu_seconds();
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  double cpu_seconds() const { return process_cpu_seconds() - cpu_start_; }

 private:
  Clock::time_point start_;
  double cpu_start_ = 0;
};

}  // namespace util
}  // namespace gan
