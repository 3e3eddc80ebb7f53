#include "jobs.hpp"

#include "cron.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <regex>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

const json::object* member_object(const json::object& object, std::string_view snake) {
  const auto* value = member_of(object, snake);
  return value != nullptr && value->is_object() ? &value->as_object() : nullptr;
}

// toSWFCRDResourceGeneratedName (template/template.go): the display name lower-cased, stripped to
// [a-z0-9-], "job-" when nothing is left, at most 25 characters; Kubernetes' generateName appends
// five random characters.
std::string scheduled_workflow_name(const std::string& display_name) {
  std::string lower;
  for (char c : display_name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  static const std::regex not_allowed("[^a-z0-9-]+");
  std::string name = std::regex_replace(lower, not_allowed, "");
  if (name.empty()) name = "job-";
  if (name.size() > 25) name.resize(25);
  return name + new_uuid().substr(0, 5);
}

// The text a 1.8 job lists for a runtime config value (runtimeConfigToModelParameters: an
// AnyString of the api.Value's string, double or int).
std::string api_value_text(const json::value& value) {
  if (!value.is_object()) return value.is_string() ? std::string(value.as_string()) : json::serialize(value);
  const auto& object = value.as_object();
  for (auto key : {"string_value", "stringValue", "int_value", "intValue"})
    if (const auto* text = object.if_contains(key); text && text->is_string())
      return std::string(text->as_string());
  for (auto key : {"double_value", "doubleValue", "int_value", "intValue"})
    if (const auto* number = object.if_contains(key)) return json::serialize(*number);
  return {};
}

}  // namespace

std::optional<std::int64_t> int64_field(const json::object& object, std::string_view name) {
  const auto* value = member_of(object, name);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(value->as_uint64());
  if (value->is_string()) {
    std::int64_t number = 0;
    auto text = value->as_string();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc{} && end == text.data() + text.size()) return number;
  }
  throw ApiFailure(invalid_input(fmt::format("invalid value for int64 field {}", name)));
}

json::value trigger_of(const json::object& body) {
  const auto* trigger = member_object(body, "trigger");
  if (trigger == nullptr) return nullptr;
  json::object out = *trigger;
  for (auto key : {"periodic_schedule", "periodicSchedule"}) {
    auto* periodic = out.if_contains(key);
    if (periodic == nullptr || !periodic->is_object()) continue;
    auto& object = periodic->as_object();
    if (auto seconds = int64_field(object, "interval_second")) {
      object.erase("intervalSecond");
      object["interval_second"] = std::to_string(*seconds);
    }
  }
  return out;
}

void check_schedule(ServerVersion version, std::int64_t max_concurrency, const json::value& trigger) {
  const bool v1_server = is_v1_server(version);
  if (max_concurrency < 1 || max_concurrency > 10) {
    // 1.8 job_server.go:251; 2.x api_converter.go toModelJob ("at leas" until 2.3.0).
    if (v1_server)
      throw ApiFailure(invalid_input(fmt::format(
          "The max concurrency of the job is out of range. Support 1-10. Received {}.", max_concurrency)));
    throw ApiFailure(invalid_input(
        fmt::format("Max concurrency of a recurring run must be at {} 1 and at most 10. Received {}",
                    at_least(version, ServerVersion::v2_5_0) ? "least" : "leas", max_concurrency)));
  }
  if (!trigger.is_object()) return;
  if (const auto* cron = member_object(trigger.as_object(), "cron_schedule"))
    if (const auto* spec = cron->if_contains("cron"); spec && spec->is_string())
      if (auto error = cron_parse_error(std::string(spec->as_string())))
        throw ApiFailure(invalid_input(
            "Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). Error: " +
            *error));
  if (const auto* periodic = member_object(trigger.as_object(), "periodic_schedule"))
    if (auto seconds = int64_field(*periodic, "interval_second"); seconds && *seconds < 1)
      throw ApiFailure(invalid_input(
          fmt::format("Found invalid period schedule interval {}. Set at interval to least 1 second{}",
                      *seconds, v1_server ? "." : "")));
}

