// The v1beta1 endpoints: all KFP 1.8 serves, and what every 2.x server still serves. Error chains
// follow the release's server/*_server.go; FIDELITY.md cites each behaviour.

#include "app.hpp"
#include "listing.hpp"
#include "resources.hpp"
#include "runs.hpp"

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
  return json::object{{"run", to_v1(run, app.now(), app.version())},
                      {"pipeline_runtime", json::object{{"workflow_manifest", "{}"}}}};
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

// toModelRun (2.x) / validateCreateRunRequest (1.8) for a v1beta1 body.
RunRequest v1_request(const App& app, const json::object& body) {
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
  if (v1_server) {
    // server/util.go ValidatePipelineSpecAndResourceReferences (1.8).
    auto fail = [](const std::string& message) {
      throw ApiFailure(wrap(invalid_input(message), "Validate create run request failed."));
    };
    if (request.display_name.empty()) fail("The run name is empty. Please specify a valid name.");
    if (!workflow_manifest.empty() && !pipeline_manifest.empty())
      fail("Please don't specify both workflow manifest and pipeline manifest.");
    if (!request.manifest.empty() && (!request.pipeline_id.empty() || !request.pipeline_version_id.empty()))
      fail(
          "Please don't specify a pipeline version or pipeline ID when you specify a workflow manifest or "
          "pipeline "
          "manifest.");
    if (request.manifest.empty() && request.pipeline_id.empty() && request.pipeline_version_id.empty())
      fail(
          "Please specify a pipeline by providing a (workflow manifest or pipeline manifest) or (pipeline id "
          "or/and "
          "pipeline version).");
    if (has_parameters && has_runtime_config)
      fail("Please don't specify both parameters and runtime config.");
  } else if (request.display_name.empty()) {
    throw ApiFailure(
        wrap(internal_server("Invalid input error: Run name cannot be empty",
                             "Failed to convert a v1beta1 API run detail to its internal representation"),
             "CreateJob(job.ToV2())Failed to create a v1beta1 run due to conversion error"));
  }
  return request;
}

Reply post_run(Context& context) {
  App& app = context.app;
  auto body = parse_body(
      app, context.request.body,
      {"id", "name", "storage_state", "description", "pipeline_spec", "resource_references",
       "service_account", "created_at", "scheduled_at", "finished_at", "status", "error", "metrics"});
  auto request = v1_request(app, body);
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
}

}  // namespace kfp::emulator
