// The v1beta1 endpoints: all KFP 1.8 serves, and what every 2.x server still serves. Error chains
// follow the release's server/*_server.go; FIDELITY.md cites each behaviour.

#include "app.hpp"
#include "jobs.hpp"
#include "listing.hpp"
#include "resources.hpp"
#include "runs.hpp"
#include "templates.hpp"

#include <fmt/format.h>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

constexpr std::string_view v1 = "/apis/v1beta1";

std::string route(std::string_view suffix) {
  return std::string(v1) + std::string(suffix);
}

const std::set<std::string> pipeline_keys = {"id", "name", "created_at", "description"};
const std::set<std::string> version_keys = {"id", "name", "created_at", "description"};
const std::set<std::string> experiment_keys = {"id", "name", "created_at", "description", "storage_state"};
const std::set<std::string> run_keys = {"id",          "name",          "created_at", "finished_at",
                                        "description", "storage_state", "status"};

// The reference of `type` in a resource_references list, empty when absent.
std::string reference_id(const json::object& body, std::string_view type) {
  const auto* references = body.if_contains("resource_references");
  if (references == nullptr || !references->is_array()) return {};
  for (const auto& item : references->as_array()) {
    if (!item.is_object()) continue;
    const auto* key = item.as_object().if_contains("key");
    if (key == nullptr || !key->is_object()) continue;
    const auto* key_type = key->as_object().if_contains("type");
    if (key_type != nullptr && key_type->is_string() && key_type->as_string() == type)
      return text_of(key->as_object(), "id");
  }
  return {};
}

// resource_reference_key.type / .id query parameters.
std::string query_reference(const Request& request, std::string_view prefix, std::string_view type) {
  if (request.param_or(std::string(prefix) + ".type") != type) return {};
  return request.param_or(std::string(prefix) + ".id");
}

json::object run_detail(const Run& run, App& app) {
  // toApiRunDetailV1 (2.x) / ToApiRunDetail (1.8): the workflow as the persistence agent last
  // reported it (tasks.hpp), with status.nodes once the run runs; an inline v2 spec's run also
  // carries its pipeline manifest on 2.x.
  auto now = app.now();
  json::object runtime{
      {"workflow_manifest", workflow_manifest(run, run_nodes(run, now, app.version()), app.version())}};
  if (!is_v1_server(app.version()) && !run.pipeline_spec.is_null())
    runtime["pipeline_manifest"] = json::serialize(run.pipeline_spec);
  return json::object{{"run", to_v1(run, now, app.version())}, {"pipeline_runtime", std::move(runtime)}};
}

Reply healthz(Context& context) {
  const auto version = context.app.version();
  std::string multi_user = context.app.multi_user() ? "true" : "false";
  if (has_tags(version))
    return json_reply(json::object{{"commit_sha", "kfp-emulator"},
                                   {"tag_name", to_string(version)},
                                   {"multi_user", context.app.multi_user()}});
  Reply reply;
  reply.body = R"({"commit_sha":"kfp-emulator", "tag_name":")" + std::string(to_string(version)) +
               R"(", "multi_user":)" + multi_user + "}";
  // 1.8 writes the body without a Content-Type; net/http sniffs it (main.go:146-148).
  if (is_v1_server(version)) reply.content_type = sniffed_content_type(reply.body);
  return reply;
}

Reply upload(Context& context) {
  return upload_pipeline(context, ApiFlavor::v1beta1);
}

Reply upload_version(Context& context) {
  return upload_pipeline_version(context, ApiFlavor::v1beta1);
}

std::optional<FieldValue> pipeline_field(const Pipeline& p, const std::string& key) {
  if (key == "id") return p.id;
  if (key == "name") return p.name;
  if (key == "created_at") return unix_seconds(p.created_at);
  if (key == "description") return p.description;
  return std::nullopt;
}

