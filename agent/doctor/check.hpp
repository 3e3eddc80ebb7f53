#pragma once
// One link of the access chain as doctor reports it: a name, a status, the evidence seen, and the
// fix for a broken link. Checks never throw; the command turns the first failure into the exit code.

#include "util/error.hpp"

#include <boost/json/array.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::doctor {

// skip: not run, because a link it depends on is broken.
enum class Status { ok, warn, fail, skip };

[[nodiscard]] std::string_view to_string(Status status);

struct Check {
  std::string name;  // "token file", "dns", "healthz", ...
  Status status = Status::ok;
  std::string detail;  // the evidence: what was seen
  std::string fix;     // what to do (may hold YAML ready to apply); empty when nothing to fix
  // For fail: decides the exit code (util::exit_code_for) and the report's error.kind.
  std::optional<util::ErrorKind> kind;
  std::optional<int> http_status;
};

[[nodiscard]] Check ok(std::string name, std::string detail);
[[nodiscard]] Check warn(std::string name, std::string detail, std::string fix = {});
[[nodiscard]] Check skip(std::string name, std::string detail);
// A failed check from a Failure: its message is the detail, `fix` (else its hint) the fix.
[[nodiscard]] Check fail(std::string name, const util::Failure& failure, std::string fix = {});

// The report's "checks": [{name, status, detail, fix}, ...].
[[nodiscard]] boost::json::array to_json(const std::vector<Check>& checks);

// The first failed check as a Failure (message "NAME: DETAIL", hint: the first line of the fix),
// or nullopt when nothing failed.
[[nodiscard]] std::optional<util::Failure> first_failure(const std::vector<Check>& checks);

}  // namespace kfp::doctor
