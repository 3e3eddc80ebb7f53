#include "api/calls.hpp"
#include "api/json_fields.hpp"
#include "api/kfp_api.hpp"
#include "api/multipart.hpp"
#include "api/upload_errors.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace kfp::api {

namespace {

constexpr const char* base = "/apis/v2beta1";
// Listing every run with a run key: the server's maximum page size (list.go: 200).
constexpr const char* list_page_size = "200";

Pipeline to_pipeline(const boost::json::value& value) {
  const auto& o = object_of(value);
  std::string name = string_field(o, "name");
  if (name.empty()) name = string_field(o, "display_name");  // <= 2.5 has only display_name
  return Pipeline{string_field(o, "pipeline_id"), name, string_field(o, "namespace")};
}

PipelineVersion to_version(const boost::json::value& value) {
  const auto& o = object_of(value);
  PipelineVersion version;
  version.id = string_field(o, "pipeline_version_id");
  version.name = string_field(o, "name");
  if (version.name.empty()) version.name = string_field(o, "display_name");
  version.pipeline_id = string_field(o, "pipeline_id");
  version.description = string_field(o, "description");
  if (auto tags = o.find("tags"); tags != o.end() && tags->value().is_object()) {
    for (const auto& [key, tag] : tags->value().as_object()) {
      if (tag.is_string()) version.tags[std::string(key)] = std::string(tag.as_string());
    }
  }
  if (auto spec = o.find("pipeline_spec"); spec != o.end()) version.pipeline_spec = spec->value();
  version.kind = kind_of_spec(version.pipeline_spec);
  return version;
}

Experiment to_experiment(const boost::json::value& value) {
  const auto& o = object_of(value);
  return Experiment{string_field(o, "experiment_id"), string_field(o, "display_name"),
                    string_field(o, "namespace")};
}

Run to_run(const boost::json::value& value) {
  const auto& o = object_of(value);
  Run run{string_field(o, "run_id"),
          string_field(o, "display_name"),
          string_field(o, "state"),
          {},
          string_field(o, "created_at")};
  if (run.state.empty()) run.state = "PENDING";
  if (auto error = o.find("error"); error != o.end() && error->value().is_object()) {
    run.error = string_field(error->value().as_object(), "message");
  }
  run.description = string_field(o, "description");
  if (auto runtime = o.find("runtime_config"); runtime != o.end() && runtime->value().is_object()) {
    const auto& config = runtime->value().as_object();
    if (auto params = config.find("parameters"); params != config.end() && params->value().is_object())
      run.parameters = params->value().as_object();
  }
  run.tasks = parse_task_details(value);
  return run;
}

std::int64_t int64_of(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_string()) {
    std::int64_t number = 0;
    const auto& text = it->value().as_string();
    std::from_chars(text.data(), text.data() + text.size(), number);
    return number;
  }
  return 0;
}

RecurringRun to_recurring_run(const boost::json::value& value) {
  const auto& o = object_of(value);
  RecurringRun job;
  job.id = string_field(o, "recurring_run_id");
  job.name = string_field(o, "display_name");
  job.description = string_field(o, "description");
  job.experiment_id = string_field(o, "experiment_id");
  job.service_account = string_field(o, "service_account");
  if (auto ref = o.find("pipeline_version_reference"); ref != o.end() && ref->value().is_object()) {
    job.pipeline_id = string_field(ref->value().as_object(), "pipeline_id");
    job.version_id = string_field(ref->value().as_object(), "pipeline_version_id");
  }
  if (auto runtime = o.find("runtime_config"); runtime != o.end() && runtime->value().is_object()) {
    if (auto params = runtime->value().as_object().find("parameters");
        params != runtime->value().as_object().end() && params->value().is_object()) {
      job.parameters = params->value().as_object();
    }
  }
  job.max_concurrency = int64_of(o, "max_concurrency");
  job.enabled = string_field(o, "mode") == "ENABLE";
  if (auto trigger = o.find("trigger"); trigger != o.end() && trigger->value().is_object()) {
    const auto& t = trigger->value().as_object();
    if (auto cron = t.find("cron_schedule"); cron != t.end() && cron->value().is_object()) {
      job.cron = string_field(cron->value().as_object(), "cron");
    }
    if (auto periodic = t.find("periodic_schedule"); periodic != t.end() && periodic->value().is_object()) {
      job.interval_seconds = int64_of(periodic->value().as_object(), "interval_second");
    }
  }
  return job;
}

