// The v2beta1 endpoints (2.0+), registered on the App's router. Error chains follow the release's
// server/*_server.go; FIDELITY.md cites each behaviour.

#include "app.hpp"
#include "jobs.hpp"
#include "listing.hpp"
#include "resources.hpp"
#include "runs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

constexpr std::string_view v2 = "/apis/v2beta1";

std::string route(std::string_view suffix) {
  return std::string(v2) + std::string(suffix);
}

// Single-user servers force every namespace to "" (ResourceManager.ReplaceNamespace).
std::string effective_namespace(const App& app, const std::string& ns) {
  return app.multi_user() ? ns : std::string{};
}

const std::set<std::string> pipeline_keys = {"pipeline_id", "id",          "name",     "display_name",
                                             "created_at",  "description", "namespace"};
const std::set<std::string> version_keys = {"pipeline_version_id", "id",     "name",        "display_name",
                                            "created_at",          "status", "description", "pipeline_spec"};
const std::set<std::string> experiment_keys = {"experiment_id", "id",         "name",
                                               "display_name",  "created_at", "last_run_created_at",
                                               "description",   "namespace",  "storage_state"};
const std::set<std::string> run_keys = {"run_id",        "id",          "display_name", "name",
                                        "created_at",    "finished_at", "description",  "scheduled_at",
                                        "storage_state", "status",      "namespace",    "experiment_id",
                                        "state"};
const std::set<std::string> recurring_keys = {"recurring_run_id", "id",         "display_name", "name",
                                              "created_at",       "updated_at", "description",  "namespace",
                                              "experiment_id",    "status",     "mode"};

std::optional<FieldValue> tag_field(const json::object& tags, const std::string& key) {
  if (!key.starts_with("tags.")) return std::nullopt;
  const auto* value = tags.if_contains(key.substr(5));
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return FieldValue{std::string(value->as_string())};
}

std::optional<FieldValue> pipeline_field(const Pipeline& p, const std::string& key) {
  if (key == "pipeline_id" || key == "id") return p.id;
  if (key == "name") return p.name;
  if (key == "display_name") return p.display_name;
  if (key == "created_at") return unix_seconds(p.created_at);
  if (key == "description") return p.description;
  if (key == "namespace") return p.ns;
  return tag_field(p.tags, key);
}

std::optional<FieldValue> version_field(const PipelineVersion& v, const std::string& key) {
  if (key == "pipeline_version_id" || key == "id") return v.id;
  if (key == "name") return v.name;
  if (key == "display_name") return v.display_name;
  if (key == "created_at") return unix_seconds(v.created_at);
  if (key == "description") return v.description;
  if (key == "status") return std::string("READY");
  if (key == "pipeline_spec") return json::serialize(v.pipeline_spec);
  return tag_field(v.tags, key);
}

std::optional<FieldValue> experiment_field(const Experiment& e, const std::string& key) {
  if (key == "experiment_id" || key == "id") return e.id;
  if (key == "name" || key == "display_name") return e.display_name;
  if (key == "created_at") return unix_seconds(e.created_at);
  if (key == "last_run_created_at") return unix_seconds(e.last_run_created_at.value_or(Time{}));
  if (key == "description") return e.description;
  if (key == "namespace") return e.ns;
  if (key == "storage_state") return e.storage_state;
  return std::nullopt;
}

FieldGetter<Run> run_getter(Time now) {
  return [now](const Run& r, const std::string& key) -> std::optional<FieldValue> {
    if (key == "run_id" || key == "id") return r.id;
    if (key == "display_name" || key == "name") return r.display_name;
    if (key == "created_at" || key == "scheduled_at") return unix_seconds(r.created_at);
    if (key == "finished_at") return unix_seconds(run_status(r, now).finished_at.value_or(Time{}));
    if (key == "description") return r.description;
    if (key == "storage_state") return r.storage_state;
    if (key == "status" || key == "state") return run_status(r, now).state;
    if (key == "namespace") return r.ns;
    if (key == "experiment_id") return r.experiment_id;
    return std::nullopt;
  };
}