Reply list_pipelines(Context& context) {
  App& app = context.app;
  std::string ns =
      app.multi_user() ? query_reference(context.request, "resource_reference_key", "NAMESPACE") : "";
  if (!ns.empty()) app.authorize(context.request, "pipelines", "list", ns);
  const auto& store = app.store();
  Listing<Pipeline> listing{"pipelines",
                            pipeline_keys,
                            FilterDialect::v1beta1,
                            false,
                            pipeline_field,
                            [&store](const Pipeline& p) { return to_v1(p, store.latest_version(p.id)); }};
  return json_reply(list_json(context.request, listing,
                              select(store.pipelines, [&](const Pipeline& p) { return p.ns == ns; })));
}

Reply get_pipeline(Context& context) {
  App& app = context.app;
  const auto* pipeline = app.store().find_pipeline(context.args[0]);
  if (pipeline == nullptr) not_found("Pipeline", context.args[0]);
  if (!pipeline->ns.empty()) app.authorize(context.request, "pipelines", "get", pipeline->ns);
  return json_reply(to_v1(*pipeline, app.store().latest_version(pipeline->id)));
}

std::optional<FieldValue> version_field(const PipelineVersion& v, const std::string& key) {
  if (key == "id") return v.id;
  if (key == "name") return v.name;
  if (key == "created_at") return unix_seconds(v.created_at);
  if (key == "description") return v.description;
  return std::nullopt;
}

Reply list_versions(Context& context) {
  App& app = context.app;
  auto pipeline_id = query_reference(context.request, "resource_key", "PIPELINE");
  if (pipeline_id.empty()) throw ApiFailure(invalid_input("ResourceKey must be set in the input"));
  const auto* pipeline = app.store().find_pipeline(pipeline_id);
  if (pipeline == nullptr) not_found("Pipeline", pipeline_id);
  if (!pipeline->ns.empty()) app.authorize(context.request, "pipelines", "list", pipeline->ns);
  Listing<PipelineVersion> listing{
      "versions", version_keys,  FilterDialect::v1beta1,
      false,      version_field, [](const PipelineVersion& v) { return to_v1(v); }};
  return json_reply(list_json(context.request, listing, app.store().versions_of(pipeline_id)));
}

Reply get_version(Context& context) {
  App& app = context.app;
  const auto* version = app.store().find_version(context.args[0]);
  if (version == nullptr) not_found("PipelineVersion", context.args[0]);
  if (!version->ns.empty()) app.authorize(context.request, "pipelines", "get", version->ns);
  return json_reply(to_v1(*version));
}

// GET /pipelines/{id}/templates and /pipeline_versions/{id}/templates: the stored template text
// (templates.hpp), {"template": text}. 1.8 checks the `list` verb and skips the check when the
// object is unknown (it reads the namespace first and returns early on ""); 2.x checks `get` and
// fails an unknown object in the check (pipeline_server.go GetTemplate/GetPipelineVersionTemplate).
Reply template_reply(const PipelineVersion& version, ServerVersion server) {
  json::object out;
  if (auto text = template_text(version, server); !text.empty()) out["template"] = std::move(text);
  return json_reply(out);
}

// The 2.x canAccessPipeline of a read: shared pipelines are not checked.
void authorize_pipeline_read(Context& context, const Pipeline& pipeline) {
  if (pipeline.ns.empty()) return;
  if (auto denied = context.app.check_access(context.request, "pipelines", "get", pipeline.ns))
    throw ApiFailure(
        wrap(*denied, fmt::format("Failed to access pipeline {}. Check if you have access to namespace {}",
                                  pipeline.id, pipeline.ns)));
}

// 1.8 CanAccessPipeline[Version] of the template endpoints: `list` on the pipeline's namespace.
void authorize_template_v1_server(Context& context, const Pipeline* pipeline) {
  if (pipeline == nullptr || pipeline->ns.empty()) return;
  if (auto denied = context.app.check_access(context.request, "pipelines", "list", pipeline->ns))
    throw ApiFailure(wrap(wrap(*denied, "Failed to authorize with API resource references"),
                          "Failed to authorize the requests."));
}

