// The v2beta1 endpoints (NOTES.md section B), registered on the App's router.

#include "app.hpp"
#include "listing.hpp"
#include "resources.hpp"

#include <fmt/format.h>

#include <charconv>
#include <sstream>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

constexpr std::string_view v2 = "/apis/v2beta1";
constexpr std::size_t max_name = 128;
constexpr int max_concurrency_limit = 10;

std::string route(std::string_view suffix) {
  return std::string(v2) + std::string(suffix);
}

// Single-user servers force every namespace to "".
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

FieldGetter<Run> run_getter(App& app) {
  auto now = app.now();
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

template <class T>
json::object list_reply(const char* items_key, const std::vector<const T*>& items, const Page& page,
                        const std::function<json::object(const T&)>& shape) {
  json::object out;
  if (!items.empty()) {
    json::array array;
    for (const auto* item : items) array.push_back(shape(*item));
    out[items_key] = std::move(array);
  }
  if (page.total != 0) out["total_size"] = page.total;
  if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
  return out;
}

Reply healthz(Context& context) {
  const auto version = context.app.version();
  json::object body{{"commit_sha", "kfp-emulator"},
                    {"tag_name", to_string(version)},
                    {"multi_user", context.app.multi_user()}};
  if (has_separate_names(version)) body["pipeline_store"] = "database";
  return json_reply(body);
}

// --- pipelines -------------------------------------------------------------------------------

const Pipeline& existing_pipeline(Context& context, const std::string& id, std::string_view verb) {
  const auto* pipeline = context.app.store().find_pipeline(id);
  if (pipeline == nullptr) not_found("Pipeline", id);
  // Shared pipelines (no namespace) are not checked on reads.
  if (!pipeline->ns.empty()) context.app.authorize(context.request, "pipelines", verb, pipeline->ns);
  return *pipeline;
}

json::object parse_tags_field(const App& app, const json::object& body) {
  json::object tags;
  const auto* value = body.if_contains("tags");
  if (value == nullptr || !has_tags(app.version())) return tags;
  if (!value->is_object())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: tags must be an object");
  for (const auto& [key, item] : value->as_object()) {
    if (!item.is_string() || key.size() > 63 || item.as_string().size() > 63 ||
        key.find('.') != json::string_view::npos)
      throw ApiFailure(Code::invalid_argument,
                       "Invalid input error: tag keys and values are strings of at most 63 characters, "
                       "keys without '.': " +
                           std::string(key));
    tags[key] = item;
  }
  return tags;
}

Reply create_pipeline(Context& context) {
  App& app = context.app;
  auto body = parse_body(
      app, context.request.body,
      {"pipeline_id", "display_name", "name", "description", "created_at", "namespace", "error", "tags"});
  std::string name = text_of(body, "name");
  std::string display_name = text_of(body, "display_name");
  if (name.empty()) name = display_name;
  if (display_name.empty()) display_name = name;
  if (name.empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: Pipeline name cannot be empty");
  std::string ns = effective_namespace(app, text_of(body, "namespace"));
  if (app.multi_user())
    app.authorize(context.request, "pipelines", "create",
                  ns.empty() && has_tags(app.version()) ? std::string(kfp_install_namespace) : ns);
  if (name.size() > max_name)
    throw ApiFailure(
        Code::internal,
        "Internal error: Failed to create a pipeline: pipeline name is longer than 128 characters",
        "Internal Server Error");
  if (app.store().find_pipeline_by_name(name, ns) != nullptr)
    throw ApiFailure(Code::already_exists, "Already exist error: Failed to create a new pipeline. The name " +
                                               name + " already exists. Please specify a new name");
  Pipeline pipeline;
  pipeline.id = new_uuid();
  pipeline.name = name;
  pipeline.display_name = has_separate_names(app.version()) ? display_name : name;
  pipeline.description = text_of(body, "description");
  pipeline.ns = ns;
  pipeline.created_at = app.now();
  pipeline.tags = parse_tags_field(app, body);
  pipeline.seq = app.store().next_seq();
  auto id = pipeline.id;
  const auto& stored = app.store().pipelines.emplace(id, std::move(pipeline)).first->second;
  return json_reply(to_v2(stored, app.version()));
}

// The emulator cannot fetch package URLs (no network): every URL fails validation, as loopback,
// private and non-allowlisted hosts do on 2.17.
[[noreturn]] void refuse_package_url(const std::string& url) {
  throw ApiFailure(Code::invalid_argument,
                   "Invalid input error: Pipeline URL validation failed: " + url +
                       " is not reachable from this server (kfp-emulator does not download URLs); use "
                       "the multipart upload");
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
  if (url.empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: Pipeline version package URL is empty");
  refuse_package_url(url);
}

Reply create_version(Context& context) {
  App& app = context.app;
  auto body = parse_body(app, context.request.body,
                         {"pipeline_id", "pipeline_version_id", "display_name", "name", "description",
                          "created_at", "package_url", "code_source_url", "pipeline_spec", "error", "tags"});
  if (text_of(body, "pipeline_id").empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: Parent pipeline id is empty");
  const auto& pipeline = existing_pipeline(context, context.args[0], "create");
  (void)pipeline;
  std::string url;
  if (const auto* package_url = body.if_contains("package_url"); package_url && package_url->is_object())
    url = text_of(package_url->as_object(), "pipeline_url");
  if (url.empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: Pipeline version package URL is empty");
  if (text_of(body, "name").empty() && text_of(body, "display_name").empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: name is required");
  refuse_package_url(url);
}

Reply get_pipeline(Context& context) {
  const auto& pipeline = existing_pipeline(context, context.args[0], "get");
  return json_reply(to_v2(pipeline, context.app.version()));
}

Reply get_pipeline_by_name(Context& context) {
  App& app = context.app;
  std::string ns = effective_namespace(app, context.request.param_or("namespace"));
  if (!ns.empty()) app.authorize(context.request, "pipelines", "get", ns);
  const auto* pipeline = app.store().find_pipeline_by_name(context.args[0], ns);
  if (pipeline == nullptr) not_found("Pipeline", context.args[0]);
  return json_reply(to_v2(*pipeline, app.version()));
}

Reply list_pipelines(Context& context) {
  App& app = context.app;
  std::string ns = effective_namespace(app, context.request.param_or("namespace"));
  if (!ns.empty()) app.authorize(context.request, "pipelines", "list", ns);
  auto list =
      parse_list_request(context.request, pipeline_keys, FilterDialect::v2beta1, has_tags(app.version()));
  std::vector<const Pipeline*> items;
  for (const auto& [id, pipeline] : app.store().pipelines)
    if (pipeline.ns == ns) items.push_back(&pipeline);
  Page page;
  auto slice = apply_list<Pipeline>(list, items, pipeline_field, page);
  auto version = app.version();
  return json_reply(list_reply<Pipeline>("pipelines", slice, page,
                                         [version](const Pipeline& p) { return to_v2(p, version); }));
}

Reply delete_pipeline(Context& context) {
  App& app = context.app;
  const auto& pipeline = existing_pipeline(context, context.args[0], "delete");
  auto versions = app.store().versions_of(pipeline.id);
  bool cascade = context.request.param_or("cascade") == "true" && has_separate_names(app.version());
  if (!versions.empty() && !cascade)
    throw ApiFailure(Code::invalid_argument,
                     fmt::format("Invalid input error: Failed to delete pipeline {}. The pipeline has "
                                 "existing pipeline versions ({}). Delete the versions first or set "
                                 "cascade=true",
                                 pipeline.id, versions.size()));
  for (const auto* version : versions) app.store().versions.erase(version->id);
  app.store().pipelines.erase(context.args[0]);
  return json_reply(json::object{});
}

Reply list_versions(Context& context) {
  App& app = context.app;
  const auto& pipeline = existing_pipeline(context, context.args[0], "list");
  auto list =
      parse_list_request(context.request, version_keys, FilterDialect::v2beta1, has_tags(app.version()));
  Page page;
  auto slice = apply_list<PipelineVersion>(list, app.store().versions_of(pipeline.id), version_field, page);
  auto version = app.version();
  return json_reply(list_reply<PipelineVersion>(
      "pipeline_versions", slice, page, [version](const PipelineVersion& v) { return to_v2(v, version); }));
}

Reply get_version(Context& context) {
  App& app = context.app;
  // The server does not check that the version belongs to the pipeline in the path.
  const auto* version = app.store().find_version(context.args[1]);
  if (version == nullptr) not_found("PipelineVersion", context.args[1]);
  if (!version->ns.empty()) app.authorize(context.request, "pipelines", "get", version->ns);
  return json_reply(to_v2(*version, app.version()));
}

Reply delete_version(Context& context) {
  App& app = context.app;
  const auto* version = app.store().find_version(context.args[1]);
  if (version == nullptr) not_found("PipelineVersion", context.args[1]);
  if (!version->ns.empty()) app.authorize(context.request, "pipelines", "delete", version->ns);
  app.store().versions.erase(context.args[1]);
  return json_reply(json::object{});
}

Reply upload(Context& context) {
  return json_reply(to_v2(upload_pipeline(context, ApiFlavor::v2beta1), context.app.version()));
}

Reply upload_version(Context& context) {
  return json_reply(to_v2(upload_pipeline_version(context, ApiFlavor::v2beta1), context.app.version()));
}

// --- experiments -----------------------------------------------------------------------------

Reply create_experiment(Context& context) {
  App& app = context.app;
  auto body = parse_body(app, context.request.body,
                         {"experiment_id", "display_name", "description", "created_at", "namespace",
                          "storage_state", "last_run_created_at"});
  std::string name = text_of(body, "display_name");
  std::string ns = effective_namespace(app, text_of(body, "namespace"));
  if (name.empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: Experiment must have a non-empty name");
  if (app.multi_user() && ns.empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: Namespace cannot be empty");
  app.authorize(context.request, "experiments", "create", ns);
  if (name.size() > max_name)
    throw ApiFailure(Code::invalid_argument, "Invalid input error: Experiment.Name length cannot exceed 128");
  return json_reply(to_v2(store_experiment(app, name, text_of(body, "description"), ns)));
}

Reply get_experiment(Context& context) {
  App& app = context.app;
  const auto* experiment = app.store().find_experiment(context.args[0]);
  if (experiment == nullptr) not_found("Experiment", context.args[0]);
  app.authorize(context.request, "experiments", "get", experiment->ns);
  return json_reply(to_v2(*experiment));
}

Reply list_experiments(Context& context) {
  App& app = context.app;
  std::string ns = effective_namespace(app, context.request.param_or("namespace"));
  if (app.multi_user() && ns.empty())
    throw ApiFailure(Code::invalid_argument,
                     "Invalid input error: An experiment cannot have an empty namespace in multi-user mode");
  app.authorize(context.request, "experiments", "list", ns);
  auto list = parse_list_request(context.request, experiment_keys, FilterDialect::v2beta1, false);
  std::vector<const Experiment*> items;
  for (const auto& [id, experiment] : app.store().experiments)
    if (!app.multi_user() || experiment.ns == ns) items.push_back(&experiment);
  Page page;
  auto slice = apply_list<Experiment>(list, items, experiment_field, page);
  return json_reply(
      list_reply<Experiment>("experiments", slice, page, [](const Experiment& e) { return to_v2(e); }));
}

Reply delete_experiment(Context& context) {
  App& app = context.app;
  const auto* experiment = app.store().find_experiment(context.args[0]);
  if (experiment == nullptr) not_found("Experiment", context.args[0]);
  app.authorize(context.request, "experiments", "delete", experiment->ns);
  app.store().experiments.erase(context.args[0]);
  return json_reply(json::object{});
}

// --- runs ------------------------------------------------------------------------------------

struct PipelineChoice {
  std::string pipeline_id, version_id;
  json::value inline_spec;
};

PipelineChoice pipeline_choice(const App& app, const json::object& body) {
  PipelineChoice choice;
  if (const auto* reference = body.if_contains("pipeline_version_reference");
      reference && reference->is_object()) {
    check_fields(app, reference->as_object(), {"pipeline_id", "pipeline_version_id"});
    choice.pipeline_id = text_of(reference->as_object(), "pipeline_id");
    choice.version_id = text_of(reference->as_object(), "pipeline_version_id");
  }
  if (choice.version_id.empty()) choice.version_id = text_of(body, "pipeline_version_id");
  if (const auto* spec = body.if_contains("pipeline_spec"); spec && spec->is_object())
    choice.inline_spec = *spec;
  return choice;
}

json::object runtime_parameters(const App& app, const json::object& body, json::value& runtime_config) {
  runtime_config = nullptr;
  const auto* config = body.if_contains("runtime_config");
  if (config == nullptr) return {};
  if (!config->is_object())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: runtime_config must be an object");
  check_fields(app, config->as_object(), {"parameters", "pipeline_root"});
  runtime_config = *config;
  const auto* parameters = config->as_object().if_contains("parameters");
  if (parameters == nullptr) return {};
  if (!parameters->is_object())
    throw ApiFailure(Code::invalid_argument,
                     "Invalid input error: runtime_config.parameters must be an object");
  return parameters->as_object();
}

// Resolves the pipeline and checks the parameters; fills the run's pipeline fields.
void bind_pipeline(App& app, const json::object& body, Run& run) {
  auto choice = pipeline_choice(app, body);
  auto parameters = runtime_parameters(app, body, run.runtime_config);
  if (!choice.inline_spec.is_null()) {
    run.pipeline_spec = choice.inline_spec;
    auto parsed = package::parse(json::serialize(choice.inline_spec), "pipeline_spec");
    if (!parsed) throw ApiFailure(Code::invalid_argument, "Invalid input error: " + parsed.error().message);
    check_parameters(parsed->inputs, parameters);
    return;
  }
  auto target = resolve_run_target(app, choice.pipeline_id, choice.version_id);
  check_parameters(target.inputs, parameters);
  run.pipeline_id = target.pipeline_id;
  run.pipeline_version_id = target.pipeline_version_id;
}

Reply create_run(Context& context) {
  App& app = context.app;
  auto body = parse_body(app, context.request.body,
                         {"experiment_id",
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
                          "plugins_output"});
  const auto& experiment = run_experiment(app, text_of(body, "experiment_id"));
  app.authorize(context.request, "runs", "create", experiment.ns);
  Run run;
  run.display_name = text_of(body, "display_name");
  if (run.display_name.empty())
    throw ApiFailure(Code::internal, "Internal error: Failed to convert a run: Run name cannot be empty",
                     "Internal Server Error");
  bind_pipeline(app, body, run);
  run.id = new_uuid();
  run.description = text_of(body, "description");
  run.experiment_id = experiment.id;
  run.ns = experiment.ns;
  run.service_account = text_of(body, "service_account");
  if (run.service_account.empty())
    run.service_account = app.multi_user() ? "default-editor" : "pipeline-runner";
  run.created_at = app.now();
  run.outcome = app.control().next_outcome();
  run.duration = app.options().run_duration;
  run.seq = app.store().next_seq();
  app.store().experiments[experiment.id].last_run_created_at = run.created_at;
  auto id = run.id;
  const auto& stored = app.store().runs.emplace(id, std::move(run)).first->second;
  return json_reply(to_v2(stored, app.now()));
}

Run& existing_run(Context& context, std::string_view verb) {
  auto* run = context.app.store().find_run(context.args[0]);
  if (run == nullptr) not_found("Run", context.args[0]);
  context.app.authorize(context.request, "runs", verb, run->ns);
  return *run;
}

Reply get_run(Context& context) {
  return json_reply(to_v2(existing_run(context, "get"), context.app.now()));
}

Reply list_runs(Context& context) {
  App& app = context.app;
  std::string ns = effective_namespace(app, context.request.param_or("namespace"));
  std::string experiment_id = context.request.param_or("experiment_id");
  if (!experiment_id.empty()) {
    const auto* experiment = app.store().find_experiment(experiment_id);
    if (experiment == nullptr) not_found("Experiment", experiment_id);
    ns = experiment->ns;
  } else if (app.multi_user() && ns.empty()) {
    throw ApiFailure(Code::invalid_argument,
                     "Invalid input error: ListRuns must filter by resource reference or namespace in "
                     "multi-user mode");
  }
  app.authorize(context.request, "runs", "list", ns);
  auto list = parse_list_request(context.request, run_keys, FilterDialect::v2beta1, false);
  std::vector<const Run*> items;
  for (const auto& [id, run] : app.store().runs)
    if ((experiment_id.empty() || run.experiment_id == experiment_id) && (!app.multi_user() || run.ns == ns))
      items.push_back(&run);
  Page page;
  auto slice = apply_list<Run>(list, items, run_getter(app), page);
  auto now = app.now();
  return json_reply(list_reply<Run>("runs", slice, page, [now](const Run& r) { return to_v2(r, now); }));
}

Reply terminate_run(Context& context) {
  App& app = context.app;
  auto& run = existing_run(context, "terminate");
  auto state = run_status(run, app.now()).state;
  if (state != "PENDING" && state != "RUNNING" && state != "PAUSED" && !state.empty())
    throw ApiFailure(Code::invalid_argument,
                     fmt::format("Failed to terminate a run {}: InvalidInputError: Failed to terminate "
                                 "run {}. Row not found",
                                 run.id, run.id));
  run.terminated_at = app.now();
  return json_reply(json::object{});
}

Reply delete_run(Context& context) {
  auto& run = existing_run(context, "delete");
  context.app.store().runs.erase(run.id);
  return json_reply(json::object{});
}

// --- recurring runs ------------------------------------------------------------------------------

bool valid_cron(const std::string& cron) {
  std::istringstream stream(cron);
  std::string field;
  int fields = 0;
  while (stream >> field) ++fields;
  return fields == 5 || fields == 6;
}

Reply create_recurring_run(Context& context) {
  App& app = context.app;
  auto body = parse_body(app, context.request.body,
                         {"recurring_run_id", "display_name", "description", "pipeline_version_id",
                          "pipeline_spec", "pipeline_version_reference", "runtime_config", "service_account",
                          "max_concurrency", "trigger", "mode", "created_at", "updated_at", "status", "error",
                          "no_catchup", "namespace", "experiment_id", "plugins_input"});
  const auto& experiment = run_experiment(app, text_of(body, "experiment_id"));
  app.authorize(context.request, "jobs", "create", experiment.ns);
  RecurringRun job;
  job.display_name = text_of(body, "display_name");
  if (job.display_name.empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: Job name cannot be empty");
  std::int64_t concurrency = 0;
  if (const auto* value = body.if_contains("max_concurrency")) {
    if (value->is_string()) {
      auto text = value->as_string();
      std::from_chars(text.data(), text.data() + text.size(), concurrency);
    } else if (value->is_int64()) {
      concurrency = value->as_int64();
    }
  }
  if (concurrency < 1 || concurrency > max_concurrency_limit)
    throw ApiFailure(Code::invalid_argument,
                     fmt::format("Invalid input error: max concurrency of the recurring run should be "
                                 "between 1 and {}. Received {}",
                                 max_concurrency_limit, concurrency));
  if (const auto* trigger = body.if_contains("trigger"); trigger && trigger->is_object()) {
    const auto& object = trigger->as_object();
    if (const auto* cron = object.if_contains("cron_schedule"); cron && cron->is_object()) {
      auto text = text_of(cron->as_object(), "cron");
      if (!valid_cron(text))
        throw ApiFailure(Code::invalid_argument, "Invalid input error: invalid cron schedule format \"" +
                                                     text + "\": expected 6 fields with leading seconds");
    }
    if (const auto* periodic = object.if_contains("periodic_schedule"); periodic && periodic->is_object()) {
      auto interval = text_of(periodic->as_object(), "interval_second");
      std::int64_t seconds = 0;
      if (const auto* raw = periodic->as_object().if_contains("interval_second"); raw && raw->is_int64())
        seconds = raw->as_int64();
      else
        std::from_chars(interval.data(), interval.data() + interval.size(), seconds);
      if (seconds < 1)
        throw ApiFailure(Code::invalid_argument,
                         "Invalid input error: The max concurrency of the recurring run is invalid: "
                         "interval_second must be at least 1");
    }
    job.trigger = *trigger;
  }
  Run scratch;
  bind_pipeline(app, body, scratch);
  job.id = new_uuid();
  job.pipeline_id = scratch.pipeline_id;
  job.pipeline_version_id = scratch.pipeline_version_id;
  job.runtime_config = scratch.runtime_config;
  job.description = text_of(body, "description");
  job.experiment_id = experiment.id;
  job.ns = experiment.ns;
  job.service_account = text_of(body, "service_account");
  job.max_concurrency = std::to_string(concurrency);
  job.mode = text_of(body, "mode") == "ENABLE" ? "ENABLE" : "DISABLE";
  if (const auto* value = body.if_contains("no_catchup"); value && value->is_bool())
    job.no_catchup = value->as_bool();
  job.created_at = app.now();
  job.seq = app.store().next_seq();
  auto id = job.id;
  return json_reply(to_v2(app.store().recurring_runs.emplace(id, std::move(job)).first->second));
}

const RecurringRun& existing_recurring_run(Context& context, std::string_view verb) {
  auto& runs = context.app.store().recurring_runs;
  auto it = runs.find(context.args[0]);
  if (it == runs.end()) not_found("RecurringRun", context.args[0]);
  context.app.authorize(context.request, "jobs", verb, it->second.ns);
  return it->second;
}

Reply get_recurring_run(Context& context) {
  return json_reply(to_v2(existing_recurring_run(context, "get")));
}

Reply delete_recurring_run(Context& context) {
  const auto& job = existing_recurring_run(context, "delete");
  context.app.store().recurring_runs.erase(job.id);
  return json_reply(json::object{});
}

// POST /recurringruns/{id}:enable and :disable switch the mode; the answer is an empty object.
Reply set_recurring_run_mode(Context& context, const char* mode, std::string_view verb) {
  const auto& job = existing_recurring_run(context, verb);
  context.app.store().recurring_runs.at(job.id).mode = mode;
  return json_reply(json::object{});
}

Reply enable_recurring_run(Context& context) {
  return set_recurring_run_mode(context, "ENABLE", "enable");
}
Reply disable_recurring_run(Context& context) {
  return set_recurring_run_mode(context, "DISABLE", "disable");
}

Reply list_recurring_runs(Context& context) {
  App& app = context.app;
  std::string ns = effective_namespace(app, context.request.param_or("namespace"));
  std::string experiment_id = context.request.param_or("experiment_id");
  if (!experiment_id.empty()) {
    const auto* experiment = app.store().find_experiment(experiment_id);
    if (experiment == nullptr) not_found("Experiment", experiment_id);
    ns = experiment->ns;
  } else if (app.multi_user() && ns.empty()) {
    throw ApiFailure(Code::invalid_argument,
                     "Invalid input error: ListRecurringRuns must filter by experiment or namespace in "
                     "multi-user mode");
  }
  app.authorize(context.request, "jobs", "list", ns);
  auto list = parse_list_request(context.request, recurring_keys, FilterDialect::v2beta1, false);
  std::vector<const RecurringRun*> items;
  for (const auto& [id, job] : app.store().recurring_runs)
    if ((experiment_id.empty() || job.experiment_id == experiment_id) && (!app.multi_user() || job.ns == ns))
      items.push_back(&job);
  Page page;
  auto slice = apply_list<RecurringRun>(list, items, recurring_field, page);
  // The proto field itself is camelCase, so the wire name is too.
  return json_reply(
      list_reply<RecurringRun>("recurringRuns", slice, page, [](const RecurringRun& r) { return to_v2(r); }));
}

}  // namespace

void register_v2_routes(App& app) {
  if (!serves_v2(app.version())) return;
  auto add = [&](const char* method, std::string_view path, Handler handler,
                 ErrorShape shape = ErrorShape::gateway) {
    app.add(method, route(path), shape, std::move(handler));
  };
  add("GET", "/healthz", healthz);
  add("POST", "/pipelines/upload", upload, ErrorShape::upload);
  add("POST", "/pipelines/upload_version", upload_version, ErrorShape::upload);
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
  add("POST", "/runs", create_run);
  add("GET", "/runs", list_runs);
  add("POST", "/runs/{}:terminate", terminate_run);
  add("GET", "/runs/{}", get_run);
  add("DELETE", "/runs/{}", delete_run);
  add("POST", "/recurringruns", create_recurring_run);
  add("GET", "/recurringruns", list_recurring_runs);
  add("GET", "/recurringruns/{}", get_recurring_run);
  add("DELETE", "/recurringruns/{}", delete_recurring_run);
  add("POST", "/recurringruns/{}:enable", enable_recurring_run);
  add("POST", "/recurringruns/{}:disable", disable_recurring_run);
}

}  // namespace kfp::emulator
