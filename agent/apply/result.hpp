#pragma once
// What apply decided and did for each object, and how the per-object outcomes add up to the
// command's outcome and exit code (the most severe one wins).

#include "util/error.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::apply {

enum class ObjectKind { experiment, pipeline, run, recurring_run };

// create: absent, will be made; new_version: the pipeline gets a version; update: a recurring run
// is enabled or disabled; replace: a recurring run is deleted and created again (the server has
// no update for schedules).
enum class Action { create, new_version, unchanged, update, replace };

// planned: --plan decided the action; skipped: not attempted because what it needs failed.
enum class ObjectOutcome { planned, done, failed, skipped };

struct ObjectResult {
  ObjectKind kind = ObjectKind::pipeline;
  std::string name;
  std::optional<Action> action;  // absent when deciding failed
  ObjectOutcome outcome = ObjectOutcome::planned;
  std::optional<util::Failure> error;
  std::string id;      // the server's id, when known
  std::string detail;  // e.g. the version name, "disable", "pipeline training failed"
  // Runs: the run as publish's report has it (state, url, tasks, failed_tasks), so a failed run's
  // failed tasks and log tails reach apply's report as they reach `run`'s (issue 17).
  boost::json::object run;
};

[[nodiscard]] std::string_view to_string(ObjectKind kind);
[[nodiscard]] std::string_view to_string(Action action);
[[nodiscard]] std::string_view to_string(ObjectOutcome outcome);

// True when some object would change (or did): any action other than unchanged.
[[nodiscard]] bool has_changes(const std::vector<ObjectResult>& results);

// The failure whose exit code is the most severe (util::severity), if any object failed.
[[nodiscard]] std::optional<util::Failure> most_severe_failure(const std::vector<ObjectResult>& results);

// report.details["objects"]: [{kind, name, action, outcome, id?, detail?, error?, run?}].
[[nodiscard]] boost::json::array to_json(const std::vector<ObjectResult>& results);

}  // namespace kfp::apply
