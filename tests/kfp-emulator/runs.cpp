#include "runs.hpp"

#include "templates.hpp"
#include "upload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// template/v2_template.go validatePipelineJobInputs (2.x): required inputs, value kinds, extras.
void check_v2_inputs(const std::vector<package::InputParameter>& inputs, const json::object& given) {
  auto sorted = inputs;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& input : sorted) {
    const auto* value = given.if_contains(input.name);
    if (value == nullptr) {
      if (!input.optional && !input.default_value)
        throw ApiFailure(invalid_input(
            fmt::format("parameter {} is not optional, yet has neither default value nor user provided value",
                        input.name)));
      continue;
    }
    auto mismatch = [&](std::string_view type, std::string_view kind) {
      throw ApiFailure(invalid_input(
          fmt::format("input parameter {} requires type {}, but the input parameter is not of {} value type",
                      input.name, type, kind)));
    };
    switch (input.type) {
      case package::ParameterType::number_integer:
      case package::ParameterType::number_double:
        if (!value->is_number())
          throw ApiFailure(
              invalid_input(fmt::format("input parameter {} requires type double or integer, but the "
                                        "parameter value is not of number value type",
                                        input.name)));
        break;
      case package::ParameterType::string:
        if (!value->is_string()) mismatch("string", "string");
        break;
      case package::ParameterType::boolean:
        if (!value->is_bool()) mismatch("bool", "bool");
        break;
      case package::ParameterType::list:
        if (!value->is_array()) mismatch("list", "list");
        break;
      case package::ParameterType::structure:
        if (!value->is_object()) mismatch("struct", "struct");
        break;
    }
  }
  std::vector<std::string> extra;
  for (const auto& entry : given) {
    const auto& name = entry.key();
    if (std::none_of(inputs.begin(), inputs.end(), [&](const auto& input) { return input.name == name; }))
      extra.emplace_back(name);
  }
  std::sort(extra.begin(), extra.end());
  if (!extra.empty())
    throw ApiFailure(invalid_input("parameter(s) provided are not required by pipeline: " + joined(extra)));
}

// 1.8's v1beta1 runtime_config values are api.Value objects: {int_value|double_value|string_value}.
json::value from_api_value(const json::value& value) {
  if (!value.is_object()) return value;
  const auto& object = value.as_object();
  if (const auto* text = object.if_contains("string_value"); text && text->is_string()) return *text;
  if (const auto* number = object.if_contains("double_value")) return *number;
  if (const auto* number = object.if_contains("int_value")) {
    // int64 travels as a JSON string.
    if (number->is_string()) {
      try {
        return static_cast<std::int64_t>(std::stoll(std::string(number->as_string())));
      } catch (const std::exception&) {
        return *number;
      }
    }
    return *number;
  }
  return value;
}

}  // namespace

json::object runtime_parameters(const json::value& runtime_config) {
  if (!runtime_config.is_object()) return {};
  const auto* parameters = runtime_config.as_object().if_contains("parameters");
  if (parameters == nullptr || !parameters->is_object()) return {};
  return parameters->as_object();
}

