#pragma once
// Recurring runs (jobs) as JobServer and ResourceManager.CreateJob make and keep them in each
// release, shared by the v2beta1 /recurringruns and the v1beta1 /jobs endpoints: the schedule
// checks, the experiment and authorization, which parameters the ScheduledWorkflow takes from which
// kind of pipeline, the ScheduledWorkflow created before the INSERT, and the look-ups of the
// get/enable/disable/delete actions. FIDELITY.md "Recurring runs" cites each step.

#include "runs.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace kfp::emulator {

// A recurring run request after the API's converter (toModelJob).
struct JobRequest {
  RunRequest run;
  std::int64_t max_concurrency = 0;
  boost::json::value trigger;  // as stored and returned: int64 fields as strings; null when absent
  bool enabled = false;
  bool no_catchup = false;
  boost::json::array references;  // a v1beta1 request's resource references (1.8 returns them)
};

// An int64 field (snake_case or lowerCamelCase): protojson takes a number or a decimal string.
// Throws ApiFailure (400) for anything else.
[[nodiscard]] std::optional<std::int64_t> int64_field(const boost::json::object& object,
                                                      std::string_view name);

// The `trigger` member of a request, as the server stores and returns it; null when absent.
[[nodiscard]] boost::json::value trigger_of(const boost::json::object& body);

// The schedule checks of toModelJob (2.x) / validateCreateJobRequest (1.8): max concurrency 1-10,
// a cron spec robfig/cron v1 parses, an interval of at least a second. Throws ApiFailure
// (InvalidInputError, unwrapped) in the release's words.
void check_schedule(ServerVersion version, std::int64_t max_concurrency, const boost::json::value& trigger);

// JobServer.createJob + ResourceManager.CreateJob (2.x) / JobServer.CreateJob after validation
// (1.8): stores the recurring run and returns it. Throws ApiFailure with the chain up to the
// server's own outer wrap (2.x callers add "Failed to create a recurring run").
RecurringRun& create_job(Context& context, JobRequest request);

// What is done to an existing recurring run; each has its own look-up chain.
enum class JobAction { get, enable, disable, remove };

// Performs `action` on the recurring run context.args[0] names, after canAccessJob's authorization
// and the action's own look-up, and returns it (null once removed: the ScheduledWorkflow, then the
// row). Failures are wrapped in `outer`, the endpoint's own message (2.x; 1.8 returns them as
// they are).
RecurringRun* act_on_job(Context& context, JobAction action, std::string_view outer);

// Registers the enable, disable and delete endpoints of one API (answer: an empty object), each
// with its path and outer wrap.
struct JobActionRoute {
  std::string method, path;
  JobAction action;
  std::string_view outer;
};
void register_job_actions(App& app, std::initializer_list<JobActionRoute> routes);

}  // namespace kfp::emulator