std::string tags_json(const std::map<std::string, std::string>& tags) {
  boost::json::object object;
  for (const auto& [key, value] : tags) object[key] = value;
  return boost::json::serialize(object);
}

// The v2beta1 query dialect: the namespace is a plain query parameter.
QueryParams in_namespace(const std::string& ns, QueryParams query = {}) {
  if (!ns.empty()) query.emplace_back("namespace", ns);
  return query;
}

// The first item a filter selects (page_size 1).
QueryParams first_match(const Filter& filter) {
  return {{"filter", filter.query_value()}, {"page_size", "1"}};
}

class V2Api final : public KfpApi {
 public:
  V2Api(Connection& connection, ServerInfo server)
      : connection_(connection), server_(std::move(server)), v1_(make_v1_api(connection, v1_view(server_))) {}

  [[nodiscard]] const ServerInfo& server() const override { return server_; }

  util::Result<std::optional<Pipeline>> find_pipeline(const std::string& name,
                                                      const std::string& ns) override {
    return find_object(
        connection_,
        get_request(fmt::format("{}/pipelines/names/{}", base, percent_encode(name)), in_namespace(ns)),
        fmt::format("find pipeline {}", name), to_pipeline);
  }

  util::Result<Pipeline> create_pipeline(const std::string& name, const std::string& description,
                                         const std::string& ns) override {
    boost::json::object body{{"name", name}, {"display_name", name}};
    if (!description.empty()) body["description"] = description;
    if (!ns.empty()) body["namespace"] = ns;
    return create_object(connection_, post_json_request(fmt::format("{}/pipelines", base), std::move(body)),
                         fmt::format("create pipeline {}", name), to_pipeline,
                         [&] { return find_pipeline(name, ns); });
  }

  util::Result<std::optional<PipelineVersion>> find_version_by_name(const std::string& pipeline_id,
                                                                    const std::string& name) override {
    return find_version(pipeline_id, Filter().equals("name", name), fmt::format("find version {}", name));
  }

  util::Result<std::optional<PipelineVersion>> find_version_by_digest(const std::string& pipeline_id,
                                                                      const std::string& digest) override {
    if (server_.supports_tags) {
      return find_version(pipeline_id,
                          Filter().equals(std::string("tags.") + digest_tag_key, digest_tag_value(digest)),
                          "find the version with this digest");
    }
    return find_version(pipeline_id, Filter().substring("description", digest),
                        "find the version with this digest");
  }

  util::Result<std::optional<PipelineVersion>> latest_version(const std::string& pipeline_id) override {
    return first_of(connection_,
                    versions_request(pipeline_id, {{"page_size", "1"}, {"sort_by", "created_at desc"}}),
                    "pipeline_versions", "find the latest version", to_version);
  }

  util::Result<PipelineVersion> get_version(const std::string& pipeline_id,
                                            const std::string& version_id) override {
    return get_object(connection_,
                      get_request(fmt::format("{}/pipelines/{}/versions/{}", base,
                                              percent_encode(pipeline_id), percent_encode(version_id)),
                                  {}, Endpoint::json_api_with_specs),
                      fmt::format("get version {}", version_id), to_version);
  }

  util::Result<PipelineVersion> upload_version(const UploadVersion& upload) override {
    QueryParams query{
        {"pipelineid", upload.pipeline_id}, {"name", upload.name}, {"display_name", upload.name}};
    if (!upload.description.empty()) query.emplace_back("description", upload.description);
    if (server_.supports_tags && !upload.tags.empty()) query.emplace_back("tags", tags_json(upload.tags));
    auto request = upload_request(fmt::format("{}/pipelines/upload_version", base), std::move(query),
                                  upload_body(upload.filename, upload.content));
    UploadRefusal refusal = UploadRefusal::other;
    request.refine_failure =
        upload_failure_refinement(server_, UploadEndpoint::version, connection_.caller(), refusal);
    auto version =
        create_upload(connection_, request, fmt::format("upload version {}", upload.name), to_version,
                      [&] { return find_version_by_name(upload.pipeline_id, upload.name); });
    return settle_upload(std::move(version), refusal, [&] {
      return perform(connection_,
                     get_request(fmt::format("{}/pipelines/{}", base, percent_encode(upload.pipeline_id))),
                     fmt::format("look at pipeline {}", upload.pipeline_id));
    });
  }

