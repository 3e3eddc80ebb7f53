#pragma once
// The one error vocabulary of the program: every failure carries an ErrorKind, which decides the
// exit code (util/exit_code.hpp) and the report's error.kind.

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kfp::util {

enum class ErrorKind {
  usage,
  invalid_package,
  invalid_parameters,
  unauthenticated,
  token_expired,
  wrong_audience,
  istio_denied,
  forbidden,
  conflict,
  not_found,
  server,
  network,
  tls,
  timeout,
  run_failed,
  run_canceled,
  internal,
  interrupted,
};

// The report spelling of a kind ("invalid_package", ...).
std::string_view to_string(ErrorKind kind);

// What low-level code returns instead of throwing: a kind, a message that names the problem and
// where it is, an optional hint saying how to fix it, and the HTTP status when one was involved.
struct Failure {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  std::string hint;
  std::optional<int> http_status;
};

// What command code throws; the CLI catches it in one place and maps it to the exit code and report.
class Error : public std::runtime_error {
 public:
  explicit Error(Failure failure);
  Error(ErrorKind kind, std::string message, std::string hint = {});

  [[nodiscard]] ErrorKind kind() const noexcept { return failure_.kind; }
  [[nodiscard]] const std::string& hint() const noexcept { return failure_.hint; }
  [[nodiscard]] std::optional<int> http_status() const noexcept { return failure_.http_status; }
  [[nodiscard]] const Failure& failure() const noexcept { return failure_; }

 private:
  Failure failure_;
};

// boost::system::result<T, Failure>: .value() throws Error (see throw_exception_from_error).
template <class T>
using Result = boost::system::result<T, Failure>;

// Found by ADL from Result<T>::value(): turns a Failure into a thrown Error.
[[noreturn]] void throw_exception_from_error(const Failure& failure, const boost::source_location& location);

// Shorthand for building a failed Result.
Failure fail(ErrorKind kind, std::string message, std::string hint = {});

}  // namespace kfp::util
