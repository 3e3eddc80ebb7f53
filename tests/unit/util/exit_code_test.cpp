#include "util/exit_code.hpp"

#include <doctest/doctest.h>

#include <string>

using kfp::util::ErrorKind;
using kfp::util::exit_code_for;
using kfp::util::ExitCode;
using kfp::util::to_int;

TEST_CASE("every error kind maps to the exit code DESIGN documents") {
  CHECK(to_int(exit_code_for(ErrorKind::usage)) == 2);
  CHECK(to_int(exit_code_for(ErrorKind::invalid_package)) == 3);
  CHECK(to_int(exit_code_for(ErrorKind::invalid_parameters)) == 3);
  CHECK(to_int(exit_code_for(ErrorKind::unauthenticated)) == 4);
  CHECK(to_int(exit_code_for(ErrorKind::token_expired)) == 4);
  CHECK(to_int(exit_code_for(ErrorKind::wrong_audience)) == 4);
  CHECK(to_int(exit_code_for(ErrorKind::istio_denied)) == 5);
  CHECK(to_int(exit_code_for(ErrorKind::forbidden)) == 5);
  CHECK(to_int(exit_code_for(ErrorKind::conflict)) == 6);
  CHECK(to_int(exit_code_for(ErrorKind::not_found)) == 6);
  CHECK(to_int(exit_code_for(ErrorKind::server)) == 7);
  CHECK(to_int(exit_code_for(ErrorKind::network)) == 7);
  CHECK(to_int(exit_code_for(ErrorKind::tls)) == 7);
  CHECK(to_int(exit_code_for(ErrorKind::timeout)) == 8);
  CHECK(to_int(exit_code_for(ErrorKind::run_failed)) == 1);
  CHECK(to_int(exit_code_for(ErrorKind::run_canceled)) == 9);
  CHECK(to_int(exit_code_for(ErrorKind::internal)) == 70);
  CHECK(to_int(exit_code_for(ErrorKind::interrupted)) == 130);
}

TEST_CASE("the help table lists every exit code") {
  const std::string table = kfp::util::exit_code_table();
  for (const char* code : {"  0 ", "  1 ", "  2 ", "  3 ", "  4 ", "  5 ", "  6 ", "  7 ", "  8 ", "  9 ",
                           "  10 ", "  70 ", "  130 "}) {
    CHECK_MESSAGE(table.find(code) != std::string::npos, code);
  }
}

TEST_CASE("severity puts a bug above a usage error above a failed run above success") {
  using kfp::util::severity;
  CHECK(severity(ExitCode::internal) > severity(ExitCode::usage));
  CHECK(severity(ExitCode::usage) > severity(ExitCode::unavailable));
  CHECK(severity(ExitCode::unavailable) > severity(ExitCode::run_failed));
  CHECK(severity(ExitCode::run_failed) > severity(ExitCode::changes_planned));
  CHECK(severity(ExitCode::changes_planned) > severity(ExitCode::success));
}