  util::Result<std::optional<Experiment>> find_experiment(const std::string& name,
                                                          const std::string& ns) override {
    return first_of(connection_,
                    get_request(fmt::format("{}/experiments", base),
                                in_namespace(ns, first_match(Filter().equals("name", name)))),
                    "experiments", fmt::format("find experiment {}", name), to_experiment);
  }

  util::Result<Experiment> create_experiment(const std::string& name, const std::string& ns) override {
    return create_described_experiment(name, "", ns);
  }

  util::Result<Experiment> create_described_experiment(const std::string& name,
                                                       const std::string& description,
                                                       const std::string& ns) override {
    boost::json::object body{{"display_name", name}};
    if (!description.empty()) body["description"] = description;
    if (!ns.empty()) body["namespace"] = ns;
    return create_object(connection_, post_json_request(fmt::format("{}/experiments", base), std::move(body)),
                         fmt::format("create experiment {}", name), to_experiment,
                         [&] { return find_experiment(name, ns); });
  }

  util::Result<std::vector<Run>> list_runs_with_marker(const std::string& experiment_id,
                                                       const std::string& ns, const std::string& marker,
                                                       std::optional<util::Milliseconds> within) override {
    std::vector<Run> runs;
    auto request = runs_with_marker(experiment_id, ns, marker, list_page_size);
    request.within = within;
    auto listed = for_each_item(connection_, request, "runs", "list the runs with this run key",
                                [&](const boost::json::value& item) {
                                  runs.push_back(to_run(item));
                                  return false;
                                });
    if (!listed) return listed.error();
    order_oldest_first(runs);
    return runs;
  }

  util::Result<std::optional<Run>> find_run(const std::string& experiment_id, const std::string& ns,
                                            const std::string& marker) override {
    return first_of(connection_, runs_with_marker(experiment_id, ns, marker, "1"), "runs",
                    "look up the run by its run key", to_run);
  }

  util::Result<Run> create_run(const CreateRun& run, const std::string& ns,
                               const std::string& marker) override {
    auto kind = kind_of_version(run);
    if (!kind) return kind.error();
    if (*kind == PipelineKind::argo_workflow && !run.parameters.empty()) {
      // A v2beta1 run blanks the v1-style parameters (api_converter.go toModelRun: specParams = ""),
      // and an Argo workflow reads no others (argo_template.go RunWorkflow): on v2beta1 it would run
      // on its defaults. The v1beta1 run API, which every 2.x server serves, carries them.
      CreateRun v1_run = run;
      v1_run.pipeline_kind = *kind;
      return v1_->create_run(v1_run, ns, marker);
    }
    boost::json::object body = run_body(run);
    boost::json::object runtime{{"parameters", run.parameters}};
    if (!run.pipeline_root.empty()) runtime["pipeline_root"] = run.pipeline_root;
    body["runtime_config"] = std::move(runtime);
    auto request = post_json_request(fmt::format("{}/runs", base), std::move(body));
    request.refine_failure = parameter_refusal();
    return create_object(connection_, request, fmt::format("create run {}", run.name), to_run,
                         [&] { return find_run(run.experiment_id, ns, marker); });
  }

  util::Result<Run> get_run(const std::string& run_id, std::optional<util::Milliseconds> within) override {
    auto request = get_request(fmt::format("{}/runs/{}", base, percent_encode(run_id)));
    request.within = within;
    return get_object(connection_, request, fmt::format("get run {}", run_id), to_run);
  }

  // The v1beta1 run of the same id carries the workflow (every 2.x release serves v1beta1 runs).
  util::Result<std::optional<RunTasks>> get_run_workflow(const std::string& run_id,
                                                         std::optional<util::Milliseconds> within) override {
    return v1_->get_run_workflow(run_id, within);
  }