std::optional<FieldValue> recurring_field(const RecurringRun& r, const std::string& key) {
  if (key == "recurring_run_id" || key == "id") return r.id;
  if (key == "display_name" || key == "name") return r.display_name;
  if (key == "created_at" || key == "updated_at") return unix_seconds(r.created_at);
  if (key == "description") return r.description;
  if (key == "namespace") return r.ns;
  if (key == "experiment_id") return r.experiment_id;
  if (key == "mode") return r.mode;
  if (key == "status") return std::string(r.mode == "ENABLE" ? "ENABLED" : "DISABLED");
  return std::nullopt;
}

Reply healthz(Context& context) {
  const auto version = context.app.version();
  std::string sha = "kfp-emulator", tag(to_string(version));
  std::string multi_user = context.app.multi_user() ? "true" : "false";
  // 2.17 marshals a struct (main.go:465-491); earlier 2.x write the text by hand, with spaces, and
  // 2.14+ add pipeline_store on the v2beta1 path only.
  if (has_tags(version))
    return json_reply(json::object{{"commit_sha", sha},
                                   {"tag_name", tag},
                                   {"multi_user", context.app.multi_user()},
                                   {"pipeline_store", "database"}});
  Reply reply;
  reply.body = R"({"commit_sha":")" + sha + R"(", "tag_name":")" + tag + R"(", "multi_user":)" + multi_user;
  if (has_separate_names(version)) reply.body += R"(, "pipeline_store": "database")";
  reply.body += "}";
  return reply;
}

// --- pipelines -------------------------------------------------------------------------------

// canAccessPipeline: the pipeline's namespace, looked up first (an unknown id fails there).
const Pipeline& existing_pipeline(Context& context, const std::string& id, std::string_view verb) {
  const auto* pipeline = context.app.store().find_pipeline(id);
  if (pipeline == nullptr) not_found("Pipeline", id);
  // Shared pipelines (no namespace) are not checked.
  if (!pipeline->ns.empty()) {
    if (auto denied = context.app.check_access(context.request, "pipelines", verb, pipeline->ns))
      throw ApiFailure(
          wrap(*denied, fmt::format("Failed to access pipeline {}. Check if you have access to namespace {}",
                                    id, pipeline->ns)));
  }
  return *pipeline;
}

json::object parse_tags_field(const App& app, const json::object& body) {
  const auto* value = body.if_contains("tags");
  if (value == nullptr || !has_tags(app.version())) return {};
  if (!value->is_object()) throw ApiFailure(invalid_input("tags must be an object"));
  if (auto problem = tags_problem(value->as_object())) throw ApiFailure(invalid_input(*problem));
  return value->as_object();
}

Reply create_pipeline(Context& context) {
  App& app = context.app;
  const auto version = app.version();
  auto body = parse_body(
      app, context.request.body,
      {"pipeline_id", "display_name", "name", "description", "created_at", "namespace", "error", "tags"});
  std::string name = has_separate_names(version) ? text_of(body, "name") : "";
  std::string display_name = text_of(body, "display_name");
  if (name.empty()) name = display_name;
  if (display_name.empty()) display_name = name;
  if (name.empty())
    throw ApiFailure(wrap(invalid_input("pipeline's name cannot be empty"), "Failed to create a pipeline"));
  std::string ns = effective_namespace(app, text_of(body, "namespace"));
  if (auto error = model_length_error(version, "Pipeline", {{"Name", name}, {"Namespace", ns}}))
    throw ApiFailure(wrap(internal_server(error->message, "Failed to convert API pipeline to model pipeline"),
                          "Failed to create a pipeline due to conversion error"));
  // 2.17 checks writes to shared pipelines against the KFP namespace; before, shared is unchecked.
  std::string checked =
      ns.empty() && authorizes_shared_pipeline_writes(version) ? std::string(kfp_install_namespace) : ns;
  if (!checked.empty())
    if (auto denied = app.check_access(context.request, "pipelines", "create", checked))
      throw ApiFailure(wrap(wrap(*denied, "Failed to create a pipeline due to authorization error"),
                            "Failed to create a pipeline"));
  Pipeline pipeline;
  pipeline.id = new_uuid();
  pipeline.name = name;
  pipeline.display_name = display_name;
  pipeline.description = text_of(body, "description");
  pipeline.ns = ns;
  pipeline.created_at = app.now();
  pipeline.tags = parse_tags_field(app, body);
  pipeline.seq = app.store().next_seq();
  try {
    return json_reply(to_v2(store_pipeline(app, std::move(pipeline), std::nullopt), version));
  } catch (const ApiFailure& failure) {
    throw failure.wrapped("Failed to create a pipeline in PipelineStore")
        .wrapped("Failed to create a pipeline");
  }
}

