#include "api/json_fields.hpp"
#include "api/kfp_api.hpp"
#include "api/multipart.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace kfp::api {

namespace {

constexpr const char* base = "/apis/v2beta1";

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
  return version;
}

Experiment to_experiment(const boost::json::value& value) {
  const auto& o = object_of(value);
  return Experiment{string_field(o, "experiment_id"), string_field(o, "display_name"),
                    string_field(o, "namespace")};
}

Run to_run(const boost::json::value& value) {
  const auto& o = object_of(value);
  Run run{string_field(o, "run_id"), string_field(o, "display_name"), string_field(o, "state"), {}};
  if (run.state.empty()) run.state = "PENDING";
  if (auto error = o.find("error"); error != o.end() && error->value().is_object()) {
    run.error = string_field(error->value().as_object(), "message");
  }
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

class V2Api final : public KfpApi {
 public:
  V2Api(Connection& connection, ServerInfo server) : connection_(connection), server_(std::move(server)) {}

  [[nodiscard]] const ServerInfo& server() const override { return server_; }

  util::Result<std::optional<Pipeline>> find_pipeline(const std::string& name,
                                                      const std::string& ns) override {
    QueryParams query;
    if (!ns.empty()) query.emplace_back("namespace", ns);
    auto reply = connection_.call({http::Method::get,
                                   fmt::format("{}/pipelines/names/{}", base, percent_encode(name)),
                                   query,
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api},
                                  fmt::format("find pipeline {}", name));
    if (!reply) {
      if (reply.error().kind == util::ErrorKind::not_found) return std::optional<Pipeline>();
      return reply.error();
    }
    return std::optional<Pipeline>(to_pipeline(reply->json));
  }

  util::Result<Pipeline> create_pipeline(const std::string& name, const std::string& description,
                                         const std::string& ns) override {
    boost::json::object body{{"name", name}, {"display_name", name}};
    if (!description.empty()) body["description"] = description;
    if (!ns.empty()) body["namespace"] = ns;
    auto lookup = [&]() -> util::Result<std::optional<boost::json::value>> {
      auto found = find_pipeline(name, ns);
      if (!found) return found.error();
      if (!*found) return std::optional<boost::json::value>();
      return std::optional<boost::json::value>(
          boost::json::object{{"pipeline_id", (*found)->id}, {"name", (*found)->name}});
    };
    auto reply = connection_.create({http::Method::post,
                                     fmt::format("{}/pipelines", base),
                                     {},
                                     boost::json::value(body),
                                     {},
                                     {},
                                     Endpoint::json_api},
                                    fmt::format("create pipeline {}", name), lookup);
    if (!reply) return reply.error();
    return to_pipeline(reply->json);
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
    QueryParams query{{"page_size", "1"}, {"sort_by", "created_at desc"}};
    auto reply = connection_.call({http::Method::get,
                                   fmt::format("{}/pipelines/{}/versions", base, percent_encode(pipeline_id)),
                                   query,
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api_with_specs},
                                  "find the latest version");
    if (!reply) return reply.error();
    auto item = first_item(*reply, "pipeline_versions");
    if (!item) return std::optional<PipelineVersion>();
    return std::optional<PipelineVersion>(to_version(*item));
  }

  util::Result<PipelineVersion> get_version(const std::string& pipeline_id,
                                            const std::string& version_id) override {
    auto reply = connection_.call({http::Method::get,
                                   fmt::format("{}/pipelines/{}/versions/{}", base,
                                               percent_encode(pipeline_id), percent_encode(version_id)),
                                   {},
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api_with_specs},
                                  fmt::format("get version {}", version_id));
    if (!reply) return reply.error();
    return to_version(reply->json);
  }

  util::Result<PipelineVersion> upload_version(const UploadVersion& upload) override {
    QueryParams query{
        {"pipelineid", upload.pipeline_id}, {"name", upload.name}, {"display_name", upload.name}};
    if (!upload.description.empty()) query.emplace_back("description", upload.description);
    if (server_.supports_tags && !upload.tags.empty()) query.emplace_back("tags", tags_json(upload.tags));
    // Servers that do not know code_source_url ignore unknown query parameters.
    if (!upload.code_source_url.empty()) query.emplace_back("code_source_url", upload.code_source_url);
    auto multipart = upload_body(upload.filename, upload.content);
    auto lookup = [&]() -> util::Result<std::optional<boost::json::value>> {
      auto found = find_version_raw(upload.pipeline_id, Filter().equals("name", upload.name), "find version");
      if (!found) return found.error();
      return *found;
    };
    auto reply = connection_.create({http::Method::post,
                                     fmt::format("{}/pipelines/upload_version", base),
                                     query,
                                     {},
                                     multipart.body,
                                     multipart.content_type,
                                     Endpoint::upload},
                                    fmt::format("upload version {}", upload.name), lookup);
    if (!reply) return reply.error();
    return to_version(reply->json);
  }

  util::Result<std::optional<Experiment>> find_experiment(const std::string& name,
                                                          const std::string& ns) override {
    QueryParams query{{"filter", Filter().equals("name", name).query_value()}, {"page_size", "1"}};
    if (!ns.empty()) query.emplace_back("namespace", ns);
    auto reply = connection_.call(
        {http::Method::get, fmt::format("{}/experiments", base), query, {}, {}, {}, Endpoint::json_api},
        fmt::format("find experiment {}", name));
    if (!reply) return reply.error();
    auto item = first_item(*reply, "experiments");
    if (!item) return std::optional<Experiment>();
    return std::optional<Experiment>(to_experiment(*item));
  }

  util::Result<Experiment> create_experiment(const std::string& name, const std::string& ns) override {
    return create_described_experiment(name, "", ns);
  }

  util::Result<std::optional<Run>> find_run(const std::string& experiment_id, const std::string& ns,
                                            const std::string& marker) override {
    QueryParams query{{"experiment_id", experiment_id},
                      {"filter", Filter().substring("description", marker).query_value()},
                      {"page_size", "1"}};
    if (!ns.empty()) query.emplace_back("namespace", ns);
    auto reply = connection_.call(
        {http::Method::get, fmt::format("{}/runs", base), query, {}, {}, {}, Endpoint::json_api},
        "look up the run by its run key");
    if (!reply) return reply.error();
    auto item = first_item(*reply, "runs");
    if (!item) return std::optional<Run>();
    return std::optional<Run>(to_run(*item));
  }

  util::Result<Run> create_run(const CreateRun& run, const std::string& ns,
                               const std::string& marker) override {
    boost::json::object body{{"display_name", run.name},
                             {"description", run.description},
                             {"experiment_id", run.experiment_id},
                             {"pipeline_version_reference",
                              {{"pipeline_id", run.pipeline_id}, {"pipeline_version_id", run.version_id}}}};
    boost::json::object runtime{{"parameters", run.parameters}};
    if (!run.pipeline_root.empty()) runtime["pipeline_root"] = run.pipeline_root;
    body["runtime_config"] = std::move(runtime);
    if (!run.service_account.empty()) body["service_account"] = run.service_account;
    auto lookup = [&]() -> util::Result<std::optional<boost::json::value>> {
      auto found = find_run(run.experiment_id, ns, marker);
      if (!found) return found.error();
      if (!*found) return std::optional<boost::json::value>();
      return std::optional<boost::json::value>(boost::json::object{
          {"run_id", (*found)->id}, {"display_name", (*found)->name}, {"state", (*found)->state}});
    };
    auto reply = connection_.create({http::Method::post,
                                     fmt::format("{}/runs", base),
                                     {},
                                     boost::json::value(body),
                                     {},
                                     {},
                                     Endpoint::json_api},
                                    fmt::format("create run {}", run.name), lookup);
    if (!reply) return reply.error();
    return to_run(reply->json);
  }

  util::Result<Run> get_run(const std::string& run_id) override {
    auto reply = connection_.call({http::Method::get,
                                   fmt::format("{}/runs/{}", base, percent_encode(run_id)),
                                   {},
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api},
                                  fmt::format("get run {}", run_id));
    if (!reply) return reply.error();
    return to_run(reply->json);
  }

  util::Result<void> terminate_run(const std::string& run_id) override {
    auto reply = connection_.call({http::Method::post,
                                   fmt::format("{}/runs/{}:terminate", base, percent_encode(run_id)),
                                   {},
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api},
                                  fmt::format("terminate run {}", run_id));
    if (!reply) return reply.error();
    return {};
  }

  util::Result<std::optional<RecurringRun>> find_recurring_run(const std::string& name,
                                                               const std::string& ns) override {
    QueryParams query{{"filter", Filter().equals("display_name", name).query_value()}, {"page_size", "1"}};
    if (!ns.empty()) query.emplace_back("namespace", ns);
    auto reply = connection_.call(
        {http::Method::get, fmt::format("{}/recurringruns", base), query, {}, {}, {}, Endpoint::json_api},
        fmt::format("find recurring run {}", name));
    if (!reply) return reply.error();
    // The list field is camelCase on the wire (the proto field itself is); accept both spellings.
    auto item = first_item(*reply, "recurringRuns");
    if (!item) item = first_item(*reply, "recurring_runs");
    if (!item) return std::optional<RecurringRun>();
    return std::optional<RecurringRun>(to_recurring_run(*item));
  }

  util::Result<RecurringRun> create_recurring_run(const RecurringRun& job, const std::string& ns) override {
    boost::json::object body{{"display_name", job.name},
                             {"description", job.description},
                             {"experiment_id", job.experiment_id},
                             {"pipeline_version_reference",
                              {{"pipeline_id", job.pipeline_id}, {"pipeline_version_id", job.version_id}}},
                             {"runtime_config", {{"parameters", job.parameters}}},
                             {"max_concurrency", std::to_string(job.max_concurrency)},
                             {"mode", job.enabled ? "ENABLE" : "DISABLE"},
                             {"no_catchup", true}};
    if (job.interval_seconds) {
      body["trigger"] = {{"periodic_schedule", {{"interval_second", std::to_string(*job.interval_seconds)}}}};
    } else {
      body["trigger"] = {{"cron_schedule", {{"cron", job.cron}}}};
    }
    if (!job.service_account.empty()) body["service_account"] = job.service_account;
    auto lookup = [&]() -> util::Result<std::optional<boost::json::value>> {
      auto found = find_recurring_run(job.name, ns);
      if (!found) return found.error();
      if (!*found) return std::optional<boost::json::value>();
      return std::optional<boost::json::value>(
          boost::json::object{{"recurring_run_id", (*found)->id}, {"display_name", (*found)->name}});
    };
    auto reply = connection_.create({http::Method::post,
                                     fmt::format("{}/recurringruns", base),
                                     {},
                                     boost::json::value(body),
                                     {},
                                     {},
                                     Endpoint::json_api},
                                    fmt::format("create recurring run {}", job.name), lookup);
    if (!reply) return reply.error();
    auto created = to_recurring_run(reply->json);
    if (created.name.empty()) created.name = job.name;
    return created;
  }

  util::Result<void> delete_recurring_run(const std::string& id) override {
    auto reply = connection_.call({http::Method::del,
                                   fmt::format("{}/recurringruns/{}", base, percent_encode(id)),
                                   {},
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api},
                                  fmt::format("delete recurring run {}", id));
    // Deleting is idempotent: gone already (a lost response, a re-run) is what we wanted.
    if (!reply && reply.error().kind != util::ErrorKind::not_found) return reply.error();
    return {};
  }

  util::Result<void> set_recurring_run_schedule(const std::string& id, Schedule schedule) override {
    const char* verb = schedule == Schedule::enabled ? "enable" : "disable";
    auto reply = connection_.call({http::Method::post,
                                   fmt::format("{}/recurringruns/{}:{}", base, percent_encode(id), verb),
                                   {},
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api},
                                  fmt::format("{} recurring run {}", verb, id));
    if (!reply) return reply.error();
    return {};
  }

  util::Result<Experiment> create_described_experiment(const std::string& name,
                                                       const std::string& description,
                                                       const std::string& ns) override {
    boost::json::object body{{"display_name", name}};
    if (!description.empty()) body["description"] = description;
    if (!ns.empty()) body["namespace"] = ns;
    auto lookup = [&]() -> util::Result<std::optional<boost::json::value>> {
      auto found = find_experiment(name, ns);
      if (!found) return found.error();
      if (!*found) return std::optional<boost::json::value>();
      return std::optional<boost::json::value>(boost::json::object{{"experiment_id", (*found)->id},
                                                                   {"display_name", (*found)->name},
                                                                   {"namespace", (*found)->namespace_name}});
    };
    auto reply = connection_.create({http::Method::post,
                                     fmt::format("{}/experiments", base),
                                     {},
                                     boost::json::value(body),
                                     {},
                                     {},
                                     Endpoint::json_api},
                                    fmt::format("create experiment {}", name), lookup);
    if (!reply) return reply.error();
    return to_experiment(reply->json);
  }

  [[nodiscard]] std::string run_url(const std::string& run_id) const override {
    return fmt::format("{}/#/runs/details/{}", connection_.base_url(), run_id);
  }

 private:
  util::Result<std::optional<boost::json::value>> find_version_raw(const std::string& pipeline_id,
                                                                   const Filter& filter,
                                                                   std::string_view what) {
    QueryParams query{{"filter", filter.query_value()}, {"page_size", "1"}};
    auto reply = connection_.call({http::Method::get,
                                   fmt::format("{}/pipelines/{}/versions", base, percent_encode(pipeline_id)),
                                   query,
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api_with_specs},
                                  what);
    if (!reply) return reply.error();
    return first_item(*reply, "pipeline_versions");
  }

  util::Result<std::optional<PipelineVersion>> find_version(const std::string& pipeline_id,
                                                            const Filter& filter, std::string_view what) {
    auto found = find_version_raw(pipeline_id, filter, what);
    if (!found) return found.error();
    if (!*found) return std::optional<PipelineVersion>();
    return std::optional<PipelineVersion>(to_version(**found));
  }

  Connection& connection_;
  ServerInfo server_;
};

}  // namespace