RecurringRun& create_job(Context& context, JobRequest request) {
  App& app = context.app;
  const auto version = app.version();
  const bool v1_server = is_v1_server(version);
  auto& store = app.store();
  const auto& run = request.run;

  // 2.x createJob: the name, the experiment and namespace, authorization. 1.8 CreateJob checks the
  // experiment and authorization in multi-user mode only, and falls back to the default
  // experiment later (getDefaultExperimentIfNoExperiment): the same outcome.
  if (!v1_server && run.display_name.empty())
    throw ApiFailure(invalid_input("Recurring run name is empty. Please specify a valid name"));
  const Experiment& experiment = owning_experiment(app, run.experiment_id, "recurring run");
  if (auto denied = app.check_access(context.request, "jobs", "create", experiment.ns)) {
    if (v1_server)
      throw ApiFailure(wrap(wrap(*denied, "Failed to authorize with API resource references"),
                            "Failed to authorize the request"));
    throw ApiFailure(
        wrap(wrap(*denied, "failed to authorize with API"),
             fmt::format("Failed to create a recurring run due to authorization error. Check if you have "
                         "write permission to namespace {}",
                         experiment.ns)));
  }

  // ResourceManager.CreateJob: the template, the ScheduledWorkflow's parameters (the template's
  // ScheduledWorkflow), the ScheduledWorkflow, then the INSERT.
  auto tmpl =
      run_template(app, run,
                   v1_server ? "Failed to fetch manifest bytes."
                             : "Failed to create a recurring run with an invalid pipeline spec manifest");
  json::object provided;
  json::object parameters;
  try {
    parameters = workflow_parameters(app, tmpl, run, provided);
  } catch (const ApiFailure& failure) {
    if (v1_server) throw failure.wrapped("failed to generate the scheduledWorkflow.");
    auto error =
        tmpl.kind == package::Kind::argo_workflow ? failure : failure.wrapped("invalid pipeline job inputs");
    throw error.wrapped("Failed to create a recurring run during scheduled workflow creation");
  }

  RecurringRun job;
  static_cast<RunSource&>(job) = run_source(app, run, tmpl, experiment);
  job.kind = tmpl.kind;
  job.manifest = tmpl.manifest;
  job.max_concurrency = std::to_string(request.max_concurrency);
  job.trigger = std::move(request.trigger);
  job.mode = request.enabled ? "ENABLE" : "DISABLE";
  job.no_catchup = request.no_catchup;
  job.k8s_name = scheduled_workflow_name(run.display_name);
  if (tmpl.kind == package::Kind::argo_workflow) {
    job.v1_parameters = run.v1_parameters;
  } else if (v1_server) {
    // 1.8 ToModelJob keeps a PipelineSpec's runtime config as its parameters.
    for (const auto& [name, value] : runtime_parameters(run.runtime_config))
      job.v1_parameters.push_back(json::object{{"name", name}, {"value", api_value_text(value)}});
  }
  if (v1_server) {
    // 1.8 ToModelJob: the pipeline id and name only as the request gave them; its references.
    job.pipeline_id = run.pipeline_id;
    if (const auto* pipeline = store.find_pipeline(run.pipeline_id)) job.pipeline_name = pipeline->name;
    job.references = std::move(request.references);
  } else {
    job.pipeline_name = tmpl.version_name;
  }

  auto scheduled =
      new_workflow(app, tmpl, run, experiment.ns, job.created_at, std::move(parameters), std::move(provided));
  scheduled.name = job.k8s_name;
  scheduled.recurring_run_id = job.id;
  store.scheduled_workflows.emplace(scheduled.name, std::move(scheduled));

  // job_store.go CreateJob: the INSERT after the ScheduledWorkflow exists (1.8 names the job by its
  // Kubernetes name, 2.x by its display name).
  if (auto error = insert_error(version, "jobs",
                                {{"DisplayName", job.display_name},
                                 {"Description", job.description},
                                 {"ServiceAccount", job.service_account}}))
    throw ApiFailure(internal_server(
        *error, fmt::format("Failed to store job {} to table", v1_server ? job.k8s_name : job.display_name)));
  auto id = job.id;
  return store.recurring_runs.emplace(id, std::move(job)).first->second;
}

namespace {

RecurringRun& existing_job(Context& context, JobAction action) {
  App& app = context.app;
  const bool v1_server = is_v1_server(app.version());
  const auto& id = context.args[0];
  auto& jobs = app.store().recurring_runs;
  auto found = jobs.find(id);
  const auto missing = resource_not_found("Job", id);
  if (app.multi_user()) {
    // canAccessJob: the job's namespace, then the SubjectAccessReview.
    if (found == jobs.end())
      throw ApiFailure(wrap(wrap(missing, v1_server ? "Failed to authorize with the job ID."
                                                    : "failed to authorize with the recurring run ID"),
                            "Failed to authorize the request"));
    static constexpr std::array<std::string_view, 4> verbs = {"get", "enable", "disable", "delete"};
    if (auto denied = app.check_access(context.request, "jobs", verbs[static_cast<std::size_t>(action)],
                                       found->second.ns))
      throw ApiFailure(wrap(wrap(*denied, v1_server ? "Failed to authorize with API resource references"
                                                    : "failed to authorize with API"),
                            "Failed to authorize the request"));
  }
  if (found != jobs.end()) return found->second;
  switch (action) {
    case JobAction::get: throw ApiFailure(missing);
    case JobAction::enable:
    case JobAction::disable:
      if (v1_server) throw ApiFailure(wrap(missing, "Enable/Disable job failed"));
      throw ApiFailure(
          wrap(missing, fmt::format("Failed to change recurring run's mode to enable:{}. Check if "
                                    "recurring run {} exists",
                                    action == JobAction::enable, id)));
    case JobAction::remove:
      if (v1_server) throw ApiFailure(wrap(missing, "Delete job failed"));
      throw ApiFailure(wrap(missing, fmt::format("Failed to delete recurring run {}. Check if exists", id)));
  }
  throw ApiFailure(missing);
}

}  // namespace

RecurringRun* act_on_job(Context& context, JobAction action, std::string_view outer) {
  RecurringRun* job = nullptr;
  try {
    job = &existing_job(context, action);
  } catch (const ApiFailure& failure) {
    if (is_v1_server(context.app.version())) throw;
    throw failure.wrapped(outer);
  }
  switch (action) {
    case JobAction::get: break;
    case JobAction::enable: job->mode = "ENABLE"; break;
    case JobAction::disable: job->mode = "DISABLE"; break;
    case JobAction::remove: {
      // DeleteJob: the ScheduledWorkflow, then the row.
      auto& store = context.app.store();
      const std::string id = job->id;
      std::erase_if(store.scheduled_workflows,
                    [&](const auto& item) { return item.second.recurring_run_id == id; });
      store.recurring_runs.erase(id);
      return nullptr;
    }
  }
  return job;
}

void register_job_actions(App& app, std::initializer_list<JobActionRoute> routes) {
  for (const auto& route : routes)
    app.add(route.method, route.path, ErrorShape::gateway,
            [action = route.action, outer = route.outer](Context& context) {
              (void)act_on_job(context, action, outer);
              return json_reply(json::object{});
            });
}

}  // namespace kfp::emulator