// The emulator cannot fetch package URLs (no network): every URL fails validation, as loopback,
// private and non-allowlisted hosts do on 2.17.
[[noreturn]] void refuse_package_url(const std::string& url) {
  throw ApiFailure(
      invalid_input("Pipeline URL validation failed: " + url +
                    " is not reachable from this server (kfp-emulator does not download URLs); use "
                    "the multipart upload"));
}

Reply create_pipeline_and_version(Context& context) {
  App& app = context.app;
  auto body = parse_body(app, context.request.body, {"pipeline", "pipeline_version"});
  const auto* version = body.if_contains("pipeline_version");
  std::string url;
  if (version != nullptr && version->is_object())
    if (const auto* package_url = version->as_object().if_contains("package_url");
        package_url != nullptr && package_url->is_object())
      url = text_of(package_url->as_object(), "pipeline_url");
  if (url.empty()) throw ApiFailure(invalid_input("Pipeline version package URL is empty"));
  refuse_package_url(url);
}

Reply create_version(Context& context) {
  App& app = context.app;
  auto body = parse_body(app, context.request.body,
                         {"pipeline_id", "pipeline_version_id", "display_name", "name", "description",
                          "created_at", "package_url", "code_source_url", "pipeline_spec", "error", "tags"});
  if (text_of(body, "pipeline_id").empty()) throw ApiFailure(invalid_input("Parent pipeline id is empty"));
  (void)existing_pipeline(context, context.args[0], "create");
  std::string url;
  if (const auto* package_url = body.if_contains("package_url"); package_url && package_url->is_object())
    url = text_of(package_url->as_object(), "pipeline_url");
  if (url.empty()) throw ApiFailure(invalid_input("Pipeline version package URL is empty"));
  if (text_of(body, "name").empty() && text_of(body, "display_name").empty())
    throw ApiFailure(invalid_input("name is required"));
  refuse_package_url(url);
}

Reply get_pipeline(Context& context) {
  try {
    return json_reply(to_v2(existing_pipeline(context, context.args[0], "get"), context.app.version()));
  } catch (const ApiFailure& failure) {
    throw failure.wrapped(fmt::format("Failed to get a pipeline {}. Check error stack", context.args[0]));
  }
}

Reply get_pipeline_by_name(Context& context) {
  App& app = context.app;
  std::string ns = effective_namespace(app, context.request.param_or("namespace"));
  if (!ns.empty())
    if (auto denied = app.check_access(context.request, "pipelines", "get", ns))
      throw ApiFailure(
          wrap(*denied, fmt::format("Failed to fetch a pipeline due to authorization error. Check if you "
                                    "have read permission to namespace {}",
                                    ns)));
  const auto* pipeline = app.store().find_pipeline_by_name(context.args[0], ns);
  if (pipeline == nullptr) not_found("Namespace/Pipeline", ns + "/" + context.args[0]);
  return json_reply(to_v2(*pipeline, app.version()));
}

Reply list_pipelines(Context& context) {
  App& app = context.app;
  const auto version = app.version();
  std::string ns = effective_namespace(app, context.request.param_or("namespace"));
  if (!ns.empty())
    if (auto denied = app.check_access(context.request, "pipelines", "list", ns))
      throw ApiFailure(
          wrap(*denied, fmt::format("Failed to list pipelines due to authorization error. Check if you "
                                    "have permission to access namespace {}",
                                    ns)));
  Listing<Pipeline> listing{
      "pipelines",       pipeline_keys,  FilterDialect::v2beta1,
      has_tags(version), pipeline_field, [version](const Pipeline& p) { return to_v2(p, version); }};
  return json_reply(list_json(context.request, listing,
                              select(app.store().pipelines, [&](const Pipeline& p) { return p.ns == ns; })));
}