RunTemplate run_template(App& app, const RunRequest& request, std::string_view fetch_failure) {
  RunTemplate tmpl;
  std::string manifest = request.manifest;
  if (!request.inline_spec.is_null()) manifest = json::serialize(request.inline_spec);
  if (request.pipeline_version_id.empty() && request.pipeline_id.empty()) {
    if (manifest.empty())
      throw ApiFailure(invalid_input("Failed to fetch a template with an empty pipeline spec manifest"));
    auto parsed = package::parse(manifest, "pipeline_spec");
    if (!parsed)
      throw ApiFailure(
          wrap(api_error(Code::invalid_argument,
                         "InvalidInputError: " + parsed.error().message + ": pipeline spec is invalid",
                         parsed.error().message),
               "Failed to fetch a template with an invalid pipeline spec manifest"));
    tmpl.kind = parsed->kind;
    tmpl.inputs = parsed->inputs;
    tmpl.manifest = manifest;
    if (!request.inline_spec.is_null()) {
      tmpl.document = request.inline_spec;
    } else {
      try {
        tmpl.document = yaml_to_json(manifest);
      } catch (const std::exception&) {
        tmpl.document = nullptr;  // validated above; a document the emulator cannot read has no tasks
      }
    }
    if (!request.inline_spec.is_null()) tmpl.pipeline_spec = request.inline_spec;
    return tmpl;
  }
  const PipelineVersion* version = nullptr;
  if (!request.pipeline_version_id.empty()) {
    version = app.store().find_version(request.pipeline_version_id);
    if (version == nullptr) {
      auto error = wrap(resource_not_found("PipelineVersion", request.pipeline_version_id),
                        fmt::format("Failed to fetch a pipeline version {}", request.pipeline_version_id));
      throw ApiFailure(internal_server(error.message, std::string(fetch_failure)));
    }
  } else {
    if (app.store().find_pipeline(request.pipeline_id) == nullptr) {
      auto error = wrap(resource_not_found("Pipeline", request.pipeline_id),
                        fmt::format("Failed to fetch pipeline {}", request.pipeline_id));
      throw ApiFailure(internal_server(error.message, std::string(fetch_failure)));
    }
    // The pipeline's default version: the latest one.
    version = app.store().latest_version(request.pipeline_id);
    if (version == nullptr)
      throw ApiFailure(internal_server(
          fmt::format("ResourceNotFoundError: PipelineVersion {} not found.", request.pipeline_id),
          std::string(fetch_failure)));
  }
  tmpl.pipeline_id = version->pipeline_id;
  tmpl.pipeline_version_id = version->id;
  tmpl.version_name = version->name;
  tmpl.manifest = template_text(*version, app.version());
  tmpl.kind = version->kind;
  tmpl.inputs = version->inputs;
  tmpl.document = version->pipeline_spec;
  return tmpl;
}

json::object workflow_parameters(App& app, const RunTemplate& tmpl, const RunRequest& request,
                                 json::object& provided) {
  const bool v1_server = is_v1_server(app.version());
  json::object parameters;
  provided.clear();
  if (tmpl.kind == package::Kind::argo_workflow) {
    // template/argo_template.go RunWorkflow: the v1 parameters only (a v2beta1 request has none:
    // toModelRun blanks them), each one a declared workflow argument (VerifyParameters).
    for (const auto& item : request.v1_parameters) {
      if (!item.is_object()) continue;
      auto name = text_of(item.as_object(), "name");
      const auto* value = item.as_object().if_contains("value");
      bool declared = std::any_of(tmpl.inputs.begin(), tmpl.inputs.end(),
                                  [&](const auto& input) { return input.name == name; });
      if (!declared)
        throw ApiFailure(wrap(invalid_input("Unrecognized input parameter: " + name),
                              v1_server ? "Failed to verify parameters." : "Failed to verify parameters"));
      provided[name] = value != nullptr && value->is_string() ? *value : json::value("");
    }
    for (const auto& input : tmpl.inputs) {
      if (const auto* value = provided.if_contains(input.name))
        parameters[input.name] = *value;
      else if (input.default_value)
        parameters[input.name] = input.default_value->is_string()
                                     ? *input.default_value
                                     : json::value(json::serialize(*input.default_value));
    }
    return parameters;
  }
  // A v2 PipelineSpec takes runtime_config.parameters only; v1 `parameters` never reach it.
  auto given = runtime_parameters(request.runtime_config);
  if (v1_server) {
    // 1.8 compiles the v2 job without checking its inputs (template/v2_template.go:128-162).
    for (const auto& [name, value] : given) provided[name] = from_api_value(value);
  } else {
    check_v2_inputs(tmpl.inputs, given);
    provided = given;
  }
  for (const auto& input : tmpl.inputs) {
    if (const auto* value = provided.if_contains(input.name))
      parameters[input.name] = *value;
    else if (input.default_value)
      parameters[input.name] = *input.default_value;
  }
  return parameters;
}

RunSource run_source(App& app, const RunRequest& request, const RunTemplate& tmpl,
                     const Experiment& experiment) {
  RunSource source;
  source.id = new_uuid();
  source.display_name = request.display_name;
  source.description = request.description;
  source.experiment_id = experiment.id;
  source.ns = experiment.ns;
  source.pipeline_id = tmpl.pipeline_id;
  source.pipeline_version_id = tmpl.pipeline_version_id;
  source.pipeline_spec = tmpl.pipeline_spec;
  source.runtime_config = request.runtime_config;
  source.service_account = request.service_account;
  // setDefaultServiceAccount: DEFAULTPIPELINERUNNERSERVICEACCOUNT of the install.
  if (source.service_account.empty())
    source.service_account = app.multi_user() ? "default-editor" : "pipeline-runner";
  source.created_at = app.now();
  source.seq = app.store().next_seq();
  return source;
}