Reply get_version_template(Context& context) {
  App& app = context.app;
  const auto& id = context.args[0];
  const auto* version = app.store().find_version(id);
  const auto* pipeline = version != nullptr ? app.store().find_pipeline(version->pipeline_id) : nullptr;
  if (is_v1_server(app.version())) {
    authorize_template_v1_server(context, pipeline);
    if (version == nullptr)
      throw ApiFailure(wrap(wrap(resource_not_found("Version", id), "Get pipeline version template failed"),
                            "Get pipeline template failed."));
    return template_reply(*version, app.version());
  }
  const std::string denied_prefix = fmt::format(
      "Failed to get a pipeline template due to authorization error. Verify that you have access to pipeline "
      "version {}",
      id);
  if (app.multi_user()) {
    if (version == nullptr)
      throw ApiFailure(wrap(wrap(wrap(resource_not_found("PipelineVersion", id),
                                      fmt::format("Failed to get a pipeline version with id {}", id)),
                                 fmt::format("Failed to access pipeline version {}. Check if it exists", id)),
                            denied_prefix));
    if (pipeline != nullptr) {
      try {
        authorize_pipeline_read(context, *pipeline);
      } catch (const ApiFailure& failure) {
        throw failure.wrapped(denied_prefix);
      }
    }
  }
  if (version == nullptr)
    throw ApiFailure(
        wrap(wrap(resource_not_found("PipelineVersion", id),
                  fmt::format(
                      "Failed to get pipeline version template as pipeline version id {} was not found", id)),
             fmt::format("Failed to get a pipeline template for pipeline version {}", id)));
  return template_reply(*version, app.version());
}

Reply get_pipeline_template(Context& context) {
  App& app = context.app;
  const auto& id = context.args[0];
  const auto* pipeline = app.store().find_pipeline(id);
  const auto* latest = pipeline != nullptr ? app.store().latest_version(id) : nullptr;
  if (is_v1_server(app.version())) {
    authorize_template_v1_server(context, pipeline);
    if (pipeline == nullptr)
      throw ApiFailure(wrap(wrap(resource_not_found("Pipeline", id), "Get pipeline template failed"),
                            "Get pipeline template failed."));
    // A pipeline always has its default version on 1.8 (created with it).
    if (latest == nullptr) return json_reply(json::object{});
    return template_reply(*latest, app.version());
  }
  const std::string outer =
      fmt::format("Failed to get the default template (v1beta1) for pipeline {}. Check error stack", id);
  if (app.multi_user()) {
    const std::string denied_prefix = fmt::format(
        "Failed to get the default template (v1beta1) due to authorization error. Verify that you have "
        "access "
        "to pipeline id {}",
        id);
    if (pipeline == nullptr)
      throw ApiFailure(
          wrap(wrap(resource_not_found("Pipeline", id),
                    fmt::format("Failed to access pipeline {}. Check if it exists and have a namespace "
                                "assigned",
                                id)),
               denied_prefix));
    try {
      authorize_pipeline_read(context, *pipeline);
    } catch (const ApiFailure& failure) {
      throw failure.wrapped(denied_prefix);
    }
  }
  if (pipeline == nullptr)
    throw ApiFailure(wrap(wrap(resource_not_found("Pipeline", id),
                               "Failed to get the latest template as pipeline was not found"),
                          outer));
  if (latest == nullptr)
    throw ApiFailure(wrap(
        wrap(resource_not_found("PipelineVersion", id), "Failed to get the latest template for a pipeline"),
        outer));
  return template_reply(*latest, app.version());
}

// The authorization chain of the v1 experiment and run servers.
void authorize_v1(Context& context, std::string_view resource, std::string_view verb, const std::string& ns) {
  if (auto denied = context.app.check_access(context.request, resource, verb, ns))
    throw ApiFailure(wrap(
        wrap(*denied, is_v1_server(context.app.version()) ? "Failed to authorize with API resource references"
                                                          : "Failed to authorize with API"),
        "Failed to authorize the request"));
}