Reply delete_pipeline(Context& context) {
  App& app = context.app;
  const auto& pipeline = existing_pipeline(context, context.args[0], "delete");
  auto versions = app.store().versions_of(pipeline.id);
  // ?cascade exists from 2.14 (2.15.0 resource/resource_manager.go:303-343); before, a pipeline with
  // versions cannot be deleted (2.3.0 :295-310). The example is the latest version (by creation).
  const bool cascade = context.request.param_or("cascade") == "true" && has_separate_names(app.version());
  if (!versions.empty() && !cascade) {
    const auto* latest =
        *std::max_element(versions.begin(), versions.end(), [](const auto* a, const auto* b) {
          return std::tie(a->created_at, a->seq) < std::tie(b->created_at, b->seq);
        });
    throw ApiFailure(invalid_input(fmt::format(
        "Failed to delete pipeline with id {} as it has existing pipeline versions (e.g. {}){}", pipeline.id,
        latest->id, has_separate_names(app.version()) ? ". Set cascade=true to delete all versions" : "")));
  }
  for (const auto* version : versions) app.store().versions.erase(version->id);
  app.store().pipelines.erase(context.args[0]);
  return json_reply(json::object{});
}

Reply list_versions(Context& context) {
  App& app = context.app;
  const auto version = app.version();
  const auto& pipeline = existing_pipeline(context, context.args[0], "list");
  Listing<PipelineVersion> listing{
      "pipeline_versions", version_keys,  FilterDialect::v2beta1,
      has_tags(version),   version_field, [version](const PipelineVersion& v) { return to_v2(v, version); }};
  return json_reply(list_json(context.request, listing, app.store().versions_of(pipeline.id)));
}

const PipelineVersion& existing_version(Context& context, std::string_view verb) {
  // The server does not check that the version belongs to the pipeline in the path.
  const auto* version = context.app.store().find_version(context.args[1]);
  if (version == nullptr) not_found("PipelineVersion", context.args[1]);
  if (!version->ns.empty()) context.app.authorize(context.request, "pipelines", verb, version->ns);
  return *version;
}

Reply get_version(Context& context) {
  return json_reply(to_v2(existing_version(context, "get"), context.app.version()));
}

Reply delete_version(Context& context) {
  const auto& version = existing_version(context, "delete");
  context.app.store().versions.erase(version.id);
  return json_reply(json::object{});
}

Reply upload(Context& context) {
  return upload_pipeline(context, ApiFlavor::v2beta1);
}

Reply upload_version(Context& context) {
  return upload_pipeline_version(context, ApiFlavor::v2beta1);
}

// --- experiments -----------------------------------------------------------------------------

Reply create_experiment(Context& context) {
  App& app = context.app;
  const auto version = app.version();
  auto body = parse_body(app, context.request.body,
                         {"experiment_id", "display_name", "description", "created_at", "namespace",
                          "storage_state", "last_run_created_at"});
  std::string name = text_of(body, "display_name");
  std::string ns = effective_namespace(app, text_of(body, "namespace"));
  const std::string conversion = "[ExperimentServer]: Failed to create a experiment due to conversion error";
  // toModelExperiment: an empty name and (2.15+) the model's lengths are internal errors (500).
  if (name.empty())
    throw ApiFailure(wrap(internal_server("Invalid input error: Experiment must have a non-empty name",
                                          "Failed to convert API experiment to model experiment"),
                          conversion));
  if (auto error = model_length_error(version, "Experiment", {{"Name", name}, {"Namespace", ns}}))
    throw ApiFailure(wrap(
        internal_server(error->message, "Failed to convert API experiment to model experiment"), conversion));
  if (app.multi_user() && ns.empty())
    throw ApiFailure(wrap(invalid_input("Namespace cannot be empty"), "Failed to create a experiment"));
  if (auto denied = app.check_access(context.request, "experiments", "create", ns))
    throw ApiFailure(
        wrap(wrap(wrap(*denied, "Failed to authorize with API"), "Failed to authorize the request"),
             "Failed to create a experiment"));
  try {
    return json_reply(to_v2(store_experiment(app, name, text_of(body, "description"), ns)));
  } catch (const ApiFailure& failure) {
    throw failure.wrapped("Failed to create an experiment").wrapped("Failed to create a experiment");
  }
}

