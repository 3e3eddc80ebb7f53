#include "store.hpp"

#include <algorithm>

namespace kfp::emulator {

std::optional<Outcome> parse_outcome(std::string_view text) {
  if (text == "SUCCEEDED") return Outcome::succeeded;
  if (text == "FAILED") return Outcome::failed;
  if (text == "CANCELED") return Outcome::canceled;
  if (text == "HANG") return Outcome::hang;
  return std::nullopt;
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::succeeded: return "SUCCEEDED";
    case Outcome::failed: return "FAILED";
    case Outcome::canceled: return "CANCELED";
    case Outcome::hang: return "HANG";
  }
  return "SUCCEEDED";
}

RunStatus run_status(const Run& run, Time now) {
  std::vector<std::pair<Time, std::string>> events;
  auto start = std::max(run.created_at, run.started_at);
  events.emplace_back(start, "PENDING");
  events.emplace_back(start + run.duration / 5, "RUNNING");
  if (run.outcome != Outcome::hang)
    events.emplace_back(start + run.duration, std::string(to_string(run.outcome)));
  if (run.terminated_at) {
    std::erase_if(events, [&](const auto& event) { return event.first > *run.terminated_at; });
    events.emplace_back(*run.terminated_at, "CANCELING");
    events.emplace_back(*run.terminated_at + cancel_grace, "CANCELED");
  }
  RunStatus status;
  for (auto& event : events) {
    if (event.first > now) break;
    status.state = event.second;
    status.history.push_back(event);
  }
  const auto& state = status.state;
  if (state == "SUCCEEDED" || state == "FAILED" || state == "CANCELED")
    status.finished_at = status.history.back().first;
  return status;
}

std::string v1_status(const RunStatus& status) {
  const auto& state = status.state;
  if (state == "PENDING" || state == "PAUSED") return "Pending";
  if (state == "RUNNING") return "Running";
  if (state == "SUCCEEDED") return "Succeeded";
  if (state == "SKIPPED") return "Skipped";
  if (state == "FAILED" || state == "CANCELED") return "Failed";
  if (state == "CANCELING") return "Terminating";
  return "Unknown";
}