Reply create_experiment(Context& context) {
  App& app = context.app;
  const auto version = app.version();
  auto body = parse_body(app, context.request.body,
                         {"id", "name", "description", "created_at", "resource_references", "storage_state"});
  std::string name = text_of(body, "name");
  std::string ns = app.multi_user() ? reference_id(body, "NAMESPACE") : "";
  if (name.empty()) {
    if (is_v1_server(version)) throw ApiFailure(invalid_input("Experiment must have a non-empty name."));
    throw ApiFailure(
        wrap(internal_server("Invalid input error: Experiment must have a non-empty name",
                             "Failed to convert API experiment to model experiment"),
             "[ExperimentServer]: Failed to create a v1beta1 experiment due to conversion error"));
  }
  if (auto error = model_length_error(version, "Experiment", {{"Name", name}, {"Namespace", ns}}))
    throw ApiFailure(
        wrap(internal_server(error->message, "Failed to convert API experiment to model experiment"),
             "[ExperimentServer]: Failed to create a v1beta1 experiment due to conversion error"));
  if (app.multi_user() && ns.empty())
    throw ApiFailure(invalid_input(
        "Invalid resource references for experiment. Expect one namespace type with owner relationship"));
  authorize_v1(context, "experiments", "create", ns);
  try {
    return json_reply(to_v1(store_experiment(app, name, text_of(body, "description"), ns)));
  } catch (const ApiFailure& failure) {
    throw failure.wrapped(is_v1_server(version) ? "Create experiment failed."
                                                : "Failed to create a v1beta1 experiment");
  }
}

const Experiment& existing_experiment(Context& context, std::string_view verb) {
  const auto* experiment = context.app.store().find_experiment(context.args[0]);
  if (experiment == nullptr) not_found("Experiment", context.args[0]);
  authorize_v1(context, "experiments", verb, experiment->ns);
  return *experiment;
}

Reply get_experiment(Context& context) {
  return json_reply(to_v1(existing_experiment(context, "get")));
}

std::optional<FieldValue> experiment_field(const Experiment& e, const std::string& key) {
  if (key == "id") return e.id;
  if (key == "name") return e.display_name;
  if (key == "created_at") return unix_seconds(e.created_at);
  if (key == "description") return e.description;
  if (key == "storage_state") return e.storage_state;
  return std::nullopt;
}

Reply list_experiments(Context& context) {
  App& app = context.app;
  std::string ns =
      app.multi_user() ? query_reference(context.request, "resource_reference_key", "NAMESPACE") : "";
  if (app.multi_user() && ns.empty())
    throw ApiFailure(invalid_input("ListExperiment must filter by resource reference in multi-user mode"));
  authorize_v1(context, "experiments", "list", ns);
  Listing<Experiment> listing{"experiments", experiment_keys,  FilterDialect::v1beta1,
                              false,         experiment_field, [](const Experiment& e) { return to_v1(e); }};
  return json_reply(list_json(
      context.request, listing,
      select(app.store().experiments, [&](const Experiment& e) { return !app.multi_user() || e.ns == ns; })));
}