const Experiment& existing_experiment(Context& context, std::string_view verb) {
  const auto* experiment = context.app.store().find_experiment(context.args[0]);
  if (experiment == nullptr) not_found("Experiment", context.args[0]);
  if (auto denied = context.app.check_access(context.request, "experiments", verb, experiment->ns))
    throw ApiFailure(wrap(wrap(*denied, "Failed to authorize with API"), "Failed to authorize the request"));
  return *experiment;
}

Reply get_experiment(Context& context) {
  return json_reply(to_v2(existing_experiment(context, "get")));
}

// The namespace a list request names; multi-user servers refuse an empty one with `message`.
std::string list_namespace(Context& context, std::string_view message) {
  std::string ns = effective_namespace(context.app, context.request.param_or("namespace"));
  if (context.app.multi_user() && ns.empty()) throw ApiFailure(invalid_input(std::string(message)));
  return ns;
}

Reply list_experiments(Context& context) {
  App& app = context.app;
  std::string ns = list_namespace(context, "An experiment cannot have an empty namespace in multi-user mode");
  app.authorize(context.request, "experiments", "list", ns);
  Listing<Experiment> listing{"experiments", experiment_keys,  FilterDialect::v2beta1,
                              false,         experiment_field, [](const Experiment& e) { return to_v2(e); }};
  return json_reply(list_json(
      context.request, listing,
      select(app.store().experiments, [&](const Experiment& e) { return !app.multi_user() || e.ns == ns; })));
}

Reply delete_experiment(Context& context) {
  const auto& experiment = existing_experiment(context, "delete");
  context.app.store().experiments.erase(experiment.id);
  return json_reply(json::object{});
}

// --- runs ------------------------------------------------------------------------------------

const std::initializer_list<std::string_view> run_fields = {"experiment_id",
                                                            "run_id",
                                                            "display_name",
                                                            "storage_state",
                                                            "description",
                                                            "pipeline_version_id",
                                                            "pipeline_spec",
                                                            "pipeline_version_reference",
                                                            "runtime_config",
                                                            "service_account",
                                                            "created_at",
                                                            "scheduled_at",
                                                            "finished_at",
                                                            "state",
                                                            "error",
                                                            "run_details",
                                                            "recurring_run_id",
                                                            "state_history",
                                                            "plugins_input",
                                                            "plugins_output"};

// toModelRun / toModelJob for a v2beta1 body: the pipeline source and runtime config.
RunRequest v2_request(const App& app, const json::object& body) {
  RunRequest request;
  request.api = ApiFlavor::v2beta1;
  request.display_name = text_of(body, "display_name");
  request.description = text_of(body, "description");
  request.experiment_id = text_of(body, "experiment_id");
  request.service_account = text_of(body, "service_account");
  if (const auto* reference = body.if_contains("pipeline_version_reference");
      reference && reference->is_object()) {
    check_fields(app, reference->as_object(), {"pipeline_id", "pipeline_version_id"});
    request.pipeline_id = text_of(reference->as_object(), "pipeline_id");
    request.pipeline_version_id = text_of(reference->as_object(), "pipeline_version_id");
  }
  if (request.pipeline_version_id.empty()) request.pipeline_version_id = text_of(body, "pipeline_version_id");
  if (const auto* spec = body.if_contains("pipeline_spec"); spec && spec->is_object())
    request.inline_spec = *spec;
  if (const auto* config = body.if_contains("runtime_config"); config != nullptr && !config->is_null()) {
    if (!config->is_object()) throw ApiFailure(invalid_input("runtime_config must be an object"));
    check_fields(app, config->as_object(), {"parameters", "pipeline_root"});
    const auto* parameters = config->as_object().if_contains("parameters");
    if (parameters != nullptr && !parameters->is_object())
      throw ApiFailure(invalid_input("runtime_config.parameters must be an object"));
    request.runtime_config = *config;
  }
  return request;
}

