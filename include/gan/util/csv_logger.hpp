#pragma once
// One CSV row per log step with stable column names, flushed every row so a killed run
// keeps its curve. Appends when resuming (the header is written only to a new file).

#include <cstdio>
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

}  // namespace util
}  // namespace gan