// The pipeline source of a v1beta1 run or job body (pipeline_spec and resource_references), as
// toModelRun / toModelJob (2.x) read it; on 1.8 checked as ValidatePipelineSpecAndResourceReferences
// (server/util.go:221-270) does. A 2.x run or job without a name takes pipeline_spec.pipeline_name.
RunRequest v1_request(App& app, const json::object& body) {
  const bool v1_server = is_v1_server(app.version());
  RunRequest request;
  request.api = ApiFlavor::v1beta1;
  request.display_name = text_of(body, "name");
  request.description = text_of(body, "description");
  request.experiment_id = reference_id(body, "EXPERIMENT");
  request.service_account = text_of(body, "service_account");
  request.pipeline_version_id = reference_id(body, "PIPELINE_VERSION");
  bool has_parameters = false, has_runtime_config = false;
  std::string workflow_manifest, pipeline_manifest;
  if (const auto* spec = body.if_contains("pipeline_spec"); spec && spec->is_object()) {
    const auto& object = spec->as_object();
    check_fields(app, object,
                 {"pipeline_id", "pipeline_name", "workflow_manifest", "pipeline_manifest", "parameters",
                  "runtime_config"});
    request.pipeline_id = text_of(object, "pipeline_id");
    if (request.display_name.empty())
      request.display_name = v1_server ? "" : text_of(object, "pipeline_name");
    workflow_manifest = text_of(object, "workflow_manifest");
    pipeline_manifest = text_of(object, "pipeline_manifest");
    if (const auto* list = object.if_contains("parameters"); list && list->is_array()) {
      request.v1_parameters = list->as_array();
      has_parameters = true;
    }
    if (const auto* config = object.if_contains("runtime_config"); config && config->is_object()) {
      request.runtime_config = *config;
      has_runtime_config = true;
    }
  }
  request.manifest = workflow_manifest.empty() ? pipeline_manifest : workflow_manifest;
  if (!v1_server) return request;
  auto invalid = [](const std::string& message) { throw ApiFailure(invalid_input(message)); };
  if (!workflow_manifest.empty() && !pipeline_manifest.empty())
    invalid("Please don't specify both workflow manifest and pipeline manifest.");
  if (!request.manifest.empty() && (!request.pipeline_id.empty() || !request.pipeline_version_id.empty()))
    invalid(
        "Please don't specify a pipeline version or pipeline ID when you specify a workflow manifest or "
        "pipeline manifest.");
  if (request.manifest.empty()) {
    if (request.pipeline_id.empty() && request.pipeline_version_id.empty())
      invalid(
          "Please specify a pipeline by providing a (workflow manifest or pipeline manifest) or (pipeline id "
          "or/and pipeline version).");
    if (!request.pipeline_id.empty() && app.store().find_pipeline(request.pipeline_id) == nullptr)
      throw ApiFailure(wrap(resource_not_found("Pipeline", request.pipeline_id), "Get pipelineId failed."));
    if (!request.pipeline_version_id.empty()) {
      const auto* version = app.store().find_version(request.pipeline_version_id);
      if (version == nullptr)
        throw ApiFailure(wrap(resource_not_found("Version", request.pipeline_version_id),
                              "Get pipelineVersionId failed."));
      if (!request.pipeline_id.empty() && version->pipeline_id != request.pipeline_id)
        invalid("pipeline ID should be parent of pipeline version.");
    }
  }
  if (has_parameters && has_runtime_config)
    invalid("Please don't specify both parameters and runtime config.");
  return request;
}

Reply post_run(Context& context) {
  App& app = context.app;
  auto body = parse_body(
      app, context.request.body,
      {"id", "name", "storage_state", "description", "pipeline_spec", "resource_references",
       "service_account", "created_at", "scheduled_at", "finished_at", "status", "error", "metrics"});
  const bool v1_server = is_v1_server(app.version());
  RunRequest request;
  if (v1_server) {
    // validateCreateRunRequest (1.8 run_server.go:318-324): the name, then the pipeline source.
    try {
      if (text_of(body, "name").empty())
        throw ApiFailure(invalid_input("The run name is empty. Please specify a valid name."));
      request = v1_request(app, body);
    } catch (const ApiFailure& failure) {
      throw failure.wrapped("Validate create run request failed.");
    }
  } else {
    request = v1_request(app, body);
    if (request.display_name.empty())
      throw ApiFailure(
          wrap(internal_server("Invalid input error: Run name cannot be empty",
                               "Failed to convert a v1beta1 API run detail to its internal representation"),
               "CreateJob(job.ToV2())Failed to create a v1beta1 run due to conversion error"));
  }
  try {
    const auto& run = create_run(context, std::move(request));
    return json_reply(run_detail(run, app));
  } catch (const ApiFailure& failure) {
    throw failure.wrapped(is_v1_server(app.version()) ? "Failed to create a new run."
                                                      : "Failed to create a new v1beta1 run");
  }
}

