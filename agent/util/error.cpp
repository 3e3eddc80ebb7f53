#include "util/error.hpp"

#include <utility>

namespace kfp::util {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return "usage";
    case ErrorKind::invalid_package: return "invalid_package";
    case ErrorKind::invalid_parameters: return "invalid_parameters";
    case ErrorKind::unauthenticated: return "unauthenticated";
    case ErrorKind::token_expired: return "token_expired";
    case ErrorKind::wrong_audience: return "wrong_audience";
    case ErrorKind::istio_denied: return "istio_denied";
    case ErrorKind::forbidden: return "forbidden";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::server: return "server";
    case ErrorKind::network: return "network";
    case ErrorKind::tls: return "tls";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::run_failed: return "run_failed";
    case ErrorKind::run_canceled: return "run_canceled";
    case ErrorKind::internal: return "internal";
    case ErrorKind::interrupted: return "interrupted";
  }
  return "internal";
}

Error::Error(Failure failure) : std::runtime_error(failure.message), failure_(std::move(failure)) {}

Error::Error(ErrorKind kind, std::string message, std::string hint)
    : Error(Failure{kind, std::move(message), std::move(hint), std::nullopt}) {}

void throw_exception_from_error(const Failure& failure, const boost::source_location& /*location*/) {
  throw Error(failure);
}

Failure fail(ErrorKind kind, std::string message, std::string hint) {
  return Failure{kind, std::move(message), std::move(hint), std::nullopt};
}

}  // namespace kfp::util
