#pragma once
// One CSV row per log step with stable column names, flushed every row so a killed run
// keeps its curve. Appends when resuming (the header is written only to a new file), after
// truncate_csv_after() has dropped the rows the resumed run will write again:
//
//   ckpt.load(path);                                    // restores `step`
//   gan::util::truncate_csv_after(out + "/log.csv", step);
//   gan::util::CsvLogger log(out + "/log.csv", {"step", "loss"}, /*append*/ true);

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gan/core/error.hpp"

namespace gan {
namespace util {

class CsvLogger {
 public:
  CsvLogger(const std::string& path, std::vector<std::string> columns, bool append = false)
      : path_(path), columns_(std::move(columns)) {
    std::ifstream existing(path);
    const bool has_content = append && existing.good() && existing.peek() != std::ifstream::traits_type::eof();
    existing.close();
    out_.open(path, append ? std::ios::app : std::ios::trunc);
    check(out_.good(), "CsvLogger: cannot open '", path, "' for writing");
    if (!has_content) {
      for (std::size_t i = 0; i < columns_.size(); ++i) out_ << (i ? "," : "") << columns_[i];
      out_ << "\n";
      out_.flush();
    }
  }

  void row(const std::vector<double>& values) {
    check(values.size() == columns_.size(), "CsvLogger(", path_, "): ", values.size(), " values for ",
          columns_.size(), " columns");
    char buf[64];
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%.9g", values[i]);
      out_ << (i ? "," : "") << buf;
    }
    out_ << "\n";
    out_.flush();
  }

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::ofstream out_;
};

// For a run resumed from a checkpoint taken after `step`: rewrites the CSV at `path` with
// its first line (the header) and the rows whose first column, the step, is <= `step`; the
// resumed run writes the later rows again. A missing file stays missing (the logger then
// starts a new one with its header). Empty lines are dropped and every kept line ends in
// '\n'. The step is parsed as a number ("12", or "1e+09" as %.9g writes large steps); a
// row whose first cell is not a number is an error naming the file and the line.
inline void truncate_csv_after(const std::string& path, std::int64_t step) {
  std::ifstream in(path);
  if (!in) {
    check(!std::filesystem::exists(path), "truncate_csv_after: cannot read '", path, "'");
    return;
  }
  std::string line, kept;
  if (std::getline(in, line)) kept = line + "\n";  // the header
  for (std::int64_t number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    char* end = nullptr;
    const double row_step = std::strtod(line.c_str(), &end);
    check(end != line.c_str(), "truncate_csv_after: '", path, "' line ", number, ": the first column is not a step: '",
          line.substr(0, line.find(',')), "'");
    if (row_step <= double(step)) kept += line + "\n";  // NaN: dropped
  }
  check(!in.bad(), "truncate_csv_after: error while reading '", path, "'");
  in.close();
  std::ofstream out(path, std::ios::trunc);
  out << kept;
  out.flush();
  check(out.good(), "truncate_csv_after: cannot rewrite '", path, "'");
}

}  // namespace util
}  // namespace gan
