#pragma once
// Helpers shared by the conv kernel tests: shape construction, random data, the comparison
// with the reference kernels (all three passes, both conv kinds).

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "gan/core/parallel.hpp"
#include "gan/core/random.hpp"
#include "gan/kernels/conv2d.hpp"
#include "gan/kernels/conv_geometry.hpp"
#include "gan/kernels/conv_transpose2d.hpp"
#include "gan/kernels/reference/conv2d_ref.hpp"
#include "gan/kernels/reference/conv_transpose2d_ref.hpp"

namespace conv_test {

namespace k = gan::kernels;
namespace ref = gan::kernels::reference;
using gan::Shape;
using k::ConvShape;


inline ConvShape make_shape(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t oc, k::Size2 kernel,
                     k::Size2 stride = 1, k::Size2 pad = 0, k::Size2 dilation = 1, k::Size2 output_padding = 0,
                     bool transposed = false) {
  return transposed ? k::conv_transpose_shape(Shape{n, c, h, w}, oc, kernel, stride, pad, output_padding, dilation)
                    : k::conv_shape(Shape{n, c, h, w}, oc, kernel, stride, pad, dilation);
}

inline std::string show(const ConvShape& s) {
  std::ostringstream os;
  os << (s.transposed ? "conv_transpose " : "conv ") << s.input_shape() << " -> " << s.output_shape() << ", weight "
     << s.weight_shape() << ", " << s.describe();
  return os.str();
}

template <class T>
std::vector<T> random_vector(std::int64_t n, gan::Rng& rng) {
  std::vector<T> v(static_cast<std::size_t>(n));
  for (T& e : v) e = static_cast<T>(rng.uniform(-1, 1));
  return v;
}

template <class To, class From>
std::vector<To> converted(const std::vector<From>& v) {
  return std::vector<To>(v.begin(), v.end());
}

// Fails when any element differs from the reference by more than tol * max(1, max|ref|), tol
// set by got's type (times slack); prints the worst mismatch so a failure can be debugged from
// the log alone.
template <class T, class R>
void expect_close(const std::vector<T>& got, const std::vector<R>& want, const std::string& what,
                  double slack = 1.0) {
  REQUIRE(got.size() == want.size());
  const double tol = (sizeof(T) == 4 ? 1e-5 : 1e-12) * slack;
  double scale = 1, max_diff = 0;
  std::size_t worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(want[i])));
    const double diff = std::abs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (!(diff <= max_diff)) max_diff = diff, worst = i;  // also catches NaN
  }
  INFO(what, ": max |diff| ", max_diff, " at [", worst, "] got ", got[worst], " want ", want[worst], " (scale ",
       scale, ", tolerance ", tol, " of it)");
  CHECK(max_diff <= tol * scale);
}

// Runs all three passes of the fast kernels and the reference on one shape and compares, once
// per entry of thread_counts (0: the current team) against one reference run. Backward outputs
// start from the same random values to check they accumulate; the data gradient is also
// computed once more onto NaN without accumulating. The reference runs in double on the same
// inputs, so only the fast kernel's rounding counts against the tolerance: in float, the
// reference's own running sums drifted as far as the tolerance (the bias gradient of 7 images
// into one channel, 980 terms: 1.6e-5 off the double sum, the fast kernel 2.8e-6).
template <class T>
void check_against_reference(const ConvShape& s, bool with_bias, gan::Rng& rng,
                             std::initializer_list<int> thread_counts = {0}) {
  const std::string name = show(s) + (with_bias ? ", bias" : ", no bias");
  auto x = random_vector<T>(s.input_shape().numel(), rng);
  auto w = random_vector<T>(s.weight_shape().numel(), rng);
  auto b = random_vector<T>(s.out_c, rng);
  auto dy = random_vector<T>(s.output_shape().numel(), rng);
  const auto dx_start = random_vector<T>(s.input_shape().numel(), rng);
  const auto dw_start = random_vector<T>(s.weight_shape().numel(), rng);
  const auto db_start = random_vector<T>(s.out_c, rng);
  const T* bias = with_bias ? b.data() : nullptr;

  // The reference, once: it is most of the test's time (in double, unoptimised under ASan).
  const auto xr = converted<double>(x), wr = converted<double>(w), br = converted<double>(b);
  const auto dyr = converted<double>(dy);
  const double* bias_r = with_bias ? br.data() : nullptr;
  std::vector<double> y_ref(dy.size()), dx_new_ref(x.size(), 0.0);
  auto dw_ref = converted<double>(dw_start), db_ref = converted<double>(db_start);
  double* db_r = with_bias ? db_ref.data() : nullptr;
  if (s.transposed) {
    ref::conv_transpose2d_forward(y_ref.data(), xr.data(), wr.data(), bias_r, s);
    ref::conv_transpose2d_backward_data(dx_new_ref.data(), dyr.data(), wr.data(), s);
    ref::conv_transpose2d_backward_weight(dw_ref.data(), db_r, dyr.data(), xr.data(), s);
  } else {
    ref::conv2d_forward(y_ref.data(), xr.data(), wr.data(), bias_r, s);
    ref::conv2d_backward_data(dx_new_ref.data(), dyr.data(), wr.data(), s);
    ref::conv2d_backward_weight(dw_ref.data(), db_r, dyr.data(), xr.data(), s);
  }
  std::vector<double> dx_ref(dx_start.begin(), dx_start.end());
  for (std::size_t i = 0; i < dx_ref.size(); ++i) dx_ref[i] += dx_new_ref[i];

  const int team_before = gan::max_threads();
  for (int threads : thread_counts) {
    if (threads > 0) gan::set_num_threads(threads);
    INFO("threads ", gan::max_threads());
    std::vector<T> y_fast(dy.size(), T(123));  // 123: must be overwritten
    auto dx_fast = dx_start, dw_fast = dw_start, db_fast = db_start;
    // A gradient's first contribution overwrites (accumulate = false): NaN must not survive.
    std::vector<T> dx_new(x.size(), std::numeric_limits<T>::quiet_NaN());
    T* db_f = with_bias ? db_fast.data() : nullptr;
    if (s.transposed) {
      k::conv_transpose2d_forward(y_fast.data(), x.data(), w.data(), bias, s);
      k::conv_transpose2d_backward_data(dx_fast.data(), dy.data(), w.data(), s);
      k::conv_transpose2d_backward_weight(dw_fast.data(), db_f, dy.data(), x.data(), s);
      k::conv_transpose2d_backward_data(dx_new.data(), dy.data(), w.data(), s, false);
    } else {
      k::conv2d_forward(y_fast.data(), x.data(), w.data(), bias, s);
      k::conv2d_backward_data(dx_fast.data(), dy.data(), w.data(), s);
      k::conv2d_backward_weight(dw_fast.data(), db_f, dy.data(), x.data(), s);
      k::conv2d_backward_data(dx_new.data(), dy.data(), w.data(), s, false);
    }
    expect_close(y_fast, y_ref, "forward, " + name);
    expect_close(dx_fast, dx_ref, "backward_data, " + name);
    expect_close(dx_new, dx_new_ref, "backward_data overwriting, " + name);
    expect_close(dw_fast, dw_ref, "backward_weight dw, " + name);
    expect_close(db_fast, db_ref, "backward_weight db, " + name);
  }
  gan::set_num_threads(team_before);
}

}  // namespace conv_test