  util::Result<TaskLog> read_task_log(const std::string& run_id, const std::string& node_id,
                                      std::size_t max_lines,
                                      std::optional<util::Milliseconds> within) override {
    return api::read_task_log(connection_, run_id, node_id, max_lines, within);
  }

  util::Result<void> terminate_run(const std::string& run_id) override {
    return perform(connection_,
                   action_request(fmt::format("{}/runs/{}:terminate", base, percent_encode(run_id))),
                   fmt::format("terminate run {}", run_id));
  }

  // run.proto (v2beta1): POST /apis/v2beta1/runs/{run_id}:archive.
  util::Result<void> archive_run(const std::string& run_id) override {
    return perform(connection_,
                   action_request(fmt::format("{}/runs/{}:archive", base, percent_encode(run_id))),
                   fmt::format("archive run {}", run_id));
  }

  util::Result<std::optional<RecurringRun>> find_recurring_run(const std::string& name,
                                                               const std::string& ns) override {
    // The list field is spelt as in the proto, camelCase (recurring_run.proto: `recurringRuns`).
    return first_of(connection_,
                    get_request(fmt::format("{}/recurringruns", base),
                                in_namespace(ns, first_match(Filter().equals("display_name", name)))),
                    "recurringRuns", fmt::format("find recurring run {}", name), to_recurring_run);
  }

  util::Result<RecurringRun> create_recurring_run(const RecurringRun& job, const std::string& ns) override {
    auto kind = kind_of_version(job);
    if (!kind) return kind.error();
    // As for runs: v2beta1 blanks an Argo workflow's parameters (api_converter.go toModelJob:
    // specParams = ""), the v1beta1 job API carries them (toModelJob's v1 branch).
    const bool through_v1 = *kind == PipelineKind::argo_workflow && !job.parameters.empty();
    boost::json::object body = through_v1 ? v1_job_body(job) : run_body(job);
    if (!through_v1) {
      body["runtime_config"] = {{"parameters", job.parameters}};
      body["mode"] = job.enabled ? "ENABLE" : "DISABLE";
    }
    body["max_concurrency"] = std::to_string(job.max_concurrency);
    body["no_catchup"] = true;
    if (job.interval_seconds) {
      body["trigger"] = {{"periodic_schedule", {{"interval_second", std::to_string(*job.interval_seconds)}}}};
    } else {
      body["trigger"] = {{"cron_schedule", {{"cron", job.cron}}}};
    }
    const std::string path = through_v1 ? "/apis/v1beta1/jobs" : fmt::format("{}/recurringruns", base);
    auto request = post_json_request(path, std::move(body));
    request.refine_failure = parameter_refusal();
    auto created = create_object(connection_, request, fmt::format("create recurring run {}", job.name),
                                 through_v1 ? v1_job_parser() : to_recurring_run,
                                 [&] { return find_recurring_run(job.name, ns); });
    if (created && created->name.empty()) created->name = job.name;
    return created;
  }

  util::Result<void> delete_recurring_run(const std::string& id) override {
    auto deleted =
        perform(connection_, delete_request(fmt::format("{}/recurringruns/{}", base, percent_encode(id))),
                fmt::format("delete recurring run {}", id));
    // Deleting is idempotent: gone already (a lost response, a re-run) is what we wanted.
    if (!deleted && deleted.error().kind != util::ErrorKind::not_found) return deleted.error();
    return {};
  }

  util::Result<void> set_recurring_run_schedule(const std::string& id, Schedule schedule) override {
    const char* verb = schedule == Schedule::enabled ? "enable" : "disable";
    return perform(connection_,
                   action_request(fmt::format("{}/recurringruns/{}:{}", base, percent_encode(id), verb)),
                   fmt::format("{} recurring run {}", verb, id));
  }

  [[nodiscard]] std::string run_url(const std::string& run_id) const override {
    return fmt::format("{}/#/runs/details/{}", connection_.base_url(), run_id);
  }

