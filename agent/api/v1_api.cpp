// The KfpApi operations over the v1beta1 API, for KFP 1.8 servers (NOTES.md section C). 2.x servers
// serve v1beta1 too, so `--api v1beta1` works against them as well.

#include "api/json_fields.hpp"
#include "api/kfp_api.hpp"
#include "api/multipart.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <set>

namespace kfp::api {

namespace {

constexpr const char* base = "/apis/v1beta1";
// When the server refuses a filter, lists are paged through and compared here instead.
constexpr const char* scan_page_size = "100";
constexpr int max_scan_pages = 50;
constexpr int bad_request = 400;
constexpr int internal_server_error = 500;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The id of the first resource reference of `type` ("NAMESPACE", "PIPELINE", ...), empty if none.
std::string reference_id(const boost::json::object& object, std::string_view type) {
  auto it = object.find("resource_references");
  if (it == object.end() || !it->value().is_array()) return {};
  for (const auto& item : it->value().as_array()) {
    const auto& entry = object_of(item);
    auto key = entry.find("key");
    if (key == entry.end()) continue;
    if (string_field(object_of(key->value()), "type") == type)
      return string_field(object_of(key->value()), "id");
  }
  return {};
}

boost::json::object reference(std::string_view type, const std::string& id, std::string_view relationship) {
  return {{"key", {{"type", type}, {"id", id}}}, {"relationship", relationship}};
}

Pipeline to_pipeline(const boost::json::value& value) {
  const auto& o = object_of(value);
  return Pipeline{string_field(o, "id"), string_field(o, "name"), reference_id(o, "NAMESPACE")};
}

PipelineVersion to_version(const boost::json::value& value) {
  const auto& o = object_of(value);
  PipelineVersion version;
  version.id = string_field(o, "id");
  version.name = string_field(o, "name");
  version.pipeline_id = reference_id(o, "PIPELINE");
  version.description = string_field(o, "description");
  return version;
}

// A v1 version carries no spec, only its parameters (name, default as text). They are given to
// the flows as the Argo Workflow skeleton they came from, so they are read like a package's.
boost::json::value declared_parameters_document(const boost::json::object& version) {
  boost::json::array parameters;
  if (auto it = version.find("parameters"); it != version.end() && it->value().is_array()) {
    for (const auto& item : it->value().as_array()) {
      const auto& parameter = object_of(item);
      boost::json::object declared{{"name", string_field(parameter, "name")}};
      // The server omits empty values, so an absent value reads as "no default".
      if (parameter.contains("value")) declared["value"] = string_field(parameter, "value");
      if (!string_field(parameter, "name").empty()) parameters.push_back(std::move(declared));
    }
  }
  return boost::json::object{{"apiVersion", "argoproj.io/v1alpha1"},
                             {"kind", "Workflow"},
                             {"metadata", {{"name", string_field(version, "name")}}},
                             {"spec",
                              {{"templates", boost::json::array{boost::json::object{{"name", "main"}}}},
                               {"arguments", {{"parameters", std::move(parameters)}}}}}};
}

Experiment to_experiment(const boost::json::value& value) {
  const auto& o = object_of(value);
  return Experiment{string_field(o, "id"), string_field(o, "name"), reference_id(o, "NAMESPACE")};
}

// v1 run status (the Argo phase on 1.8; the v1 view of the v2 state on 2.x) as a v2 RuntimeState.
std::string runtime_state(std::string_view status) {
  const std::string s = lower(status);
  if (s == "succeeded") return "SUCCEEDED";
  if (s == "failed" || s == "error") return "FAILED";
  if (s == "skipped") return "SKIPPED";
  if (s == "terminating") return "CANCELING";
  if (s == "running") return "RUNNING";
  // "", Pending, Unknown, and anything newer: not finished, keep polling.
  return "PENDING";
}

bool is_refused_filter(const util::Failure& failure) {
  return failure.http_status == bad_request;
}

bool is_masked_duplicate(const util::Failure& failure) {
  // 1.8 answers a duplicate name on the upload endpoints with 500 instead of 409.
  return failure.http_status == internal_server_error &&
         lower(failure.message).find("already exist") != std::string::npos;
}

class V1Api final : public KfpApi {
 public:
  V1Api(Connection& connection, ServerInfo server) : connection_(connection), server_(std::move(server)) {
    server_.supports_tags = false;
    // 1.x reads v2 IR as JSON only, and unescapes upload names and descriptions a second time.
    const bool one_x = !version_at_least(server_.version, 2, 0);
    server_.accepts_pipeline_spec_yaml = !one_x;
    upload_text_escaped_twice_ = one_x;
  }