Workflow new_workflow(App& app, const RunTemplate& tmpl, const RunRequest& request, const std::string& ns,
                      Time created_at, json::object parameters, json::object provided) {
  Workflow workflow;
  workflow.ns = ns.empty() ? std::string(kfp_install_namespace) : ns;
  workflow.api = request.api == ApiFlavor::v1beta1 ? "v1beta1" : "v2beta1";
  workflow.kind = tmpl.kind;
  workflow.parameters = std::move(parameters);
  workflow.provided = std::move(provided);
  workflow.created_at = created_at;
  workflow.seq = app.store().next_seq();
  return workflow;
}

const Experiment& owning_experiment(App& app, const std::string& experiment_id, std::string_view what) {
  const bool v1_server = is_v1_server(app.version());
  auto& store = app.store();
  const std::string combination =
      fmt::format("Failed to create a {} due to invalid experimentId and namespace combination", what);
  const Experiment* experiment = nullptr;
  if (experiment_id.empty()) {
    if (app.multi_user()) {
      if (v1_server) throw ApiFailure(invalid_input("Job has no experiment."));
      throw ApiFailure(wrap(invalid_input("Experiment id can not be empty in multi-user mode"), combination));
    }
    if (store.default_experiment_id.empty()) create_default_experiment(app);
    experiment = store.find_experiment(store.default_experiment_id);
  } else {
    experiment = store.find_experiment(experiment_id);
    if (experiment == nullptr) {
      auto error = wrap(resource_not_found("Experiment", experiment_id),
                        fmt::format("Failed to get experiment {}", experiment_id));
      if (v1_server) throw ApiFailure(wrap(error, "Failed to get experiment for job."));
      throw ApiFailure(
          wrap(wrap(error, fmt::format("Failed to fetch namespace for experiment {}", experiment_id)),
               combination));
    }
  }
  if (app.multi_user() && experiment->ns.empty()) {
    if (v1_server) throw ApiFailure(invalid_input("Job's experiment has no namespace."));
    throw ApiFailure(invalid_input(what == "run"
                                       ? "A run cannot have an empty namespace in multi-user mode"
                                       : "Recurring run cannot have an empty namespace in multi-user mode"));
  }
  return *experiment;
}

const Run& create_run(Context& context, RunRequest request) {
  App& app = context.app;
  const auto version = app.version();
  const bool v1_server = is_v1_server(version);
  auto& store = app.store();

  const Experiment& experiment = owning_experiment(app, request.experiment_id, "run");
  const std::string ns = experiment.ns;
  if (auto denied = app.check_access(context.request, "runs", "create", ns)) {
    if (v1_server)
      throw ApiFailure(wrap(wrap(*denied, "Failed to authorize with API resource references"),
                            "Failed to authorize the request"));
    auto error =
        wrap(*denied, fmt::format("Failed to access run . Check if you have access to namespace {}", ns));
    throw ApiFailure(
        wrap(error, fmt::format("Failed to create a run due to authorization error. Check if you have "
                                "write permissions to namespace {}",
                                ns)));
  }

  // ResourceManager.CreateRun: the template, the workflow's parameters, the workflow, the INSERT.
  auto tmpl = run_template(app, request, "Failed to create a run due to error fetching manifest");
  json::object provided;
  json::object parameters;
  try {
    parameters = workflow_parameters(app, tmpl, request, provided);
  } catch (const ApiFailure& failure) {
    // 1.8 turns every RunWorkflow failure into an internal error (resource_manager.go:359-362).
    if (v1_server)
      throw ApiFailure(internal_server(failure.error().message, "failed to generate the workflow."));
    throw failure.wrapped(tmpl.kind == package::Kind::argo_workflow
                              ? "Failed to generate the ExecutionSpec"
                              : "Failed to generate the ExecutionSpec: invalid pipeline job inputs");
  }

  Run run;
  static_cast<RunSource&>(run) = run_source(app, request, tmpl, experiment);
  run.pipeline_manifest = request.manifest;
  run.v1_parameters = request.v1_parameters;
  run.recurring_run_id = request.recurring_run_id;
  run.started_at = run.created_at;

  auto workflow =
      new_workflow(app, tmpl, request, ns, run.created_at, std::move(parameters), std::move(provided));
  workflow.name = fmt::format("{}-{}", tmpl.kind == package::Kind::argo_workflow ? "run" : "pipeline",
                              run.id.substr(0, 8));
  workflow.run_id = run.id;
  run.workflow = workflow.name;
  store.workflows.emplace(workflow.name, std::move(workflow));

  // run_store.go CreateRun: the INSERT after the workflow exists; strict MySQL refuses values over
  // their columns (VARCHAR(255) descriptions and names).
  if (auto error = insert_error(version, "run_details",
                                {{"DisplayName", run.display_name},
                                 {"Description", run.description},
                                 {"Namespace", run.ns},
                                 {"ServiceAccount", run.service_account}})) {
    auto failure = internal_server(*error, fmt::format("Failed to store run {} to table", run.display_name));
    throw ApiFailure(v1_server ? failure : wrap(failure, "Failed to create a run"));
  }
  std::tie(run.outcome, run.plan) = app.control().next_outcome();
  run.blueprint = make_blueprint(tmpl.document);
  run.duration = app.options().run_duration;
  store.experiments[experiment.id].last_run_created_at = run.created_at;
  auto id = run.id;
  return store.runs.emplace(id, std::move(run)).first->second;
}