 private:
  // What the version runs when parameters make it matter: the caller's word, else the version's spec.
  util::Result<PipelineKind> kind_of_version(const RunSettings& run) {
    if (run.pipeline_kind != PipelineKind::unknown || run.parameters.empty()) return run.pipeline_kind;
    auto version = get_version(run.pipeline_id, run.version_id);
    if (!version) return version.error();
    return version->kind;
  }

  // A v1beta1 Job (job.proto): an Argo workflow's parameters as strings, references for the
  // experiment and version, `enabled` for the mode.
  static boost::json::object v1_job_body(const RecurringRun& job) {
    boost::json::array parameters;
    for (const auto& [name, value] : job.parameters) {
      parameters.push_back(
          {{"name", name},
           {"value", value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value)}});
    }
    auto reference = [](std::string_view type, const std::string& id, std::string_view relationship) {
      return boost::json::object{{"key", {{"type", type}, {"id", id}}}, {"relationship", relationship}};
    };
    boost::json::object body{
        {"name", job.name},
        {"description", job.description},
        {"pipeline_spec", {{"parameters", std::move(parameters)}}},
        {"resource_references", boost::json::array{reference("EXPERIMENT", job.experiment_id, "OWNER"),
                                                   reference("PIPELINE_VERSION", job.version_id, "CREATOR")}},
        {"enabled", job.enabled}};
    if (!job.service_account.empty()) body["service_account"] = job.service_account;
    return body;
  }

  static std::function<RecurringRun(const boost::json::value&)> v1_job_parser() {
    return [](const boost::json::value& value) {
      const auto& o = object_of(value);
      RecurringRun job;
      job.id = string_field(o, "id");
      job.name = string_field(o, "name");
      job.description = string_field(o, "description");
      job.enabled = bool_field(o, "enabled");
      return job;
    };
  }

  // The body fields a run and a recurring run share (run.proto, recurring_run.proto).
  static boost::json::object run_body(const RunSettings& run) {
    boost::json::object body{{"display_name", run.name},
                             {"description", run.description},
                             {"experiment_id", run.experiment_id},
                             {"pipeline_version_reference",
                              {{"pipeline_id", run.pipeline_id}, {"pipeline_version_id", run.version_id}}}};
    if (!run.service_account.empty()) body["service_account"] = run.service_account;
    return body;
  }

  // The versions of a pipeline; each carries its whole pipeline_spec, hence the larger answer cap.
  static ApiRequest versions_request(const std::string& pipeline_id, QueryParams query) {
    return get_request(fmt::format("{}/pipelines/{}/versions", base, percent_encode(pipeline_id)),
                       std::move(query), Endpoint::json_api_with_specs);
  }

  // The runs of the experiment whose description holds the marker, oldest first (run.proto's
  // ListRuns: experiment_id, namespace, filter, sort_by; list.go sorts by the field, then the id).
  static ApiRequest runs_with_marker(const std::string& experiment_id, const std::string& ns,
                                     const std::string& marker, const char* page_size) {
    return get_request(fmt::format("{}/runs", base),
                       in_namespace(ns, {{"experiment_id", experiment_id},
                                         {"filter", Filter().substring("description", marker).query_value()},
                                         {"sort_by", "created_at"},
                                         {"page_size", page_size}}));
  }

  util::Result<std::optional<PipelineVersion>> find_version(const std::string& pipeline_id,
                                                            const Filter& filter, std::string_view what) {
    return first_of(connection_, versions_request(pipeline_id, first_match(filter)), "pipeline_versions",
                    what, to_version);
  }

  // The same server through its v1beta1 API: the way Argo workflows' parameters arrive.
  static ServerInfo v1_view(ServerInfo server) {
    server.api = "v1beta1";
    return server;
  }

  Connection& connection_;
  ServerInfo server_;
  std::unique_ptr<KfpApi> v1_;
};

}  // namespace

static std::unique_ptr<KfpApi> make_v2_api(Connection& connection, const ServerInfo& server) {
  return std::make_unique<V2Api>(connection, server);
}

util::Result<std::unique_ptr<KfpApi>> make_api(Connection& connection, const ServerInfo& server) {
  if (server.api == "v1beta1") return make_v1_api(connection, server);
  return make_v2_api(connection, server);
}

}  // namespace kfp::api
