#pragma once
// The stable exit codes of kfp-publish (README and --help list them). They live here and nowhere
// else; exit_code_for() is the one place that maps an error kind to a code.

#include "util/error.hpp"

namespace kfp::util {

enum class ExitCode : int {
  success = 0,            // a waited run SUCCEEDED or was SKIPPED
  run_failed = 1,         // the waited run ended FAILED
  usage = 2,              // usage or configuration error
  invalid_input = 3,      // invalid package or parameters; nothing was sent
  unauthenticated = 4,    // no token, unreadable, expired, wrong audience (HTTP 401)
  permission_denied = 5,  // Istio mesh denial or KFP RBAC (HTTP 403)
  conflict = 6,           // name taken with other content; pipeline, version or experiment missing
  unavailable = 7,        // server, TLS or network error that outlasted the retries
  wait_timeout = 8,       // the run did not finish within --wait-timeout
  run_canceled = 9,       // the waited run ended CANCELED or PAUSED
  changes_planned = 10,   // apply --plan --detailed-exitcode: there are changes
  internal = 70,          // internal error (a bug)
  interrupted = 130,      // SIGINT/SIGTERM
};

[[nodiscard]] ExitCode exit_code_for(ErrorKind kind);

[[nodiscard]] constexpr int to_int(ExitCode code) {
  return static_cast<int>(code);
}

// How severe an exit code is when several objects end differently (apply): the worst one wins.
[[nodiscard]] int severity(ExitCode code);

// The table printed by --help and the README.
[[nodiscard]] const char* exit_code_table();

}  // namespace kfp::util
