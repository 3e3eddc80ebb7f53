// The v1beta1 endpoints as KFP 1.8 serves them (NOTES.md section C); 2.x servers serve them too.

#include "app.hpp"
#include "listing.hpp"
#include "resources.hpp"

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

template <class T>
json::object list_reply(const char* key, const std::vector<const T*>& items, const Page& page,
                        const std::function<json::object(const T&)>& shape) {
  json::object out;
  if (!items.empty()) {
    json::array array;
    for (const auto* item : items) array.push_back(shape(*item));
    out[key] = std::move(array);
  }
  if (page.total != 0) out["total_size"] = page.total;
  if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
  return out;
}

Reply healthz(Context& context) {
  json::object body{{"commit_sha", "kfp-emulator"},
                    {"tag_name", to_string(context.app.version())},
                    {"multi_user", context.app.multi_user()}};
  Reply reply = json_reply(body);
  // 1.8 writes the healthz body without a Content-Type header.
  if (context.app.version() == ServerVersion::v1_8_5) reply.content_type.clear();
  return reply;
}

Reply upload(Context& context) {
  const auto& pipeline = upload_pipeline(context, ApiFlavor::v1beta1);
  return json_reply(to_v1(pipeline, context.app.store().latest_version(pipeline.id)));
}

Reply upload_version(Context& context) {
  return json_reply(to_v1(upload_pipeline_version(context, ApiFlavor::v1beta1)));
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
  auto list = parse_list_request(context.request, pipeline_keys, FilterDialect::v1beta1, false);
  std::vector<const Pipeline*> items;
  for (const auto& [id, pipeline] : app.store().pipelines)
    if (pipeline.ns == ns) items.push_back(&pipeline);
  Page page;
  auto slice = apply_list<Pipeline>(list, items, pipeline_field, page);
  const auto& store = app.store();
  return json_reply(list_reply<Pipeline>("pipelines", slice, page, [&store](const Pipeline& p) {
    return to_v1(p, store.latest_version(p.id));
  }));
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
  if (pipeline_id.empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: ResourceKey must be set in the input");
  const auto* pipeline = app.store().find_pipeline(pipeline_id);
  if (pipeline == nullptr) not_found("Pipeline", pipeline_id);
  if (!pipeline->ns.empty()) app.authorize(context.request, "pipelines", "list", pipeline->ns);
  auto list = parse_list_request(context.request, version_keys, FilterDialect::v1beta1, false);
  Page page;
  auto slice = apply_list<PipelineVersion>(list, app.store().versions_of(pipeline_id), version_field, page);
  return json_reply(list_reply<PipelineVersion>("versions", slice, page,
                                                [](const PipelineVersion& v) { return to_v1(v); }));
}

Reply get_version(Context& context) {
  App& app = context.app;
  const auto* version = app.store().find_version(context.args[0]);
  if (version == nullptr) not_found("PipelineVersion", context.args[0]);
  if (!version->ns.empty()) app.authorize(context.request, "pipelines", "get", version->ns);
  return json_reply(to_v1(*version));
}

Reply create_experiment(Context& context) {
  App& app = context.app;
  auto body = parse_body(app, context.request.body,
                         {"id", "name", "description", "created_at", "resource_references", "storage_state"});
  std::string name = text_of(body, "name");
  std::string ns = app.multi_user() ? reference_id(body, "NAMESPACE") : "";
  if (name.empty())
    throw ApiFailure(Code::invalid_argument, "Invalid input error: Experiment must have a non-empty name");
  if (app.multi_user() && ns.empty())
    throw ApiFailure(Code::invalid_argument,
                     "Invalid input error: Invalid resource references for experiment. Expect one "
                     "namespace type with owner relationship");
  app.authorize(context.request, "experiments", "create", ns);
  return json_reply(to_v1(store_experiment(app, name, text_of(body, "description"), ns)));
}

Reply get_experiment(Context& context) {
  App& app = context.app;
  const auto* experiment = app.store().find_experiment(context.args[0]);
  if (experiment == nullptr) not_found("Experiment", context.args[0]);
  app.authorize(context.request, "experiments", "get", experiment->ns);
  return json_reply(to_v1(*experiment));
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
    throw ApiFailure(
        Code::invalid_argument,
        "Invalid input error: ListExperiment must filter by resource reference in multi-user mode");
  app.authorize(context.request, "experiments", "list", ns);
  auto list = parse_list_request(context.request, experiment_keys, FilterDialect::v1beta1, false);
  std::vector<const Experiment*> items;
  for (const auto& [id, experiment] : app.store().experiments)
    if (!app.multi_user() || experiment.ns == ns) items.push_back(&experiment);
  Page page;
  auto slice = apply_list<Experiment>(list, items, experiment_field, page);
  return json_reply(
      list_reply<Experiment>("experiments", slice, page, [](const Experiment& e) { return to_v1(e); }));
}

Reply create_run(Context& context) {
  App& app = context.app;
  auto body = parse_body(
      app, context.request.body,
      {"id", "name", "storage_state", "description", "pipeline_spec", "resource_references",
       "service_account", "created_at", "scheduled_at", "finished_at", "status", "error", "metrics"});
  const auto& experiment = run_experiment(app, reference_id(body, "EXPERIMENT"));
  app.authorize(context.request, "runs", "create", experiment.ns);
  Run run;
  run.display_name = text_of(body, "name");
  if (run.display_name.empty())
    throw ApiFailure(Code::invalid_argument,
                     "Invalid input error: The run name is empty. Please specify a valid name");
  std::string pipeline_id, manifest;
  json::array parameters;
  if (const auto* spec = body.if_contains("pipeline_spec"); spec && spec->is_object()) {
    const auto& object = spec->as_object();
    check_fields(app, object,
                 {"pipeline_id", "pipeline_name", "workflow_manifest", "pipeline_manifest", "parameters",
                  "runtime_config"});
    pipeline_id = text_of(object, "pipeline_id");
    manifest = text_of(object, "workflow_manifest");
    if (const auto* list = object.if_contains("parameters"); list && list->is_array())
      parameters = list->as_array();
    if (const auto* config = object.if_contains("runtime_config"); config && config->is_object()) {
      if (!parameters.empty())
        throw ApiFailure(Code::invalid_argument,
                         "Invalid input error: parameters and runtime_config cannot be set together");
      run.runtime_config = *config;
    }
  }
  auto version_id = reference_id(body, "PIPELINE_VERSION");
  if (!manifest.empty() && (!pipeline_id.empty() || !version_id.empty()))
    throw ApiFailure(Code::invalid_argument,
                     "Invalid input error: Please don't specify a pipeline version or pipeline ID when "
                     "you specify a workflow manifest");
  if (manifest.empty()) {
    if (pipeline_id.empty() && version_id.empty())
      throw ApiFailure(Code::invalid_argument,
                       "Invalid input error: Please specify a pipeline by providing a (workflow manifest) "
                       "or (pipeline id or/and pipeline version)");
    auto target = resolve_run_target(app, pipeline_id, version_id);
    for (const auto& item : parameters) {
      auto name = item.is_object() ? text_of(item.as_object(), "name") : std::string{};
      bool declared = std::any_of(target.inputs.begin(), target.inputs.end(),
                                  [&](const auto& input) { return input.name == name; });
      if (!declared)
        throw ApiFailure(Code::invalid_argument,
                         "Invalid input error: Unrecognized input parameter: " + name);
    }
    run.pipeline_id = target.pipeline_id;
    run.pipeline_version_id = target.pipeline_version_id;
  }
  run.id = new_uuid();
  run.description = text_of(body, "description");
  run.experiment_id = experiment.id;
  run.ns = experiment.ns;
  run.v1_parameters = std::move(parameters);
  run.service_account = text_of(body, "service_account");
  if (run.service_account.empty())
    run.service_account = app.multi_user() ? "default-editor" : "pipeline-runner";
  run.created_at = app.now();
  run.outcome = app.control().next_outcome();
  run.duration = app.options().run_duration;
  run.seq = app.store().next_seq();
  app.store().experiments[experiment.id].last_run_created_at = run.created_at;
  auto id = run.id;
  return json_reply(run_detail(app.store().runs.emplace(id, std::move(run)).first->second, app));
}

Run& existing_run(Context& context, std::string_view verb) {
  auto* run = context.app.store().find_run(context.args[0]);
  if (run == nullptr) not_found("Run", context.args[0]);
  context.app.authorize(context.request, "runs", verb, run->ns);
  return *run;
}

Reply get_run(Context& context) {
  return json_reply(run_detail(existing_run(context, "get"), context.app));
}

Reply terminate_run(Context& context) {
  App& app = context.app;
  auto& run = existing_run(context, "terminate");
  auto state = run_status(run, app.now()).state;
  if (state != "PENDING" && state != "RUNNING" && state != "PAUSED")
    throw ApiFailure(Code::invalid_argument,
                     fmt::format("Failed to terminate a run {}: InvalidInputError: Failed to terminate "
                                 "run {}. Row not found",
                                 run.id, run.id));
  run.terminated_at = app.now();
  return json_reply(json::object{});
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
    throw ApiFailure(Code::invalid_argument,
                     "Invalid input error: ListRuns must filter by resource reference in multi-user mode");
  }
  if (!app.multi_user()) ns.clear();
  app.authorize(context.request, "runs", "list", ns);
  auto list = parse_list_request(context.request, run_keys, FilterDialect::v1beta1, false);
  std::vector<const Run*> items;
  for (const auto& [id, run] : app.store().runs)
    if ((experiment_id.empty() || run.experiment_id == experiment_id) && (!app.multi_user() || run.ns == ns))
      items.push_back(&run);
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
  Page page;
  auto slice = apply_list<Run>(list, items, field, page);
  auto version = app.version();
  return json_reply(
      list_reply<Run>("runs", slice, page, [now, version](const Run& r) { return to_v1(r, now, version); }));
}

}  // namespace

void register_v1_routes(App& app) {
  auto add = [&](const char* method, std::string_view path, Handler handler,
                 ErrorShape shape = ErrorShape::gateway) {
    app.add(method, route(path), shape, std::move(handler));
  };
  add("GET", "/healthz", healthz);
  add("POST", "/pipelines/upload", upload, ErrorShape::upload);
  add("POST", "/pipelines/upload_version", upload_version, ErrorShape::upload);
  add("GET", "/pipelines", list_pipelines);
  add("GET", "/pipelines/{}", get_pipeline);
  add("GET", "/pipeline_versions", list_versions);
  add("GET", "/pipeline_versions/{}", get_version);
  add("POST", "/experiments", create_experiment);
  add("GET", "/experiments", list_experiments);
  add("GET", "/experiments/{}", get_experiment);
  add("POST", "/runs", create_run);
  add("GET", "/runs", list_runs);
  add("GET", "/runs/{}", get_run);
  add("POST", "/runs/{}/terminate", terminate_run);
}

}  // namespace kfp::emulator