Reply post_run(Context& context) {
  App& app = context.app;
  auto body = parse_body(app, context.request.body, run_fields);
  auto request = v2_request(app, body);
  if (request.display_name.empty())
    throw ApiFailure(
        wrap(internal_server("Invalid input error: Run name cannot be empty",
                             "Failed to convert a API run detail to its internal representation"),
             "CreateJob(job.ToV2())Failed to create a run due to conversion error"));
  try {
    // The reply is rendered after the run exists (its state is PENDING from its creation time).
    const auto& run = create_run(context, std::move(request));
    return json_reply(to_v2(run, app.now()));
  } catch (const ApiFailure& failure) {
    throw failure.wrapped("Failed to create a new run");
  }
}

// canAccessRun with a run id: the run's namespace.
Run& existing_run(Context& context, std::string_view verb) {
  auto* run = context.app.store().find_run(context.args[0]);
  if (run == nullptr) {
    auto error = wrap(resource_not_found("Run", context.args[0]),
                      fmt::format("Failed to fetch run {}", context.args[0]));
    throw ApiFailure(wrap(error, fmt::format("Failed to authorize with the run ID {}", context.args[0])));
  }
  if (auto denied = context.app.check_access(context.request, "runs", verb, run->ns))
    throw ApiFailure(wrap(
        *denied,
        fmt::format("Failed to access run {}. Check if you have access to namespace {}", run->id, run->ns)));
  return *run;
}

Reply get_run(Context& context) {
  try {
    return json_reply(to_v2(existing_run(context, "get"), context.app.now()));
  } catch (const ApiFailure& failure) {
    throw failure.wrapped("Failed to authorize the request").wrapped("Failed to get a run");
  }
}

// The namespace and experiment a run or recurring-run list is scoped to (2.x listRuns/listJobs).
struct ListScope {
  std::string ns, experiment_id;
};

ListScope list_scope(Context& context, std::string_view resource, std::string_view message) {
  App& app = context.app;
  ListScope scope{effective_namespace(app, context.request.param_or("namespace")),
                  context.request.param_or("experiment_id")};
  if (!scope.experiment_id.empty()) {
    const auto* experiment = app.store().find_experiment(scope.experiment_id);
    if (experiment == nullptr) not_found("Experiment", scope.experiment_id);
    scope.ns = experiment->ns;
  } else if (app.multi_user() && scope.ns.empty()) {
    throw ApiFailure(invalid_input(std::string(message)));
  }
  if (auto denied = app.check_access(context.request, resource, "list", scope.ns))
    throw ApiFailure(
        wrap(*denied, fmt::format("Failed to list {} due to authorization error. Check if you have "
                                  "permission to access namespace {}",
                                  resource == "runs" ? "runs" : "recurring runs", scope.ns)));
  return scope;
}

template <class T>
bool in_scope(const App& app, const ListScope& scope, const T& item) {
  return (scope.experiment_id.empty() || item.experiment_id == scope.experiment_id) &&
         (!app.multi_user() || item.ns == scope.ns);
}

Reply list_runs(Context& context) {
  App& app = context.app;
  auto scope = list_scope(context, "runs",
                          "ListRuns must filter by resource reference or namespace in multi-user mode");
  auto now = app.now();
  Listing<Run> listing{"runs", run_keys,        FilterDialect::v2beta1,
                       false,  run_getter(now), [now](const Run& r) { return to_v2(r, now); }};
  return json_reply(list_json(context.request, listing, select(app.store().runs, [&](const Run& r) {
                                return in_scope(app, scope, r);
                              })));
}

Reply delete_run(Context& context) {
  auto& run = existing_run(context, "delete");
  context.app.store().runs.erase(run.id);
  return json_reply(json::object{});
}

// --- recurring runs ------------------------------------------------------------------------------