namespace {

// The object stored under `id`, or null.
template <class Map>
auto* stored(Map& map, const std::string& id) {
  auto it = map.find(id);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

const Pipeline* Store::find_pipeline(const std::string& id) const {
  return stored(pipelines, id);
}

const Pipeline* Store::find_pipeline_by_name(const std::string& name, const std::string& ns) const {
  for (const auto& [id, pipeline] : pipelines)
    if (pipeline.name == name && pipeline.ns == ns) return &pipeline;
  return nullptr;
}

const PipelineVersion* Store::find_version(const std::string& id) const {
  return stored(versions, id);
}

const PipelineVersion* Store::find_version_by_name(const std::string& pipeline_id,
                                                   const std::string& name) const {
  for (const auto& [id, version] : versions)
    if (version.pipeline_id == pipeline_id && version.name == name) return &version;
  return nullptr;
}

const PipelineVersion* Store::latest_version(const std::string& pipeline_id) const {
  const PipelineVersion* latest = nullptr;
  for (const auto& [id, version] : versions)
    if (version.pipeline_id == pipeline_id && (latest == nullptr || version.seq > latest->seq))
      latest = &version;
  return latest;
}

std::vector<const PipelineVersion*> Store::versions_of(const std::string& pipeline_id) const {
  std::vector<const PipelineVersion*> result;
  for (const auto& [id, version] : versions)
    if (version.pipeline_id == pipeline_id) result.push_back(&version);
  return result;
}

const Experiment* Store::find_experiment(const std::string& id) const {
  return stored(experiments, id);
}

const Experiment* Store::find_experiment_by_name(const std::string& name, const std::string& ns) const {
  for (const auto& [id, experiment] : experiments)
    if (experiment.display_name == name && experiment.ns == ns) return &experiment;
  return nullptr;
}

Run* Store::find_run(const std::string& id) {
  return stored(runs, id);
}

namespace {

void put_if(json::object& object, std::string_view key, const std::string& value) {
  if (!value.empty()) object[key] = value;
}

json::object owner_reference(std::string_view type, const std::string& id) {
  return json::object{{"key", json::object{{"type", type}, {"id", id}}}, {"relationship", "OWNER"}};
}

// v1 parameters [{name, value}] as a runtime config's {name: "value"} (toMapProtoStructParameters).
json::object parameters_as_strings(const json::array& v1_parameters) {
  json::object parameters;
  for (const auto& item : v1_parameters) {
    if (!item.is_object()) continue;
    const auto* name = item.as_object().if_contains("name");
    const auto* value = item.as_object().if_contains("value");
    if (name != nullptr && name->is_string())
      parameters[name->as_string()] = value != nullptr && value->is_string() ? *value : json::value("");
  }
  return parameters;
}

}  // namespace

json::object to_v2(const Pipeline& pipeline, ServerVersion version) {
  json::object out;
  out["pipeline_id"] = pipeline.id;
  put_if(out, "display_name", pipeline.display_name);
  if (has_separate_names(version)) put_if(out, "name", pipeline.name);
  put_if(out, "description", pipeline.description);
  out["created_at"] = rfc3339(pipeline.created_at);
  put_if(out, "namespace", pipeline.ns);
  if (has_tags(version) && !pipeline.tags.empty()) out["tags"] = pipeline.tags;
  return out;
}

json::object to_v2(const PipelineVersion& pipeline_version, ServerVersion version) {
  json::object out;
  out["pipeline_id"] = pipeline_version.pipeline_id;
  out["pipeline_version_id"] = pipeline_version.id;
  put_if(out, "display_name", pipeline_version.display_name);
  if (has_separate_names(version)) put_if(out, "name", pipeline_version.name);
  put_if(out, "description", pipeline_version.description);
  out["created_at"] = rfc3339(pipeline_version.created_at);
  if (!pipeline_version.package_url.empty())
    out["package_url"] = json::object{{"pipeline_url", pipeline_version.package_url}};
  // toApiPipelineVersion never sets code_source_url (api_converter.go:422-439 @2.3.0, :526-545 @2.17.0).
  if (!pipeline_version.pipeline_spec.is_null()) out["pipeline_spec"] = pipeline_version.pipeline_spec;
  if (has_tags(version) && !pipeline_version.tags.empty()) out["tags"] = pipeline_version.tags;
  return out;
}

json::object to_v2(const Experiment& experiment) {
  json::object out;
  out["experiment_id"] = experiment.id;
  put_if(out, "display_name", experiment.display_name);
  put_if(out, "description", experiment.description);
  out["created_at"] = rfc3339(experiment.created_at);
  put_if(out, "namespace", experiment.ns);
  out["storage_state"] = experiment.storage_state;
  out["last_run_created_at"] = rfc3339(experiment.last_run_created_at.value_or(Time{}));
  return out;
}

json::object to_v2(const Run& run, Time now) {
  auto status = run_status(run, now);
  json::object out;
  put_if(out, "experiment_id", run.experiment_id);
  out["run_id"] = run.id;
  put_if(out, "display_name", run.display_name);
  out["storage_state"] = run.storage_state;
  put_if(out, "description", run.description);
  if (!run.pipeline_spec.is_null()) {
    out["pipeline_spec"] = run.pipeline_spec;
  } else {
    json::object reference{{"pipeline_id", run.pipeline_id}};
    put_if(reference, "pipeline_version_id", run.pipeline_version_id);
    out["pipeline_version_reference"] = std::move(reference);
  }
  if (run.runtime_config.is_object() && !run.runtime_config.as_object().empty()) {
    out["runtime_config"] = run.runtime_config;
  } else if (!run.v1_parameters.empty()) {
    // api_converter.go toApiRun: without a runtime config, the v1 parameters as strings.
    out["runtime_config"] = json::object{{"parameters", parameters_as_strings(run.v1_parameters)}};
  }
  put_if(out, "service_account", run.service_account);
  out["created_at"] = rfc3339(run.created_at);
  out["scheduled_at"] = rfc3339(run.created_at);
  out["finished_at"] = rfc3339(status.finished_at.value_or(Time{}));
  out["state"] = status.state;
  // toApiRun: run_details only when it holds something; the tasks come from the workflow's nodes
  // once the persistence agent reports them (tasks.hpp).
  if (run.blueprint) {
    auto details = task_details(run, run_nodes(run, now, ServerVersion::v2_17_0));
    if (!details.empty()) out["run_details"] = json::object{{"task_details", std::move(details)}};
  }
  put_if(out, "recurring_run_id", run.recurring_run_id);
  json::array history;
  for (const auto& [time, state] : status.history)
    history.push_back(json::object{{"update_time", rfc3339(time)}, {"state", state}});
  out["state_history"] = std::move(history);
  return out;
}

json::object to_v2(const RecurringRun& recurring_run) {
  json::object out;
  out["recurring_run_id"] = recurring_run.id;
  put_if(out, "display_name", recurring_run.display_name);
  put_if(out, "description", recurring_run.description);
  // api_converter.go toApiRecurringRun: the version reference, else the stored spec itself.
  if (!recurring_run.pipeline_version_id.empty() || recurring_run.pipeline_spec.is_null()) {
    json::object reference{{"pipeline_id", recurring_run.pipeline_id}};
    put_if(reference, "pipeline_version_id", recurring_run.pipeline_version_id);
    out["pipeline_version_reference"] = std::move(reference);
  } else {
    out["pipeline_spec"] = recurring_run.pipeline_spec;
  }
  if (recurring_run.runtime_config.is_object() && !recurring_run.runtime_config.as_object().empty())
    out["runtime_config"] = recurring_run.runtime_config;
  else if (!recurring_run.v1_parameters.empty())
    // api_converter.go toApiRecurringRun: without a runtime config, the v1 parameters as strings.
    out["runtime_config"] = json::object{{"parameters", parameters_as_strings(recurring_run.v1_parameters)}};
  put_if(out, "service_account", recurring_run.service_account);
  out["max_concurrency"] = recurring_run.max_concurrency;
  if (!recurring_run.trigger.is_null()) out["trigger"] = recurring_run.trigger;
  out["mode"] = recurring_run.mode;
  out["created_at"] = rfc3339(recurring_run.created_at);
  out["updated_at"] = rfc3339(recurring_run.created_at);
  out["status"] = recurring_run.mode == "ENABLE" ? "ENABLED" : "DISABLED";
  if (recurring_run.no_catchup) out["no_catchup"] = true;
  put_if(out, "namespace", recurring_run.ns);
  put_if(out, "experiment_id", recurring_run.experiment_id);
  return out;
}

json::object to_json(const Workflow& workflow) {
  json::object out{{"name", workflow.name}};
  if (workflow.recurring_run_id.empty())
    out["run_id"] = workflow.run_id;
  else
    out["recurring_run_id"] = workflow.recurring_run_id;
  out["namespace"] = workflow.ns;
  out["api"] = workflow.api;
  out["kind"] = package::to_string(workflow.kind);
  out["parameters"] = workflow.parameters;
  out["provided"] = workflow.provided;
  out["created_at"] = rfc3339(workflow.created_at);
  return out;
}

json::array v1_parameters(const PipelineVersion& pipeline_version) {
  json::array out;
  if (pipeline_version.kind != package::Kind::argo_workflow) return out;
  for (const auto& input : pipeline_version.inputs) {
    json::object parameter{{"name", input.name}};
    if (input.default_value) {
      const auto& value = *input.default_value;
      parameter["value"] = value.is_string() ? std::string(value.as_string()) : json::serialize(value);
    }
    out.push_back(std::move(parameter));
  }
  return out;
}

json::object to_v1(const PipelineVersion& pipeline_version) {
  json::object out;
  out["id"] = pipeline_version.id;
  put_if(out, "name", pipeline_version.name);
  out["created_at"] = rfc3339(pipeline_version.created_at);
  auto parameters = v1_parameters(pipeline_version);
  if (!parameters.empty()) out["parameters"] = std::move(parameters);
  put_if(out, "code_source_url", pipeline_version.code_source_url);
  if (!pipeline_version.package_url.empty())
    out["package_url"] = json::object{{"pipeline_url", pipeline_version.package_url}};
  out["resource_references"] = json::array{owner_reference("PIPELINE", pipeline_version.pipeline_id)};
  put_if(out, "description", pipeline_version.description);
  return out;
}

json::object to_v1(const Pipeline& pipeline, const PipelineVersion* default_version) {
  json::object out;
  out["id"] = pipeline.id;
  out["created_at"] = rfc3339(pipeline.created_at);
  put_if(out, "name", pipeline.name);
  put_if(out, "description", pipeline.description);
  if (default_version != nullptr) {
    auto parameters = v1_parameters(*default_version);
    if (!parameters.empty()) out["parameters"] = std::move(parameters);
    out["default_version"] = to_v1(*default_version);
  }
  if (!pipeline.ns.empty())
    out["resource_references"] = json::array{owner_reference("NAMESPACE", pipeline.ns)};
  return out;
}

json::object to_v1(const Experiment& experiment) {
  json::object out;
  out["id"] = experiment.id;
  put_if(out, "name", experiment.display_name);
  put_if(out, "description", experiment.description);
  out["created_at"] = rfc3339(experiment.created_at);
  if (!experiment.ns.empty())
    out["resource_references"] = json::array{owner_reference("NAMESPACE", experiment.ns)};
  out["storage_state"] =
      experiment.storage_state == "ARCHIVED" ? "STORAGESTATE_ARCHIVED" : "STORAGESTATE_AVAILABLE";
  return out;
}

json::object to_v1(const Run& run, Time now, ServerVersion /*version*/) {
  auto status = run_status(run, now);
  json::object out;
  out["id"] = run.id;
  put_if(out, "name", run.display_name);
  out["storage_state"] = run.storage_state == "ARCHIVED" ? "STORAGESTATE_ARCHIVED" : "STORAGESTATE_AVAILABLE";
  put_if(out, "description", run.description);
  json::object spec;
  put_if(spec, "pipeline_id", run.pipeline_id);
  // api_converter.go toApiRunV1: the v1 parameters when there are any, else the runtime config.
  if (!run.v1_parameters.empty())
    spec["parameters"] = run.v1_parameters;
  else if (run.runtime_config.is_object() && !run.runtime_config.as_object().empty())
    spec["runtime_config"] = run.runtime_config;
  out["pipeline_spec"] = std::move(spec);
  json::array references;
  if (!run.experiment_id.empty()) references.push_back(owner_reference("EXPERIMENT", run.experiment_id));
  if (!run.ns.empty()) references.push_back(owner_reference("NAMESPACE", run.ns));
  if (!run.pipeline_version_id.empty())
    references.push_back(
        json::object{{"key", json::object{{"type", "PIPELINE_VERSION"}, {"id", run.pipeline_version_id}}},
                     {"relationship", "CREATOR"}});
  out["resource_references"] = std::move(references);
  put_if(out, "service_account", run.service_account);
  out["created_at"] = rfc3339(run.created_at);
  out["scheduled_at"] = rfc3339(run.created_at);
  out["finished_at"] = rfc3339(status.finished_at.value_or(Time{}));
  out["status"] = v1_status(status);
  return out;
}

json::object to_v1(const RecurringRun& recurring_run, ServerVersion version) {
  const bool v1_server = is_v1_server(version);
  const bool enabled = recurring_run.mode == "ENABLE";
  json::object out;
  out["id"] = recurring_run.id;
  put_if(out, "name", recurring_run.display_name);
  put_if(out, "description", recurring_run.description);
  json::object spec;
  put_if(spec, "pipeline_id", recurring_run.pipeline_id);
  put_if(spec, "pipeline_name", recurring_run.pipeline_name);
  put_if(spec, recurring_run.kind == package::Kind::argo_workflow ? "workflow_manifest" : "pipeline_manifest",
         recurring_run.manifest);
  // The v1 parameters when there are any (1.8 lists a PipelineSpec's runtime config as such), else
  // the runtime config (2.x toApiJobV1).
  if (!recurring_run.v1_parameters.empty())
    spec["parameters"] = recurring_run.v1_parameters;
  else if (!v1_server && recurring_run.runtime_config.is_object() &&
           !recurring_run.runtime_config.as_object().empty())
    spec["runtime_config"] = recurring_run.runtime_config;
  out["pipeline_spec"] = std::move(spec);
  if (v1_server) {
    if (!recurring_run.references.empty()) out["resource_references"] = recurring_run.references;
  } else {
    // model.Job ToV1: the references rebuilt from the job's fields, without names.
    json::array references;
    if (!recurring_run.ns.empty()) references.push_back(owner_reference("NAMESPACE", recurring_run.ns));
    if (!recurring_run.experiment_id.empty())
      references.push_back(owner_reference("EXPERIMENT", recurring_run.experiment_id));
    auto creator = [](std::string_view type, const std::string& id) {
      return json::object{{"key", json::object{{"type", type}, {"id", id}}}, {"relationship", "CREATOR"}};
    };
    if (!recurring_run.pipeline_id.empty())
      references.push_back(creator("PIPELINE", recurring_run.pipeline_id));
    if (!recurring_run.pipeline_version_id.empty())
      references.push_back(creator("PIPELINE_VERSION", recurring_run.pipeline_version_id));
    if (!references.empty()) out["resource_references"] = std::move(references);
  }
  put_if(out, "service_account", recurring_run.service_account);
  out["max_concurrency"] = recurring_run.max_concurrency;
  if (!recurring_run.trigger.is_null()) out["trigger"] = recurring_run.trigger;
  out["created_at"] = rfc3339(recurring_run.created_at);
  out["updated_at"] = rfc3339(recurring_run.created_at);
  // The ScheduledWorkflow's condition as the persistence agent last reported it: none yet at
  // creation (ConditionSummary "NO_STATUS"; 2.x maps it to STATUS_UNSPECIFIED).
  if (v1_server)
    out["status"] = !recurring_run.reported ? "NO_STATUS" : enabled ? "Enabled" : "Disabled";
  else
    out["status"] = !recurring_run.reported ? "STATUS_UNSPECIFIED" : enabled ? "ENABLED" : "DISABLED";
  if (enabled) out["enabled"] = true;
  if (recurring_run.no_catchup) out["no_catchup"] = true;
  return out;
}

}  // namespace kfp::emulator