Run& existing_run(Context& context, std::string_view verb) {
  auto* run = context.app.store().find_run(context.args[0]);
  if (run == nullptr) not_found("Run", context.args[0]);
  authorize_v1(context, "runs", verb, run->ns);
  return *run;
}

Reply get_run(Context& context) {
  return json_reply(run_detail(existing_run(context, "get"), context.app));
}

Reply list_runs(Context& context) {
  App& app = context.app;
  auto experiment_id = query_reference(context.request, "resource_reference_key", "EXPERIMENT");
  std::string ns = query_reference(context.request, "resource_reference_key", "NAMESPACE");
  if (!experiment_id.empty()) {
    const auto* experiment = app.store().find_experiment(experiment_id);
    if (experiment == nullptr) not_found("Experiment", experiment_id);
    ns = experiment->ns;
  } else if (app.multi_user() && ns.empty()) {
    throw ApiFailure(invalid_input("ListRuns must filter by resource reference in multi-user mode"));
  }
  if (!app.multi_user()) ns.clear();
  authorize_v1(context, "runs", "list", ns);
  auto now = app.now();
  FieldGetter<Run> field = [now](const Run& r, const std::string& key) -> std::optional<FieldValue> {
    if (key == "id") return r.id;
    if (key == "name") return r.display_name;
    if (key == "created_at") return unix_seconds(r.created_at);
    if (key == "finished_at") return unix_seconds(run_status(r, now).finished_at.value_or(Time{}));
    if (key == "description") return r.description;
    if (key == "storage_state") return r.storage_state;
    if (key == "status") return v1_status(run_status(r, now));
    return std::nullopt;
  };
  auto version = app.version();
  Listing<Run> listing{"runs", run_keys, FilterDialect::v1beta1,
                       false,  field,    [now, version](const Run& r) { return to_v1(r, now, version); }};
  return json_reply(list_json(context.request, listing, select(app.store().runs, [&](const Run& r) {
                                return (experiment_id.empty() || r.experiment_id == experiment_id) &&
                                       (!app.multi_user() || r.ns == ns);
                              })));
}

// --- jobs (recurring runs) ---------------------------------------------------------------------

const std::set<std::string> job_keys_v1_server = {"id", "name", "created_at", "package_id"};
const std::set<std::string> job_keys = {"id",         "recurring_run_id", "name",       "display_name",
                                        "created_at", "updated_at",       "description"};

// 1.8 ToModelJob keeps the request's references, each with the name of what it points to, and adds
// the default experiment's when there is none (getDefaultExperimentIfNoExperiment).
json::array named_references(App& app, const json::object& body, const std::string& experiment_id) {
  json::array out;
  bool has_experiment = false;
  if (const auto* references = body.if_contains("resource_references"); references && references->is_array())
    for (const auto& item : references->as_array()) {
      if (!item.is_object()) continue;
      const auto* key = item.as_object().if_contains("key");
      if (key == nullptr || !key->is_object()) continue;
      auto type = text_of(key->as_object(), "type");
      auto id = text_of(key->as_object(), "id");
      std::string name;
      if (type == "EXPERIMENT") {
        has_experiment = true;
        if (const auto* experiment = app.store().find_experiment(id)) name = experiment->display_name;
      } else if (type == "PIPELINE_VERSION") {
        if (const auto* version = app.store().find_version(id)) name = version->name;
      } else if (type == "NAMESPACE") {
        name = id;
      }
      json::object reference{{"key", json::object{{"type", type}, {"id", id}}}};
      if (!name.empty()) reference["name"] = name;
      reference["relationship"] = text_of(item.as_object(), "relationship");
      out.push_back(std::move(reference));
    }
  if (!has_experiment && !experiment_id.empty())
    out.push_back(json::object{{"key", json::object{{"type", "EXPERIMENT"}, {"id", experiment_id}}},
                               {"name", "Default"},
                               {"relationship", "OWNER"}});
  return out;
}