Reply create_recurring_run(Context& context) {
  App& app = context.app;
  auto body = parse_body(app, context.request.body,
                         {"recurring_run_id", "display_name", "description", "pipeline_version_id",
                          "pipeline_spec", "pipeline_version_reference", "runtime_config", "service_account",
                          "max_concurrency", "trigger", "mode", "created_at", "updated_at", "status", "error",
                          "no_catchup", "namespace", "experiment_id", "plugins_input"});
  // toModelJob: the schedule before anything else; `mode` omitted is disabled (toModelJobEnabled).
  JobRequest request;
  request.run = v2_request(app, body);
  const std::string conversion = "Failed to create a recurring run due to conversion error";
  if (request.run.display_name.empty())
    throw ApiFailure(
        wrap(internal_server("Invalid input error: Recurring run's name cannot be empty",
                             "Failed to convert a API recurring run to its internal representation"),
             conversion));
  request.max_concurrency = int64_field(body, "max_concurrency").value_or(0);
  request.trigger = trigger_of(body);
  request.enabled = text_of(body, "mode") == "ENABLE";
  if (const auto* value = body.if_contains("no_catchup"); value && value->is_bool())
    request.no_catchup = value->as_bool();
  try {
    check_schedule(app.version(), request.max_concurrency, request.trigger);
  } catch (const ApiFailure& failure) {
    throw failure.wrapped(conversion);
  }
  try {
    auto& job = create_job(context, std::move(request));
    job.reported = true;
    return json_reply(to_v2(job));
  } catch (const ApiFailure& failure) {
    throw failure.wrapped("Failed to create a recurring run");
  }
}

Reply get_recurring_run(Context& context) {
  return json_reply(to_v2(*act_on_job(context, JobAction::get, "Failed to fetch a recurring run")));
}

Reply list_recurring_runs(Context& context) {
  App& app = context.app;
  auto scope = list_scope(context, "jobs",
                          "ListRecurringRuns must filter by experiment or namespace in multi-user mode");
  // The proto field itself is camelCase, so the wire name is too.
  Listing<RecurringRun> listing{"recurringRuns",        recurring_keys,
                                FilterDialect::v2beta1, false,
                                recurring_field,        [](const RecurringRun& r) { return to_v2(r); }};
  return json_reply(list_json(
      context.request, listing,
      select(app.store().recurring_runs, [&](const RecurringRun& r) { return in_scope(app, scope, r); })));
}

}  // namespace

void register_v2_routes(App& app) {
  if (!serves_v2(app.version())) return;
  auto add = [&](const char* method, std::string_view path, RouteHandler handler) {
    app.add(method, route(path), ErrorShape::gateway, std::move(handler));
  };
  app.add_plain_handlers(v2, healthz, upload, upload_version);
  add("POST", "/pipelines/create", create_pipeline_and_version);
  add("GET", "/pipelines/names/{}", get_pipeline_by_name);
  add("POST", "/pipelines", create_pipeline);
  add("GET", "/pipelines", list_pipelines);
  add("GET", "/pipelines/{}", get_pipeline);
  add("DELETE", "/pipelines/{}", delete_pipeline);
  add("GET", "/pipelines/{}/versions", list_versions);
  add("POST", "/pipelines/{}/versions", create_version);
  add("GET", "/pipelines/{}/versions/{}", get_version);
  add("DELETE", "/pipelines/{}/versions/{}", delete_version);
  add("POST", "/experiments", create_experiment);
  add("GET", "/experiments", list_experiments);
  add("GET", "/experiments/{}", get_experiment);
  add("DELETE", "/experiments/{}", delete_experiment);
  add("POST", "/runs", post_run);
  add("GET", "/runs", list_runs);
  register_actions(app,
                   ActionPaths{route("/runs/{}:terminate"), route("/runs/{}:retry"),
                               route("/runs/{}:archive"), route("/runs/{}:unarchive"),
                               route("/experiments/{}:archive"), route("/experiments/{}:unarchive")},
                   existing_run, existing_experiment);
  add("GET", "/runs/{}", get_run);
  add("DELETE", "/runs/{}", delete_run);
  add("POST", "/recurringruns", create_recurring_run);
  add("GET", "/recurringruns", list_recurring_runs);
  add("GET", "/recurringruns/{}", get_recurring_run);
  // job_server.go DeleteRecurringRun wraps its failures as a disable's.
  register_job_actions(
      app,
      {{"DELETE", route("/recurringruns/{}"), JobAction::remove, "Failed to disable a recurring run"},
       {"POST", route("/recurringruns/{}:enable"), JobAction::enable, "Failed to enable a recurring run"},
       {"POST", route("/recurringruns/{}:disable"), JobAction::disable,
        "Failed to disable a recurring run"}});
}

}  // namespace kfp::emulator