void terminate_run(App& app, Run& run) {
  auto state = run_status(run, app.now()).state;
  if (state != "PENDING" && state != "RUNNING" && state != "PAUSED" && !state.empty())
    throw ApiFailure(
        api_error(Code::invalid_argument,
                  fmt::format("Failed to terminate a run {}: InvalidInputError: Failed to terminate run "
                              "{}. Row not found",
                              run.id, run.id),
                  fmt::format("Failed to terminate run {}. Row not found", run.id)));
  run.terminated_at = app.now();
}

void retry_run(App& app, Run& run) {
  auto state = run_status(run, app.now()).state;
  if (state != "FAILED" && state != "CANCELED")
    throw ApiFailure(
        internal_server("workflow cannot be retried",
                        fmt::format("Failed to retry run {} as it does not allow reties", run.id)));
  run.started_at = app.now();
  run.terminated_at.reset();
  std::tie(run.outcome, run.plan) = app.control().next_outcome();
  run.retried = true;
}

void set_run_archived(App& app, Run& run, bool archived) {
  const auto* experiment = app.store().find_experiment(run.experiment_id);
  if (!archived && experiment != nullptr && experiment->storage_state == "ARCHIVED")
    throw ApiFailure(api_error(
        Code::failed_precondition,
        fmt::format(
            "Failed to unarchive run {} as experiment {} must be un-archived first: Unarchive the experiment "
            "first to allow the run to be restored",
            run.id, run.experiment_id),
        fmt::format("Failed to unarchive run {} as experiment {} must be un-archived first", run.id,
                    run.experiment_id)));
  run.storage_state = archived ? "ARCHIVED" : "AVAILABLE";
}

void set_experiment_archived(App& app, const std::string& experiment_id, bool archived) {
  auto& store = app.store();
  store.experiments.at(experiment_id).storage_state = archived ? "ARCHIVED" : "AVAILABLE";
  if (!archived) return;
  for (auto& [id, run] : store.runs)
    if (run.experiment_id == experiment_id) run.storage_state = "ARCHIVED";
  for (auto& [id, job] : store.recurring_runs)
    if (job.experiment_id == experiment_id) job.mode = "DISABLE";
}

void register_actions(App& app, const ActionPaths& paths, RunFinder find_run,
                      ExperimentFinder find_experiment) {
  auto on_run = [&](const std::string& path, std::string_view verb, void (*act)(App&, Run&)) {
    app.add("POST", path, ErrorShape::gateway, [find_run, verb, act](Context& context) {
      act(context.app, find_run(context, verb));
      return json_reply(json::object{});
    });
  };
  on_run(paths.terminate, "terminate", terminate_run);
  on_run(paths.retry, "retry", retry_run);
  on_run(paths.archive, "archive", [](App& a, Run& r) { set_run_archived(a, r, true); });
  on_run(paths.unarchive, "unarchive", [](App& a, Run& r) { set_run_archived(a, r, false); });
  for (bool archived : {true, false}) {
    app.add("POST", archived ? paths.archive_experiment : paths.unarchive_experiment, ErrorShape::gateway,
            [find_experiment, archived](Context& context) {
              const auto& experiment = find_experiment(context, archived ? "archive" : "unarchive");
              set_experiment_archived(context.app, experiment.id, archived);
              return json_reply(json::object{});
            });
  }
}

}  // namespace kfp::emulator