  [[nodiscard]] const ServerInfo& server() const override { return server_; }

  util::Result<std::optional<Pipeline>> find_pipeline(const std::string& name,
                                                      const std::string& ns) override {
    auto found = find_pipeline_raw(name, ns);
    if (!found) return found.error();
    if (!*found) return std::optional<Pipeline>();
    return std::optional<Pipeline>(to_pipeline(**found));
  }

  // v1 cannot create a pipeline without its first package: this remembers what to create, and
  // upload_version with an empty pipeline_id creates both (the version is named after the pipeline).
  util::Result<Pipeline> create_pipeline(const std::string& name, const std::string& description,
                                         const std::string& ns) override {
    pending_ = PendingPipeline{name, description, ns};
    return Pipeline{{}, name, ns};
  }

  util::Result<std::optional<PipelineVersion>> find_version_by_name(const std::string& pipeline_id,
                                                                    const std::string& name) override {
    if (pipeline_id.empty()) return std::optional<PipelineVersion>();  // not uploaded yet
    auto found = find_version_raw(pipeline_id, name);
    if (!found) return found.error();
    if (!*found) return std::optional<PipelineVersion>();
    return std::optional<PipelineVersion>(to_version(**found));
  }

  util::Result<std::optional<PipelineVersion>> find_version_by_digest(const std::string& pipeline_id,
                                                                      const std::string& digest) override {
    if (pipeline_id.empty()) return std::optional<PipelineVersion>();
    auto found = find_first(
        {http::Method::get,
         fmt::format("{}/pipeline_versions", base),
         versions_query(pipeline_id),
         {},
         {},
         {},
         Endpoint::json_api},
        Filter("op").substring("description", digest), "versions",
        [&](const boost::json::object& item) {
          return string_field(item, "description").find(digest) != std::string::npos;
        },
        "find the version with this digest");
    if (!found) return found.error();
    if (*found) return std::optional<PipelineVersion>(to_version(**found));
    return first_version_by_pipeline_description(pipeline_id, digest);
  }

  util::Result<std::optional<PipelineVersion>> latest_version(const std::string& pipeline_id) override {
    QueryParams query = versions_query(pipeline_id);
    query.emplace_back("page_size", "1");
    query.emplace_back("sort_by", "created_at desc");
    auto reply = connection_.call(
        {http::Method::get, fmt::format("{}/pipeline_versions", base), query, {}, {}, {}, Endpoint::json_api},
        "find the latest version");
    if (!reply) return reply.error();
    auto item = first_item(*reply, "versions");
    if (!item) return std::optional<PipelineVersion>();
    return std::optional<PipelineVersion>(to_version(*item));
  }

  util::Result<PipelineVersion> get_version(const std::string& /*pipeline_id*/,
                                            const std::string& version_id) override {
    auto reply = connection_.call({http::Method::get,
                                   fmt::format("{}/pipeline_versions/{}", base, percent_encode(version_id)),
                                   {},
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api},
                                  fmt::format("get version {}", version_id));
    if (!reply) return reply.error();
    PipelineVersion version = to_version(reply->json);
    version.pipeline_spec = declared_parameters_document(object_of(reply->json));
    return version;
  }

  util::Result<PipelineVersion> upload_version(const UploadVersion& upload) override {
    if (upload.pipeline_id.empty()) return upload_pipeline(upload);
    QueryParams query{{"name", upload_text(upload.name)}, {"pipelineid", upload.pipeline_id}};
    if (!upload.description.empty()) query.emplace_back("description", upload_text(upload.description));
    auto multipart = upload_body(upload.filename, upload.content);
    auto lookup = [&]() -> util::Result<std::optional<boost::json::value>> {
      return find_version_raw(upload.pipeline_id, upload.name);
    };
    auto reply = create_upload({http::Method::post,
                                fmt::format("{}/pipelines/upload_version", base),
                                query,
                                {},
                                multipart.body,
                                multipart.content_type,
                                Endpoint::upload},
                               fmt::format("upload version {}", upload.name), lookup);
    if (!reply) return reply.error();
    PipelineVersion version = to_version(*reply);
    if (version.pipeline_id.empty()) version.pipeline_id = upload.pipeline_id;
    return version;
  }