Reply post_job(Context& context) {
  App& app = context.app;
  const auto version = app.version();
  const bool v1_server = is_v1_server(version);
  auto body = parse_body(app, context.request.body,
                         {"id", "name", "description", "pipeline_spec", "resource_references",
                          "service_account", "max_concurrency", "trigger", "mode", "created_at", "updated_at",
                          "status", "error", "enabled", "no_catchup"});
  JobRequest request;
  const auto* enabled = body.if_contains("enabled");
  request.enabled = enabled != nullptr && enabled->is_bool() && enabled->as_bool();
  if (const auto* value = body.if_contains("no_catchup"); value && value->is_bool())
    request.no_catchup = value->as_bool();
  if (v1_server) {
    // validateCreateJobRequest (1.8 job_server.go:228-255): the pipeline source, then the schedule.
    try {
      request.run = v1_request(app, body);
      request.max_concurrency = int64_field(body, "max_concurrency").value_or(0);
      request.trigger = trigger_of(body);
      check_schedule(version, request.max_concurrency, request.trigger);
    } catch (const ApiFailure& failure) {
      throw failure.wrapped("Validate create job request failed.");
    }
    auto& job = create_job(context, std::move(request));
    job.references = named_references(app, body, job.experiment_id);
    auto reply = json_reply(to_v1(job, version));
    job.reported = true;
    return reply;
  }
  // toModelJob's v1beta1 branch: the name (else pipeline_spec.pipeline_name), `enabled` (else the
  // mode), the v1 parameters AND the runtime config, then the schedule.
  const std::string conversion = "Failed to create a recurring run due to conversion error";
  request.run = v1_request(app, body);
  if (request.run.display_name.empty())
    throw ApiFailure(wrap(internal_server("Invalid input error: Job name cannot be empty",
                                          "Failed to convert a v1beta1 API recurring run to its internal "
                                          "representation"),
                          conversion));
  if (!request.enabled) request.enabled = text_of(body, "mode") == "ENABLED";
  try {
    request.max_concurrency = int64_field(body, "max_concurrency").value_or(0);
    request.trigger = trigger_of(body);
    check_schedule(version, request.max_concurrency, request.trigger);
  } catch (const ApiFailure& failure) {
    throw failure.wrapped(conversion);
  }
  try {
    auto& job = create_job(context, std::move(request));
    auto reply = json_reply(to_v1(job, version));
    job.reported = true;
    return reply;
  } catch (const ApiFailure& failure) {
    throw failure.wrapped("Failed to create a recurring run");
  }
}

Reply get_job(Context& context) {
  return json_reply(to_v1(*act_on_job(context, JobAction::get, "Failed to fetch a v1beta1 recurring run"),
                          context.app.version()));
}

