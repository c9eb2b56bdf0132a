#pragma once
// What every example program does the same way, so the programs themselves can read like
// a method section: report errors as "<program>: <message>" with exit code 1, turn a CSV
// log into PNG curves next to it with scripts/plot.py (Debian's python3-matplotlib), and
// log a discriminator's mean output probability.
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>

#include <gan/core/error.hpp>
#include <gan/core/tensor.hpp>

namespace example {

// Runs `body` (which returns the exit code); any error becomes one line on stderr.
template <class Body>
int run(const char* program, Body&& body) {
  try {
    return body();
  } catch (const gan::Error& e) {
    std::cerr << program << ": " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << program << ": unexpected error: " << e.what() << "\n";
  }
  return 1;
}

// Plots `csv` into `png` with scripts/plot.py; `args` go to the script (e.g. "--y loss_d,loss_g").
// Plots are a convenience: without python3-matplotlib the run still succeeds, with a note.
inline void plot_csv(const std::string& csv, const std::string& png, const std::string& args = "") {
#ifdef GAN_SOURCE_DIR
  const std::string script = std::string(GAN_SOURCE_DIR) + "/scripts/plot.py";
  std::error_code ec;
  if (!std::filesystem::exists("/usr/bin/python3", ec) || !std::filesystem::exists(script, ec)) {
    std::cout << "(no plot: /usr/bin/python3 or " << script << " missing)\n";
    return;
  }
  const std::string cmd = "/usr/bin/python3 '" + script + "' '" + csv + "' " + args + " -o '" + png + "' >/dev/null";
  if (std::system(cmd.c_str()) != 0) std::cout << "(plot failed: " << cmd << ")\n";
#else
  (void)csv, (void)png, (void)args;
#endif
}

// The mean of sigmoid(logits) in double: D's average belief that its batch is real (the
// D(x) and D(G(z)) columns of the GAN logs).
inline double mean_sigmoid(const gan::Tensor<float>& logits) {
  double s = 0;
  for (float v : logits) s += 1.0 / (1.0 + std::exp(-double(v)));
  return s / double(logits.numel());
}

}  // namespace example
