#include "util/exit_code.hpp"

namespace kfp::util {

ExitCode exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return ExitCode::usage;
    case ErrorKind::invalid_package:
    case ErrorKind::invalid_parameters: return ExitCode::invalid_input;
    case ErrorKind::unauthenticated:
    case ErrorKind::token_expired:
    case ErrorKind::wrong_audience: return ExitCode::unauthenticated;
    case ErrorKind::istio_denied:
    case ErrorKind::forbidden: return ExitCode::permission_denied;
    case ErrorKind::conflict:
    case ErrorKind::not_found: return ExitCode::conflict;
    case ErrorKind::server:
    case ErrorKind::network:
    case ErrorKind::tls: return ExitCode::unavailable;
    case ErrorKind::timeout: return ExitCode::wait_timeout;
    case ErrorKind::run_failed: return ExitCode::run_failed;
    case ErrorKind::run_canceled: return ExitCode::run_canceled;
    case ErrorKind::internal: return ExitCode::internal;
    case ErrorKind::interrupted: return ExitCode::interrupted;
  }
  return ExitCode::internal;
}

int severity(ExitCode code) {
  // Worse means "a human must act": a bug first, then an interruption, then configuration problems,
  // then server trouble, then run outcomes; success and "changes planned" least.
  switch (code) {
    case ExitCode::success: return 0;
    case ExitCode::changes_planned: return 1;
    case ExitCode::run_failed: return 2;
    case ExitCode::run_canceled: return 3;
    case ExitCode::wait_timeout: return 4;
    case ExitCode::unavailable: return 5;
    case ExitCode::conflict: return 6;
    case ExitCode::invalid_input: return 7;
    case ExitCode::permission_denied: return 8;
    case ExitCode::unauthenticated: return 9;
    case ExitCode::usage: return 10;
    case ExitCode::interrupted: return 11;
    case ExitCode::internal: return 12;
  }
  return 12;
}

const char* exit_code_table() {
  return "Exit codes:\n"
         "  0    success (a waited run SUCCEEDED or was SKIPPED)\n"
         "  1    the waited run ended FAILED\n"
         "  2    usage or configuration error\n"
         "  3    invalid package or parameters (nothing was sent)\n"
         "  4    authentication failed: no token, unreadable, expired, wrong audience (HTTP 401)\n"
         "  5    permission denied: Istio mesh denial or KFP RBAC (HTTP 403)\n"
         "  6    conflict or not found (name taken with other content; object missing)\n"
         "  7    server, TLS or network error that outlasted the retries\n"
         "  8    the run did not finish within --wait-timeout\n"
         "  9    the waited run ended CANCELED or PAUSED\n"
         "  10   apply --plan --detailed-exitcode: there are changes\n"
         "  70   internal error (a bug)\n"
         "  130  interrupted (SIGINT/SIGTERM)\n";
}

}  // namespace kfp::util