namespace {

util::Failure v1_unsupported(std::string_view what) {
  return util::fail(util::ErrorKind::usage, fmt::format("{} is not supported on the v1beta1 API", what),
                    "recurring runs need a KFP 2.x server (v2beta1 API)");
}

}  // namespace

util::Result<std::optional<RecurringRun>> KfpApi::find_recurring_run(const std::string& /*name*/,
                                                                     const std::string& /*ns*/) {
  return v1_unsupported("finding a recurring run");
}

util::Result<RecurringRun> KfpApi::create_recurring_run(const RecurringRun& /*recurring_run*/,
                                                        const std::string& /*ns*/) {
  return v1_unsupported("creating a recurring run");
}

util::Result<void> KfpApi::delete_recurring_run(const std::string& /*id*/) {
  return v1_unsupported("deleting a recurring run");
}

util::Result<void> KfpApi::set_recurring_run_schedule(const std::string& /*id*/, Schedule /*schedule*/) {
  return v1_unsupported("enabling or disabling a recurring run");
}

static std::unique_ptr<KfpApi> make_v2_api(Connection& connection, const ServerInfo& server) {
  return std::make_unique<V2Api>(connection, server);
}

util::Result<std::unique_ptr<KfpApi>> make_api(Connection& connection, const ServerInfo& server) {
  if (server.api == "v1beta1") return make_v1_api(connection, server);
  return make_v2_api(connection, server);
}

}  // namespace kfp::api