  util::Result<std::optional<Experiment>> find_experiment(const std::string& name,
                                                          const std::string& ns) override {
    QueryParams query{{"filter", Filter("op").equals("name", name).query_value()}, {"page_size", "1"}};
    add_namespace_key(query, ns);
    auto reply = connection_.call(
        {http::Method::get, fmt::format("{}/experiments", base), query, {}, {}, {}, Endpoint::json_api},
        fmt::format("find experiment {}", name));
    if (!reply) return reply.error();
    auto item = first_item(*reply, "experiments");
    if (!item) return std::optional<Experiment>();
    return std::optional<Experiment>(to_experiment(*item));
  }

  util::Result<Experiment> create_experiment(const std::string& name, const std::string& ns) override {
    boost::json::object body{{"name", name}};
    if (!ns.empty()) body["resource_references"] = boost::json::array{reference("NAMESPACE", ns, "OWNER")};
    auto lookup = [&]() -> util::Result<std::optional<boost::json::value>> {
      auto found = find_experiment(name, ns);
      if (!found) return found.error();
      if (!*found) return std::optional<boost::json::value>();
      boost::json::object object{{"id", (*found)->id}, {"name", (*found)->name}};
      if (!(*found)->namespace_name.empty()) {
        object["resource_references"] =
            boost::json::array{reference("NAMESPACE", (*found)->namespace_name, "OWNER")};
      }
      return std::optional<boost::json::value>(std::move(object));
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

  util::Result<std::optional<Run>> find_run(const std::string& experiment_id, const std::string& /*ns*/,
                                            const std::string& marker) override {
    // The experiment reference also scopes the list to the experiment's namespace.
    QueryParams query{{"resource_reference_key.type", "EXPERIMENT"},
                      {"resource_reference_key.id", experiment_id}};
    auto found = find_first(
        {http::Method::get, fmt::format("{}/runs", base), query, {}, {}, {}, Endpoint::json_api},
        Filter("op").substring("description", marker), "runs",
        [&](const boost::json::object& item) {
          return string_field(item, "description").find(marker) != std::string::npos;
        },
        "look up the run by its run key");
    if (!found) return found.error();
    if (!*found) return std::optional<Run>();
    return std::optional<Run>(to_run(**found));
  }

  util::Result<Run> create_run(const CreateRun& run, const std::string& ns,
                               const std::string& marker) override {
    if (!run.pipeline_root.empty()) {
      return util::fail(
          util::ErrorKind::usage,
          fmt::format("--pipeline-root cannot be set through the v1beta1 API (KFP {})", server_.version),
          "omit --pipeline-root: the server's default pipeline root is used");
    }
    boost::json::array parameters;
    for (const auto& [name, value] : run.parameters) {
      // v1 parameters are strings: anything else goes as its JSON text.
      parameters.push_back(
          {{"name", name},
           {"value", value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value)}});
    }
    boost::json::object body{{"name", run.name},
                             {"description", run.description},
                             {"pipeline_spec", {{"parameters", std::move(parameters)}}},
                             {"resource_references",
                              boost::json::array{reference("EXPERIMENT", run.experiment_id, "OWNER"),
                                                 reference("PIPELINE_VERSION", run.version_id, "CREATOR")}}};
    if (!run.service_account.empty()) body["service_account"] = run.service_account;
    auto lookup = [&]() -> util::Result<std::optional<boost::json::value>> {
      auto found = find_run(run.experiment_id, ns, marker);
      if (!found) return found.error();
      if (!*found) return std::optional<boost::json::value>();
      return std::optional<boost::json::value>(
          boost::json::object{{"run", {{"id", (*found)->id}, {"name", (*found)->name}}}});
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
    return to_run(run_of(reply->json));
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
    return to_run(run_of(reply->json));
  }

  util::Result<void> terminate_run(const std::string& run_id) override {
    auto reply = connection_.call({http::Method::post,
                                   fmt::format("{}/runs/{}/terminate", base, percent_encode(run_id)),
                                   {},
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api},
                                  fmt::format("terminate run {}", run_id));
    if (!reply) return reply.error();
    terminated_.insert(run_id);
    return {};
  }

  [[nodiscard]] std::string run_url(const std::string& run_id) const override {
    return fmt::format("{}/#/runs/details/{}", connection_.base_url(), run_id);
  }

 private:
  struct PendingPipeline {
    std::string name;
    std::string description;
    std::string namespace_name;
  };

  using ItemMatches = std::function<bool(const boost::json::object&)>;

  static const boost::json::value& run_of(const boost::json::value& detail) {
    static const boost::json::value none;
    const auto& o = object_of(detail);
    auto it = o.find("run");
    return it == o.end() ? none : it->value();
  }

  // A terminated run ends "Failed" on 1.8; when we know it was terminated, say so.
  Run to_run(const boost::json::value& value) {
    const auto& o = object_of(value);
    Run run{string_field(o, "id"), string_field(o, "name"), runtime_state(string_field(o, "status")),
            string_field(o, "error")};
    if (run.state == "CANCELING") seen_terminating_.insert(run.id);
    if (run.state == "FAILED" && (terminated_.contains(run.id) || seen_terminating_.contains(run.id))) {
      run.state = "CANCELED";
      run.error = fmt::format("the run was terminated{} (KFP {} reports a terminated run as Failed)",
                              terminated_.contains(run.id) ? " by kfp-publish" : "", server_.version);
    }
    return run;
  }

  std::string upload_text(const std::string& text) const {
    return upload_text_escaped_twice_ ? percent_encode(text) : text;
  }

  static void add_namespace_key(QueryParams& query, const std::string& ns) {
    if (ns.empty()) return;
    query.emplace_back("resource_reference_key.type", "NAMESPACE");
    query.emplace_back("resource_reference_key.id", ns);
  }

  static QueryParams versions_query(const std::string& pipeline_id) {
    return {{"resource_key.type", "PIPELINE"}, {"resource_key.id", pipeline_id}};
  }

  util::Result<std::optional<boost::json::value>> find_pipeline_raw(const std::string& name,
                                                                    const std::string& ns) {
    QueryParams query{{"filter", Filter("op").equals("name", name).query_value()}, {"page_size", "1"}};
    add_namespace_key(query, ns);
    auto reply = connection_.call(
        {http::Method::get, fmt::format("{}/pipelines", base), query, {}, {}, {}, Endpoint::json_api},
        fmt::format("find pipeline {}", name));
    if (!reply) return reply.error();
    return first_item(*reply, "pipelines");
  }

  util::Result<std::optional<boost::json::value>> find_version_raw(const std::string& pipeline_id,
                                                                   const std::string& name) {
    QueryParams query = versions_query(pipeline_id);
    query.emplace_back("filter", Filter("op").equals("name", name).query_value());
    query.emplace_back("page_size", "1");
    auto reply = connection_.call(
        {http::Method::get, fmt::format("{}/pipeline_versions", base), query, {}, {}, {}, Endpoint::json_api},
        fmt::format("find version {}", name));
    if (!reply) return reply.error();
    return first_item(*reply, "versions");
  }

  // The first item the filter selects; if the server refuses the filter (400: an older server
  // that cannot filter on this field), pages through the unfiltered list comparing locally.
  util::Result<std::optional<boost::json::value>> find_first(const ApiRequest& list, const Filter& filter,
                                                             std::string_view key, const ItemMatches& matches,
                                                             std::string_view what) {
    ApiRequest filtered = list;
    filtered.query.emplace_back("filter", filter.query_value());
    filtered.query.emplace_back("page_size", "1");
    auto reply = connection_.call(filtered, what);
    if (reply) return first_item(*reply, key);
    if (!is_refused_filter(reply.error())) return reply.error();
    std::string token;
    for (int page = 0; page < max_scan_pages; ++page) {
      ApiRequest scan = list;
      scan.query.emplace_back("page_size", scan_page_size);
      if (!token.empty()) scan.query.emplace_back("page_token", token);
      auto listed = connection_.call(scan, what);
      if (!listed) return listed.error();
      const auto& object = object_of(listed->json);
      if (auto items = object.find(key); items != object.end() && items->value().is_array()) {
        for (const auto& item : items->value().as_array()) {
          if (matches(object_of(item))) return std::optional<boost::json::value>(item);
        }
      }
      token = string_field(object, "next_page_token");
      if (token.empty()) return std::optional<boost::json::value>();
    }
    return util::fail(util::ErrorKind::server,
                      fmt::format("{}: the server cannot filter this list and it has more than {} pages",
                                  what, max_scan_pages));
  }

  // 1.8 gives the version made by the pipeline upload no description, only the pipeline (where
  // the upload put the digest): that first version is the one named after the pipeline.
  util::Result<std::optional<PipelineVersion>> first_version_by_pipeline_description(
      const std::string& pipeline_id, const std::string& digest) {
    auto reply = connection_.call({http::Method::get,
                                   fmt::format("{}/pipelines/{}", base, percent_encode(pipeline_id)),
                                   {},
                                   {},
                                   {},
                                   {},
                                   Endpoint::json_api},
                                  fmt::format("get pipeline {}", pipeline_id));
    if (!reply) return reply.error();
    const auto& pipeline = object_of(reply->json);
    if (string_field(pipeline, "description").find(digest) == std::string::npos)
      return std::optional<PipelineVersion>();
    auto found = find_version_by_name(pipeline_id, string_field(pipeline, "name"));
    if (!found) return found.error();
    if (*found && found->value().description.empty())
      found->value().description = string_field(pipeline, "description");
    return found;
  }

  // A create on an upload endpoint; 1.8 masks a duplicate as 500, which is treated as the 409 it
  // means: the object the look-up finds (our own lost attempt, or a race) is the result.
  util::Result<boost::json::value> create_upload(const ApiRequest& request, std::string_view what,
                                                 const Lookup& lookup) {
    auto reply = connection_.create(request, what, lookup);
    if (reply) return reply->json;
    if (!is_masked_duplicate(reply.error())) return reply.error();
    auto found = lookup();
    if (found && *found) return **found;
    util::Failure failure = reply.error();
    failure.kind = util::ErrorKind::conflict;
    return failure;
  }

  // The v1 upload: creates the pipeline remembered by create_pipeline with this package as its
  // first version, named after the pipeline. A lost response is looked up by the pipeline's name.
  util::Result<PipelineVersion> upload_pipeline(const UploadVersion& upload) {
    if (!pending_) {
      return util::fail(util::ErrorKind::internal,
                        "upload_version without a pipeline id and no pipeline to create");
    }
    const PendingPipeline pending = *pending_;
    QueryParams query{{"name", upload_text(pending.name)}};
    // The pipeline's description is the first version's description too: it carries the digest.
    if (!upload.description.empty()) query.emplace_back("description", upload_text(upload.description));
    if (!pending.namespace_name.empty()) query.emplace_back("namespace", pending.namespace_name);
    auto multipart = upload_body(upload.filename, upload.content);
    auto lookup = [&]() { return find_pipeline_raw(pending.name, pending.namespace_name); };
    auto reply = create_upload({http::Method::post,
                                fmt::format("{}/pipelines/upload", base),
                                query,
                                {},
                                multipart.body,
                                multipart.content_type,
                                Endpoint::upload},
                               fmt::format("upload pipeline {}", pending.name), lookup);
    if (!reply) return reply.error();
    pending_.reset();
    const Pipeline pipeline = to_pipeline(*reply);
    const auto& object = object_of(*reply);
    PipelineVersion version;
    if (auto it = object.find("default_version"); it != object.end() && it->value().is_object()) {
      version = to_version(it->value());
    } else {
      auto found = find_version_by_name(pipeline.id, pending.name);
      if (!found) return found.error();
      if (*found) version = **found;
    }
    version.pipeline_id = pipeline.id;
    if (version.name.empty()) version.name = pending.name;
    if (version.description.empty()) version.description = upload.description;
    return version;
  }

  Connection& connection_;
  ServerInfo server_;
  bool upload_text_escaped_twice_ = false;
  std::optional<PendingPipeline> pending_;
  std::set<std::string> terminated_;
  std::set<std::string> seen_terminating_;
};

}  // namespace

std::unique_ptr<KfpApi> make_v1_api(Connection& connection, const ServerInfo& server) {
  return std::make_unique<V1Api>(connection, server);
}

}  // namespace kfp::api
