// CsvLogger and truncate_csv_after: a resumed run's CSV keeps its header and the rows up to
// the checkpoint's step, and the logger then appends without a second header.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gan/util/csv_logger.hpp"
#include "../data/idx_test_util.hpp"

using gan::util::CsvLogger;
using gan::util::truncate_csv_after;

namespace {
std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
}  // namespace

TEST_CASE("truncate_csv_after keeps the header and the rows with step <= N") {
  gan_test::TempDir dir;
  const std::string path = dir.file("log.csv");

  SUBCASE("rows after the step go, the step itself stays") {
    write(path, "step,loss\n1,0.5\n2,0.25\n3,0.125\n4,0.0625\n");
    truncate_csv_after(path, 2);
    CHECK(read(path) == "step,loss\n1,0.5\n2,0.25\n");
    truncate_csv_after(path, 2);  // idempotent
    CHECK(read(path) == "step,loss\n1,0.5\n2,0.25\n");
  }
  SUBCASE("step 0 leaves the header only; a header-only or empty file is unchanged") {
    write(path, "step,loss\n1,0.5\n");
    truncate_csv_after(path, 0);
    CHECK(read(path) == "step,loss\n");
    truncate_csv_after(path, 5);
    CHECK(read(path) == "step,loss\n");
    write(path, "");
    truncate_csv_after(path, 5);
    CHECK(read(path).empty());
  }
  SUBCASE("a missing file stays missing") {
    CHECK_NOTHROW(truncate_csv_after(path, 3));
    CHECK_FALSE(std::filesystem::exists(path));
  }
  SUBCASE("the step is the first column, read as a number (%.9g writes 1e+09)") {
    write(path, "step,epoch\n999999999,7\n1e+09,7\n2.5e+09,8\n");
    truncate_csv_after(path, 2000000000);
    CHECK(read(path) == "step,epoch\n999999999,7\n1e+09,7\n");
    truncate_csv_after(path, 3);
    CHECK(read(path) == "step,epoch\n");
  }
  SUBCASE("empty lines are dropped, the last kept line gets its newline") {
    write(path, "step,loss\n1,0.5\n\n2,0.25");
    truncate_csv_after(path, 9);
    CHECK(read(path) == "step,loss\n1,0.5\n2,0.25\n");
  }
  SUBCASE("a row whose first column is not a step is an error naming the file and line") {
    write(path, "step,loss\n1,0.5\nmean,0.25\n");
    CHECK_THROWS_WITH_AS(truncate_csv_after(path, 1), doctest::Contains(("'" + path + "' line 3").c_str()), gan::Error);
    CHECK(read(path) == "step,loss\n1,0.5\nmean,0.25\n");  // left as it was
  }
}

TEST_CASE("CsvLogger resumes a truncated log without a second header") {
  gan_test::TempDir dir;
  const std::string path = dir.file("log.csv");
  {
    CsvLogger log(path, {"step", "loss"});
    for (int step = 1; step <= 4; ++step) log.row({double(step), 1.0 / step});
  }
  truncate_csv_after(path, 2);
  {
    CsvLogger log(path, {"step", "loss"}, /*append*/ true);
    log.row({3, 0.75});
  }
  CHECK(read(path) == "step,loss\n1,1\n2,0.5\n3,0.75\n");
  CHECK_THROWS_WITH_AS(CsvLogger(path, {"step", "loss"}, true).row({1}), doctest::Contains(path.c_str()), gan::Error);
}
