#pragma once
// Progress for long work: step/total, it/s, ETA and the current losses. On a terminal it
// redraws one line; otherwise (CI logs, files) it prints a plain line every few seconds,
// so logs stay readable.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace gan {
namespace util {

inline std::string format_duration(double seconds) {
  if (seconds < 0 || seconds != seconds) return "?";
  auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  return buf;
}

class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  Progress(std::int64_t total, std::string label, double plain_interval_seconds = 10.0)
      : total_(total), label_(std::move(label)), interval_(plain_interval_seconds),
        tty_(isatty(fileno(stdout)) != 0), start_(Clock::now()), last_print_(start_) {}

  // `step` counts completed items (1-based); `values` are shown as name=value.
  // `seconds_left` >= 0: a time budget ends the work first if it runs out before `total`
  // (dcgan --time-limit), so the ETA is the smaller of the two.
  void update(std::int64_t step, const std::vector<std::pair<std::string, double>>& values = {},
              double seconds_left = -1) {
    const auto now = Clock::now();
    const double since_print = std::chrono::duration<double>(now - last_print_).count();
    const bool final = step >= total_;
    if (!final && since_print < (tty_ ? 0.1 : interval_)) return;
    last_print_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(step - first_step_) / elapsed : 0;
    double eta = rate > 0 ? static_cast<double>(total_ - step) / rate : -1;
    if (seconds_left >= 0 && (eta < 0 || seconds_left < eta)) eta = seconds_left;
    std::string line = label_ + " " + std::to_string(step) + "/" + std::to_string(total_);
    char buf[96];
    std::snprintf(buf, sizeof buf, " %5.1f%% | %.2f it/s | elapsed %s | ETA %s", 100.0 * step / (total_ ? total_ : 1), rate,
                  format_duration(elapsed).c_str(), format_duration(eta).c_str());
    line += buf;
    for (auto& [name, v] : values) {
      std::snprintf(buf, sizeof buf, " | %s %.4g", name.c_str(), v);
      line += buf;
    }
    if (tty_) std::printf("\r\033[K%s%s", line.c_str(), final ? "\n" : "");
    else std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

  // For resumed runs: rates count only the steps done in this process.
  void set_start_step(std::int64_t step) { first_step_ = step; }

 private:
  std::int64_t total_;
  std::string label_;
  double interval_;
  bool tty_;
  Clock::time_point start_, last_print_;
  std::int64_t first_step_ = 0;
};

}  // namespace util
}  // namespace gan
