#include "api/kfp_api.hpp"
#include "api/multipart.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace kfp::api {

namespace {

constexpr const char* base = "/apis/v2beta1";

std::string str(const boost::json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

const boost::json::object& as_object(const boost::json::value& value) {
  static const boost::json::object empty;
  return value.is_object() ? value.as_object() : empty;
}

Pipeline to_pipeline(const boost::json::value& value) {
  const auto& o = as_object(value);
  std::string name = str(o, "name");
  if (name.empty()) name = str(o, "display_name");  // <= 2.5 has only display_name
  return Pipeline{str(o, "pipeline_id"), name, str(o, "namespace")};
}

PipelineVersion to_version(const boost::json::value& value) {
  const auto& o = as_object(value);
  PipelineVersion version;
  version.id = str(o, "pipeline_version_id");
  version.name = str(o, "name");
  if (version.name.empty()) version.name = str(o, "display_name");
  version.pipeline_id = str(o, "pipeline_id");
  version.description = str(o, "description");
  if (auto tags = o.find("tags"); tags != o.end() && tags->value().is_object()) {
    for (const auto& [key, tag] : tags->value().as_object()) {
      if (tag.is_string()) version.tags[std::string(key)] = std::string(tag.as_string());
    }
  }
  if (auto spec = o.find("pipeline_spec"); spec != o.end()) version.pipeline_spec = spec->value();
  return version;
}

Experiment to_experiment(const boost::json::value& value) {
  const auto& o = as_object(value);
  return Experiment{str(o, "experiment_id"), str(o, "display_name"), str(o, "namespace")};
}

Run to_run(const boost::json::value& value) {
  const auto& o = as_object(value);
  Run run{str(o, "run_id"), str(o, "display_name"), str(o, "state"), {}};
  if (run.state.empty()) run.state = "PENDING";
  if (auto error = o.find("error"); error != o.end() && error->value().is_object()) {
    run.error = str(error->value().as_object(), "message");
  }
  return run;
}

// The first element of `key` in a list response, or nullopt when the list is empty.
std::optional<boost::json::value> first_item(const ApiReply& reply, std::string_view key) {
  const auto& o = as_object(reply.json);
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_array() || it->value().as_array().empty()) return std::nullopt;
  return it->value().as_array().front();
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

  util::Result<std::optional<Pipeline>> find_pipeline(const std::string& name, const std::string& ns) override {
    QueryParams query;
    if (!ns.empty()) query.emplace_back("namespace", ns);
    auto reply = connection_.call({http::Method::get, fmt::format("{}/pipelines/names/{}", base, percent_encode(name)),
                                   query, {}, {}, {}, Endpoint::json_api},
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
    auto reply = connection_.create({http::Method::post, fmt::format("{}/pipelines", base), {}, boost::json::value(body),
                                     {}, {}, Endpoint::json_api},
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
    return find_version(pipeline_id, Filter().substring("description", digest), "find the version with this digest");
  }

  util::Result<std::optional<PipelineVersion>> latest_version(const std::string& pipeline_id) override {
    QueryParams query{{"page_size", "1"}, {"sort_by", "created_at desc"}};
    auto reply = connection_.call({http::Method::get, fmt::format("{}/pipelines/{}/versions", base, percent_encode(pipeline_id)),
                                   query, {}, {}, {}, Endpoint::json_api},
                                  "find the latest version");
    if (!reply) return reply.error();
    auto item = first_item(*reply, "pipeline_versions");
    if (!item) return std::optional<PipelineVersion>();
    return std::optional<PipelineVersion>(to_version(*item));
  }

  util::Result<PipelineVersion> get_version(const std::string& pipeline_id, const std::string& version_id) override {
    auto reply = connection_.call({http::Method::get,
                                   fmt::format("{}/pipelines/{}/versions/{}", base, percent_encode(pipeline_id),
                                               percent_encode(version_id)),
                                   {}, {}, {}, {}, Endpoint::json_api},
                                  fmt::format("get version {}", version_id));
    if (!reply) return reply.error();
    return to_version(reply->json);
  }

  util::Result<PipelineVersion> upload_version(const UploadVersion& upload) override {
    QueryParams query{{"pipelineid", upload.pipeline_id}, {"name", upload.name}, {"display_name", upload.name}};
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
    auto reply = connection_.create({http::Method::post, fmt::format("{}/pipelines/upload_version", base), query, {},
                                     multipart.body, multipart.content_type, Endpoint::upload},
                                    fmt::format("upload version {}", upload.name), lookup);
    if (!reply) return reply.error();
    return to_version(reply->json);
  }

  util::Result<std::optional<Experiment>> find_experiment(const std::string& name, const std::string& ns) override {
    QueryParams query{{"filter", Filter().equals("name", name).query_value()}, {"page_size", "1"}};
    if (!ns.empty()) query.emplace_back("namespace", ns);
    auto reply = connection_.call({http::Method::get, fmt::format("{}/experiments", base), query, {}, {}, {},
                                   Endpoint::json_api},
                                  fmt::format("find experiment {}", name));
    if (!reply) return reply.error();
    auto item = first_item(*reply, "experiments");
    if (!item) return std::optional<Experiment>();
    return std::optional<Experiment>(to_experiment(*item));
  }

  util::Result<Experiment> create_experiment(const std::string& name, const std::string& ns) override {
    boost::json::object body{{"display_name", name}};
    if (!ns.empty()) body["namespace"] = ns;
    auto lookup = [&]() -> util::Result<std::optional<boost::json::value>> {
      auto found = find_experiment(name, ns);
      if (!found) return found.error();
      if (!*found) return std::optional<boost::json::value>();
      return std::optional<boost::json::value>(boost::json::object{
          {"experiment_id", (*found)->id}, {"display_name", (*found)->name}, {"namespace", (*found)->namespace_name}});
    };
    auto reply = connection_.create({http::Method::post, fmt::format("{}/experiments", base), {},
                                     boost::json::value(body), {}, {}, Endpoint::json_api},
                                    fmt::format("create experiment {}", name), lookup);
    if (!reply) return reply.error();
    return to_experiment(reply->json);
  }

  util::Result<std::optional<Run>> find_run(const std::string& experiment_id, const std::string& ns,
                                            const std::string& marker) override {
    QueryParams query{{"experiment_id", experiment_id},
                      {"filter", Filter().substring("description", marker).query_value()},
                      {"page_size", "1"}};
    if (!ns.empty()) query.emplace_back("namespace", ns);
    auto reply = connection_.call({http::Method::get, fmt::format("{}/runs", base), query, {}, {}, {},
                                   Endpoint::json_api},
                                  "look up the run by its run key");
    if (!reply) return reply.error();
    auto item = first_item(*reply, "runs");
    if (!item) return std::optional<Run>();
    return std::optional<Run>(to_run(*item));
  }

  util::Result<Run> create_run(const CreateRun& run, const std::string& ns, const std::string& marker) override {
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
    auto reply = connection_.create({http::Method::post, fmt::format("{}/runs", base), {}, boost::json::value(body),
                                     {}, {}, Endpoint::json_api},
                                    fmt::format("create run {}", run.name), lookup);
    if (!reply) return reply.error();
    return to_run(reply->json);
  }

  util::Result<Run> get_run(const std::string& run_id) override {
    auto reply = connection_.call({http::Method::get, fmt::format("{}/runs/{}", base, percent_encode(run_id)), {}, {},
                                   {}, {}, Endpoint::json_api},
                                  fmt::format("get run {}", run_id));
    if (!reply) return reply.error();
    return to_run(reply->json);
  }

  util::Result<void> terminate_run(const std::string& run_id) override {
    auto reply = connection_.call({http::Method::post, fmt::format("{}/runs/{}:terminate", base, percent_encode(run_id)),
                                   {}, {}, {}, {}, Endpoint::json_api},
                                  fmt::format("terminate run {}", run_id));
    if (!reply) return reply.error();
    return {};
  }

  [[nodiscard]] std::string run_url(const std::string& run_id) const override {
    return fmt::format("{}/#/runs/details/{}", connection_.base_url(), run_id);
  }

private:
  util::Result<std::optional<boost::json::value>> find_version_raw(const std::string& pipeline_id, const Filter& filter,
                                                                   std::string_view what) {
    QueryParams query{{"filter", filter.query_value()}, {"page_size", "1"}};
    auto reply = connection_.call({http::Method::get, fmt::format("{}/pipelines/{}/versions", base, percent_encode(pipeline_id)),
                                   query, {}, {}, {}, Endpoint::json_api},
                                  what);
    if (!reply) return reply.error();
    return first_item(*reply, "pipeline_versions");
  }

  util::Result<std::optional<PipelineVersion>> find_version(const std::string& pipeline_id, const Filter& filter,
                                                            std::string_view what) {
    auto found = find_version_raw(pipeline_id, filter, what);
    if (!found) return found.error();
    if (!*found) return std::optional<PipelineVersion>();
    return std::optional<PipelineVersion>(to_version(**found));
  }

  Connection& connection_;
  ServerInfo server_;
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