// ListJobs: the namespace or experiment reference, then authorization (1.8 job_server.go:132-185;
// 2.x ListJobs and listJobs).
Reply list_jobs(Context& context) {
  App& app = context.app;
  const auto version = app.version();
  const bool v1_server = is_v1_server(version);
  std::string experiment_id = query_reference(context.request, "resource_reference_key", "EXPERIMENT");
  std::string ns = query_reference(context.request, "resource_reference_key", "NAMESPACE");
  const auto* experiment = experiment_id.empty() ? nullptr : app.store().find_experiment(experiment_id);
  if (!experiment_id.empty() && experiment == nullptr) {
    auto missing = resource_not_found("Experiment", experiment_id);
    if (v1_server) throw ApiFailure(wrap(missing, "Failed to get namespace for job's experiment."));
    throw ApiFailure(wrap(
        wrap(missing,
             fmt::format("Failed to list recurring runs due to error fetching namespace for experiment {}. "
                         "Try filtering based on namespace",
                         experiment_id)),
        "Failed to list jobs"));
  }
  if (experiment != nullptr) ns = experiment->ns;
  if (!app.multi_user()) ns.clear();
  if (app.multi_user()) {
    if (v1_server) {
      if (experiment == nullptr && ns.empty())
        throw ApiFailure(invalid_input("ListJobs must filter by resource reference in multi-user mode."));
      if (auto denied = app.check_access(context.request, "jobs", "list", ns))
        throw ApiFailure(wrap(wrap(*denied, "Failed to authorize with API resource references"),
                              experiment != nullptr
                                  ? "Failed to authorize with namespace in experiment resource reference."
                                  : "Failed to authorize with namespace resource reference."));
    } else {
      const std::string denied_prefix = fmt::format(
          "Failed to list recurring runs due to authorization error. Check if you have permission to access "
          "namespace {}",
          ns);
      if (ns.empty())
        throw ApiFailure(
            wrap(wrap(invalid_input("a recurring run cannot have an empty namespace in multi-user mode"),
                      denied_prefix),
                 "Failed to list jobs"));
      if (auto denied = app.check_access(context.request, "jobs", "list", ns))
        throw ApiFailure(
            wrap(wrap(wrap(*denied, "failed to authorize with API"), denied_prefix), "Failed to list jobs"));
    }
  }
  FieldGetter<RecurringRun> field = [](const RecurringRun& r,
                                       const std::string& key) -> std::optional<FieldValue> {
    if (key == "id" || key == "recurring_run_id") return r.id;
    if (key == "name" || key == "display_name") return r.display_name;
    if (key == "created_at" || key == "updated_at") return unix_seconds(r.created_at);
    if (key == "description") return r.description;
    if (key == "package_id") return r.pipeline_id;
    return std::nullopt;
  };
  Listing<RecurringRun> listing{"jobs",
                                v1_server ? job_keys_v1_server : job_keys,
                                FilterDialect::v1beta1,
                                false,
                                field,
                                [version](const RecurringRun& r) { return to_v1(r, version); }};
  return json_reply(
      list_json(context.request, listing, select(app.store().recurring_runs, [&](const RecurringRun& r) {
                  return (experiment_id.empty() || r.experiment_id == experiment_id) &&
                         (!app.multi_user() || r.ns == ns);
                })));
}

}  // namespace

void register_v1_routes(App& app) {
  auto add = [&](const char* method, std::string_view path, RouteHandler handler) {
    app.add(method, route(path), ErrorShape::gateway, std::move(handler));
  };
  app.add_plain_handlers(v1, healthz, upload, upload_version);
  add("GET", "/pipelines", list_pipelines);
  add("GET", "/pipelines/{}", get_pipeline);
  add("GET", "/pipeline_versions", list_versions);
  add("GET", "/pipeline_versions/{}", get_version);
  add("GET", "/pipelines/{}/templates", get_pipeline_template);
  add("GET", "/pipeline_versions/{}/templates", get_version_template);
  add("POST", "/experiments", create_experiment);
  add("GET", "/experiments", list_experiments);
  add("GET", "/experiments/{}", get_experiment);
  add("POST", "/runs", post_run);
  add("GET", "/runs", list_runs);
  register_actions(app,
                   ActionPaths{route("/runs/{}/terminate"), route("/runs/{}/retry"),
                               route("/runs/{}:archive"), route("/runs/{}:unarchive"),
                               route("/experiments/{}:archive"), route("/experiments/{}:unarchive")},
                   existing_run, existing_experiment);
  add("GET", "/runs/{}", get_run);
  add("POST", "/jobs", post_job);
  add("GET", "/jobs", list_jobs);
  add("GET", "/jobs/{}", get_job);
  // job_server.go DeleteJob wraps its failures as a disable's (2.x).
  register_job_actions(
      app,
      {{"DELETE", route("/jobs/{}"), JobAction::remove, "Failed to disable a recurring run"},
       {"POST", route("/jobs/{}/enable"), JobAction::enable, "Failed to enable a v1beta1 recurring run"},
       {"POST", route("/jobs/{}/disable"), JobAction::disable, "Failed to disable a v1beta1 recurring run"}});
}

}  // namespace kfp::emulator
