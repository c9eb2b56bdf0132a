#pragma once
// The library's one exception type. Messages name the layer or file and, on a shape
// mismatch, both shapes, so a user can fix the call without a debugger.

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace gan {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Parts>(parts));
  return os.str();
}
}  // namespace detail

// Throws gan::Error with the parts streamed together: fail("Conv2d: got ", shape, ...).
template <class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(detail::concat(std::forward<Parts>(parts)...));
}

// Checks an invariant that depends on user input (not a programming error inside gan).
template <class... Parts>
void check(bool condition, Parts&&... parts) {
  if (!condition) fail(std::forward<Parts>(parts)...);
}

}  // namespace gan
