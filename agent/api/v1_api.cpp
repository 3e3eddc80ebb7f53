// The KfpApi operations over the v1beta1 API, for KFP 1.8 servers (NOTES.md section C). 2.x servers
// serve v1beta1 too, so `--api v1beta1` works against them as well.

#include "api/calls.hpp"
#include "api/json_fields.hpp"
#include "api/kfp_api.hpp"
#include "api/multipart.hpp"
#include "api/upload_errors.hpp"
#include "package/package.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <boost/json/parse.hpp>
#include <boost/url/pct_string_view.hpp>

#include <map>
#include <set>

namespace kfp::api {

namespace {

constexpr const char* base = "/apis/v1beta1";
// When the server refuses a filter, lists are paged through and compared here instead.
constexpr const char* scan_page_size = "100";
// Listing every run with a run key: the server's maximum page size (list.go: 200).
constexpr const char* list_page_size = "200";
constexpr int bad_request = 400;
// How a content digest begins ("sha256:<hex>").
constexpr std::string_view digest_prefix = "sha256:";

std::string percent_decoded(std::string_view text) {
  auto encoded = boost::urls::make_pct_string_view(text);
  return encoded ? encoded->decode() : std::string(text);
}

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

// A PipelineSpec stored as YAML (2.x) is given to the flows as a JSON document with what they read
// of it: the name and the root's declared inputs, typed as the server types them.
boost::json::value declared_inputs_document(const package::Package& package) {
  boost::json::object parameters;
  for (const auto& input : package.inputs) {
    boost::json::object declared{{"parameterType", package::to_string(input.type)}};
    if (input.default_value) declared["defaultValue"] = *input.default_value;
    if (input.optional) declared["isOptional"] = true;
    parameters[input.name] = std::move(declared);
  }
  return boost::json::object{
      {"pipelineInfo", {{"name", package.pipeline_name}}},
      {"root",
       {{"dag", {{"tasks", boost::json::object{}}}}, {"inputDefinitions", {{"parameters", parameters}}}}},
      {"schemaVersion", "2.1.0"},
      {"sdkVersion", "kfp-publish"}};
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

// The v1beta1 query dialect: filters say `op`, and the namespace is a resource reference key.
Filter filter() {
  return Filter("op");
}

QueryParams in_namespace(const std::string& ns, QueryParams query = {}) {
  if (ns.empty()) return query;
  query.emplace_back("resource_reference_key.type", "NAMESPACE");
  query.emplace_back("resource_reference_key.id", ns);
  return query;
}

QueryParams first_match(const Filter& filter) {
  return {{"filter", filter.query_value()}, {"page_size", "1"}};
}

ApiRequest pipeline_by_name_request(const std::string& name, const std::string& ns) {
  return get_request(fmt::format("{}/pipelines", base),
                     in_namespace(ns, first_match(filter().equals("name", name))));
}

ApiRequest versions_request(const std::string& pipeline_id, QueryParams query = {}) {
  query.emplace_back("resource_key.type", "PIPELINE");
  query.emplace_back("resource_key.id", pipeline_id);
  return get_request(fmt::format("{}/pipeline_versions", base), std::move(query));
}

// The runs of an experiment, oldest first; the experiment reference also scopes the list to the
// experiment's namespace.
ApiRequest experiment_runs_request(const std::string& experiment_id) {
  return get_request(fmt::format("{}/runs", base), {{"resource_reference_key.type", "EXPERIMENT"},
                                                    {"resource_reference_key.id", experiment_id},
                                                    {"sort_by", "created_at"}});
}

// The v1 pipeline upload answers with the pipeline and the version it made (default_version).
struct UploadedPipeline {
  Pipeline pipeline;
  std::optional<PipelineVersion> default_version;
  std::string description;      // the pipeline's: where 1.8 keeps the first version's digest
  bool found_existing = false;  // as Pipeline::found_existing
};

UploadedPipeline to_uploaded_pipeline(const boost::json::value& value) {
  const auto& object = object_of(value);
  UploadedPipeline uploaded{to_pipeline(value), std::nullopt, string_field(object, "description")};
  if (auto it = object.find("default_version"); it != object.end() && it->value().is_object())
    uploaded.default_version = to_version(it->value());
  return uploaded;
}

class V1Api final : public KfpApi {
 public:
  V1Api(Connection& connection, ServerInfo server) : connection_(connection), server_(std::move(server)) {
    server_.supports_tags = false;
    // 1.x reads v2 IR as JSON only, and unescapes some upload query parameters a second time.
    one_x_ = !version_at_least(server_.version, 2, 0);
    server_.accepts_pipeline_spec_yaml = !one_x_;
  }

  [[nodiscard]] const ServerInfo& server() const override { return server_; }

  util::Result<std::optional<Pipeline>> find_pipeline(const std::string& name,
                                                      const std::string& ns) override {
    return first_of(connection_, pipeline_by_name_request(name, ns), "pipelines",
                    fmt::format("find pipeline {}", name), to_pipeline);
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
    return first_of(connection_, versions_request(pipeline_id, first_match(filter().equals("name", name))),
                    "versions", fmt::format("find version {}", name), version_parser());
  }

  util::Result<std::optional<PipelineVersion>> find_version_by_digest(const std::string& pipeline_id,
                                                                      const std::string& digest) override {
    if (pipeline_id.empty()) return std::optional<PipelineVersion>();
    auto found =
        first_matching(versions_request(pipeline_id), filter().substring("description", digest), "versions",
                       description_holds(digest), "find the version with this digest", version_parser());
    if (!found || *found) return found;
    if (one_x_) {
      // Stored percent-encoded by a client that encoded the description twice (see version_of).
      found = first_matching(versions_request(pipeline_id),
                             filter().substring("description", percent_encode(digest)), "versions",
                             description_holds(percent_encode(digest)),
                             "find the version with this digest (percent-encoded)", version_parser());
      if (!found || *found) return found;
    }
    return first_version_by_pipeline_description(pipeline_id, digest);
  }

  util::Result<std::optional<PipelineVersion>> latest_version(const std::string& pipeline_id) override {
    return first_of(connection_,
                    versions_request(pipeline_id, {{"page_size", "1"}, {"sort_by", "created_at desc"}}),
                    "versions", "find the latest version", version_parser());
  }

  util::Result<PipelineVersion> get_version(const std::string& /*pipeline_id*/,
                                            const std::string& version_id) override {
    auto listed = get_version_object(version_id);
    if (!listed) return listed.error();
    PipelineVersion version = version_of(*listed);
    auto facts = version_facts(version_id, *listed);
    if (!facts) return facts.error();
    version.kind = facts->kind;
    version.pipeline_spec = facts->spec.is_null() ? declared_parameters_document(*listed) : facts->spec;
    return version;
  }

  util::Result<PipelineVersion> upload_version(const UploadVersion& upload) override {
    if (upload.pipeline_id.empty()) return upload_pipeline(upload);
    QueryParams query{{"name", upload_text(upload.name)}, {"pipelineid", upload.pipeline_id}};
    // 1.8's upload_version unescapes the name a second time (GetPipelineName) but not the
    // description (pipeline_upload_server.go:167 @1.8.5, a plain Query().Get): it is encoded once.
    if (!upload.description.empty()) query.emplace_back("description", upload.description);
    auto version =
        create_upload(connection_,
                      upload_request(fmt::format("{}/pipelines/upload_version", base), std::move(query),
                                     upload_body(upload.filename, upload.content)),
                      fmt::format("upload version {}", upload.name), version_parser(),
                      [&] { return find_version_by_name(upload.pipeline_id, upload.name); });
    if (version && version->pipeline_id.empty()) version->pipeline_id = upload.pipeline_id;
    return version;
  }

  util::Result<std::optional<Experiment>> find_experiment(const std::string& name,
                                                          const std::string& ns) override {
    return first_of(connection_,
                    get_request(fmt::format("{}/experiments", base),
                                in_namespace(ns, first_match(filter().equals("name", name)))),
                    "experiments", fmt::format("find experiment {}", name), to_experiment);
  }

  util::Result<Experiment> create_experiment(const std::string& name, const std::string& ns) override {
    boost::json::object body{{"name", name}};
    if (!ns.empty()) body["resource_references"] = boost::json::array{reference("NAMESPACE", ns, "OWNER")};
    return create_object(connection_, post_json_request(fmt::format("{}/experiments", base), std::move(body)),
                         fmt::format("create experiment {}", name), to_experiment,
                         [&] { return find_experiment(name, ns); });
  }

  util::Result<std::vector<Run>> list_runs_with_marker(const std::string& experiment_id,
                                                       const std::string& /*ns*/, const std::string& marker,
                                                       std::optional<util::Milliseconds> within) override {
    std::vector<Run> runs;
    auto request = experiment_runs_request(experiment_id);
    request.within = within;
    auto listed =
        each_matching(request, filter().substring("description", marker), "runs", description_holds(marker),
                      "list the runs with this run key", list_page_size, [&](const boost::json::value& item) {
                        runs.push_back(to_run(item));
                        return false;
                      });
    if (!listed) return listed.error();
    order_oldest_first(runs);
    return runs;
  }

  util::Result<std::optional<Run>> find_run(const std::string& experiment_id, const std::string& /*ns*/,
                                            const std::string& marker) override {
    return first_matching(experiment_runs_request(experiment_id), filter().substring("description", marker),
                          "runs", description_holds(marker), "look up the run by its run key",
                          [this](const boost::json::value& item) { return to_run(item); });
  }

  util::Result<Run> create_run(const CreateRun& run, const std::string& ns,
                               const std::string& marker) override {
    auto spec = run_pipeline_spec(run);
    if (!spec) return spec.error();
    boost::json::object body{{"name", run.name},
                             {"description", run.description},
                             {"pipeline_spec", std::move(*spec)},
                             {"resource_references",
                              boost::json::array{reference("EXPERIMENT", run.experiment_id, "OWNER"),
                                                 reference("PIPELINE_VERSION", run.version_id, "CREATOR")}}};
    if (!run.service_account.empty()) body["service_account"] = run.service_account;
    auto request = post_json_request(fmt::format("{}/runs", base), std::move(body));
    request.refine_failure = parameter_refusal();
    return create_object(
        connection_, request, fmt::format("create run {}", run.name),
        [this](const boost::json::value& detail) { return to_run_of_detail(detail); },
        [&] { return find_run(run.experiment_id, ns, marker); });
  }

  util::Result<Run> get_run(const std::string& run_id, std::optional<util::Milliseconds> within) override {
    auto request = get_request(fmt::format("{}/runs/{}", base, percent_encode(run_id)));
    request.within = within;
    return get_object(connection_, request, fmt::format("get run {}", run_id),
                      [this](const boost::json::value& detail) { return to_run_of_detail(detail); });
  }

  util::Result<std::optional<RunTasks>> get_run_workflow(const std::string& run_id,
                                                         std::optional<util::Milliseconds> within) override {
    auto run = get_run(run_id, within);
    if (!run) return run.error();
    return std::move(run->tasks);
  }

  util::Result<TaskLog> read_task_log(const std::string& run_id, const std::string& node_id,
                                      std::size_t max_lines,
                                      std::optional<util::Milliseconds> within) override {
    return api::read_task_log(connection_, run_id, node_id, max_lines, within);
  }

  // run.proto (1.8.5 :89): POST /apis/v1beta1/runs/{id}:archive.
  util::Result<void> archive_run(const std::string& run_id) override {
    return perform(connection_,
                   action_request(fmt::format("{}/runs/{}:archive", base, percent_encode(run_id))),
                   fmt::format("archive run {}", run_id));
  }

  util::Result<void> terminate_run(const std::string& run_id) override {
    auto terminated = perform(
        connection_, action_request(fmt::format("{}/runs/{}/terminate", base, percent_encode(run_id))),
        fmt::format("terminate run {}", run_id));
    if (terminated) terminated_.insert(run_id);
    return terminated;
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

  static ItemMatches description_holds(const std::string& text) {
    return [text](const boost::json::object& item) {
      return string_field(item, "description").find(text) != std::string::npos;
    };
  }

  // What a run's version runs, and (for a PipelineSpec) its declared inputs, read from the version's
  // template: the v1 API lists a PipelineSpec's parameters as none (V2Spec.ParametersJSON is "[]").
  struct TemplateFacts {
    PipelineKind kind = PipelineKind::unknown;
    std::vector<package::InputParameter> inputs;
    boost::json::value spec;  // the template as JSON, or a document with its declared inputs; null if unread
  };

  static bool has_listed_parameters(const boost::json::object& version) {
    const auto* parameters = version.if_contains("parameters");
    return parameters != nullptr && parameters->is_array() && !parameters->as_array().empty();
  }

  util::Result<boost::json::object> get_version_object(const std::string& version_id) {
    return get_object(connection_,
                      get_request(fmt::format("{}/pipeline_versions/{}", base, percent_encode(version_id))),
                      fmt::format("get version {}", version_id),
                      [](const boost::json::value& value) { return object_of(value); });
  }

  // What the version runs: an Argo workflow when the v1 API lists its parameters (a PipelineSpec's
  // ParametersJSON is "[]"), else what its template says.
  util::Result<TemplateFacts> version_facts(const std::string& version_id,
                                            std::optional<boost::json::object> listed = std::nullopt) {
    if (auto known = templates_.find(version_id); known != templates_.end()) return known->second;
    if (!listed) {
      auto fetched = get_version_object(version_id);
      if (!fetched) return fetched.error();
      listed = std::move(*fetched);
    }
    TemplateFacts facts;
    if (has_listed_parameters(*listed)) {
      facts.kind = PipelineKind::argo_workflow;
    } else {
      auto read = read_template(version_id);
      if (!read) return read.error();
      facts = std::move(*read);
    }
    templates_[version_id] = facts;
    return facts;
  }

  util::Result<TemplateFacts> read_template(const std::string& version_id) {
    auto text = get_object(
        connection_,
        get_request(fmt::format("{}/pipeline_versions/{}/templates", base, percent_encode(version_id)), {},
                    Endpoint::json_api_with_specs),
        fmt::format("get the template of version {}", version_id),
        [](const boost::json::value& value) { return string_field(object_of(value), "template"); });
    if (!text) return text.error();
    TemplateFacts facts;
    boost::system::error_code ec;
    auto json = boost::json::parse(*text, ec);
    std::string document = *text;
    if (!ec && json.is_object()) {
      facts.kind = kind_of_spec(json);
      // KFP 1.8 stores a PipelineSpec under "pipeline/<name>" or "namespace/<ns>/pipeline/<name>"
      // (template/v2_template.go OverrideV2PipelineName, resource_manager.go:262-264,1145-1151), a
      // name no package may have: read the template under the name it was uploaded with.
      if (auto* info = json.as_object().if_contains("pipelineInfo"); info != nullptr && info->is_object()) {
        const auto name = string_field(info->as_object(), "name");
        if (const auto slash = name.rfind('/'); slash != std::string::npos) {
          auto uploaded = json;
          uploaded.as_object()["pipelineInfo"].as_object()["name"] = name.substr(slash + 1);
          document = boost::json::serialize(uploaded);
        }
      }
      facts.spec = std::move(json);
    }
    auto parsed = package::parse(document, fmt::format("the template of version {}", version_id));
    if (parsed) {
      facts.kind = parsed->kind == package::Kind::argo_workflow ? PipelineKind::argo_workflow
                                                                : PipelineKind::pipeline_spec;
      facts.inputs = parsed->inputs;
      if (facts.spec.is_null() && facts.kind == PipelineKind::pipeline_spec)
        facts.spec = declared_inputs_document(*parsed);
    }
    return facts;
  }

  // The run's pipeline_spec: where this server reads the parameters of what the version runs.
  util::Result<boost::json::object> run_pipeline_spec(const CreateRun& run) {
    PipelineKind kind = run.pipeline_kind;
    std::vector<package::InputParameter> inputs;
    // The template says what the version runs, and on 1.8 the declared types of a PipelineSpec's inputs.
    const bool kind_matters = !run.parameters.empty() || !run.pipeline_root.empty();
    const bool types_matter = one_x_ && !run.parameters.empty();
    if ((kind == PipelineKind::unknown && kind_matters) ||
        (kind == PipelineKind::pipeline_spec && types_matter)) {
      auto facts = version_facts(run.version_id);
      if (!facts) return facts.error();
      if (kind == PipelineKind::unknown) kind = facts->kind;
      inputs = facts->inputs;
    }
    if (kind != PipelineKind::pipeline_spec) {
      if (!run.pipeline_root.empty()) {
        return util::fail(
            util::ErrorKind::usage,
            "--pipeline-root applies to KFP v2 pipelines (PipelineSpec); this version is an Argo "
            "workflow, which has no pipeline root",
            "omit --pipeline-root");
      }
      // The Argo template reads these (argo_template.go RunWorkflow); the values are strings.
      boost::json::array parameters;
      for (const auto& [name, value] : run.parameters) {
        parameters.push_back(
            {{"name", name},
             {"value", value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value)}});
      }
      return boost::json::object{{"parameters", std::move(parameters)}};
    }
    // A PipelineSpec reads runtime_config only (v2_template.go RunWorkflow); `parameters` and
    // `runtime_config` together are refused on 1.8 (server/util.go:260-262).
    boost::json::object runtime;
    if (!run.parameters.empty()) {
      if (one_x_) {
        auto typed = v1_runtime_values(run.parameters, inputs);
        if (!typed) return typed.error();
        runtime["parameters"] = std::move(*typed);
      } else {
        runtime["parameters"] = run.parameters;  // 2.x: map<string, google.protobuf.Value>
      }
    }
    if (!run.pipeline_root.empty()) runtime["pipeline_root"] = run.pipeline_root;
    return boost::json::object{{"runtime_config", std::move(runtime)}};
  }

  // KFP 1.8's runtime_config values are its own Value message: int_value, double_value or
  // string_value (backend/api/pipeline_spec.proto; template.go toPipelineJobRuntimeConfig refuses
  // anything else). The declared type picks the field; a value of another kind cannot be sent.
  util::Result<boost::json::object> v1_runtime_values(
      const boost::json::object& parameters, const std::vector<package::InputParameter>& inputs) const {
    std::map<std::string, package::ParameterType> declared;
    for (const auto& input : inputs) declared[input.name] = input.type;
    boost::json::object values;
    for (const auto& [key, value] : parameters) {
      const std::string name(key);
      auto type = declared.find(name);
      const bool integer = type != declared.end() ? type->second == package::ParameterType::number_integer
                                                  : value.is_int64() || value.is_uint64();
      const bool number =
          type != declared.end() ? type->second == package::ParameterType::number_double : value.is_double();
      const bool text =
          type != declared.end() ? type->second == package::ParameterType::string : value.is_string();
      if (integer && (value.is_int64() || value.is_uint64())) {
        values[name] = {{"int_value", boost::json::serialize(value)}};
      } else if (number && value.is_number()) {
        values[name] = {{"double_value", value.to_number<double>()}};
      } else if (text && value.is_string()) {
        values[name] = {{"string_value", value.as_string()}};
      } else {
        return util::fail(
            util::ErrorKind::invalid_parameters,
            fmt::format(
                "parameter {}: KFP {} takes a v2 pipeline's run parameters as integers, doubles or strings "
                "only (its runtime_config Value has int_value, double_value and string_value), and this "
                "one is {}",
                name, server_.version,
                type != declared.end() ? std::string(package::to_string(type->second))
                                       : boost::json::serialize(value)),
            "give it a default in the pipeline and omit it, or upgrade KFP to 2.x");
      }
    }
    return values;
  }

  // Runs come wrapped in a RunDetail ({"run": {...}, "pipeline_runtime": ...}) from get and create;
  // the runtime's workflow_manifest is the Argo workflow as last reported, with its nodes.
  Run to_run_of_detail(const boost::json::value& detail) {
    static const boost::json::value none;
    const auto& o = object_of(detail);
    auto it = o.find("run");
    Run run = to_run(it == o.end() ? none : it->value());
    if (auto runtime = o.find("pipeline_runtime"); runtime != o.end() && runtime->value().is_object())
      run.tasks = parse_workflow_manifest(string_field(runtime->value().as_object(), "workflow_manifest"));
    return run;
  }

  // A terminated run ends "Failed" on 1.8; when we know it was terminated, say so.
  Run to_run(const boost::json::value& value) {
    const auto& o = object_of(value);
    Run run{string_field(o, "id"), string_field(o, "name"), runtime_state(string_field(o, "status")),
            string_field(o, "error"), string_field(o, "created_at")};
    run.description = string_field(o, "description");
    // v1 parameters are name/value strings (pipeline_spec.parameters).
    if (auto spec = o.find("pipeline_spec"); spec != o.end() && spec->value().is_object()) {
      const auto& pipeline_spec = spec->value().as_object();
      if (auto params = pipeline_spec.find("parameters");
          params != pipeline_spec.end() && params->value().is_array()) {
        boost::json::object parameters;
        for (const auto& item : params->value().as_array()) {
          if (!item.is_object()) continue;
          parameters[string_field(item.as_object(), "name")] = string_field(item.as_object(), "value");
        }
        run.parameters = std::move(parameters);
      }
    }
    if (run.state == "CANCELING") seen_terminating_.insert(run.id);
    if (run.state == "FAILED" && (terminated_.contains(run.id) || seen_terminating_.contains(run.id))) {
      run.state = "CANCELED";
      run.error = fmt::format("the run was terminated{} (KFP {} reports a terminated run as Failed)",
                              terminated_.contains(run.id) ? " by kfp-publish" : "", server_.version);
    }
    return run;
  }

  // A version as this release stores it. Clients that encoded a 1.8 version's description twice
  // (as for the name) left it percent-encoded there, the digest in it unreadable: such a
  // description is read decoded, so the digest matches again.
  PipelineVersion version_of(const boost::json::value& value) const {
    PipelineVersion version = to_version(value);
    if (one_x_ && version.description.find('%') != std::string::npos) {
      const std::string decoded = percent_decoded(version.description);
      if (decoded.find(digest_prefix) != std::string::npos &&
          version.description.find(digest_prefix) == std::string::npos)
        version.description = decoded;
    }
    return version;
  }

  [[nodiscard]] std::function<PipelineVersion(const boost::json::value&)> version_parser() const {
    return [this](const boost::json::value& value) { return version_of(value); };
  }

  std::string upload_text(const std::string& text) const { return one_x_ ? percent_encode(text) : text; }

  // Gives `visit` each item of the list that the filter selects, `page_size` at a time, until it says
  // stop. When the server refuses the filter (400: an older server that cannot filter on this
  // field), pages through the unfiltered list and gives it the items `matches` accepts instead.
  util::Result<void> each_matching(const ApiRequest& list, const Filter& list_filter, std::string_view key,
                                   const ItemMatches& matches, std::string_view what, const char* page_size,
                                   const ItemVisitor& visit) {
    bool visited = false;
    auto filtered = for_each_item(
        connection_, with_query(list, {{"filter", list_filter.query_value()}, {"page_size", page_size}}), key,
        what, [&](const boost::json::value& item) {
          visited = true;
          return visit(item);
        });
    if (filtered || visited || !is_refused_filter(filtered.error())) return filtered;
    return for_each_item(
        connection_, with_query(list, {{"page_size", scan_page_size}}), key, what,
        [&](const boost::json::value& item) { return matches(object_of(item)) && visit(item); });
  }

  template <class Parse>
  util::Result<std::optional<Parsed<Parse>>> first_matching(const ApiRequest& list, const Filter& list_filter,
                                                            std::string_view key, const ItemMatches& matches,
                                                            std::string_view what, Parse&& parse) {
    std::optional<Parsed<Parse>> found;
    auto listed =
        each_matching(list, list_filter, key, matches, what, "1", [&](const boost::json::value& item) {
          found = parse(item);
          return true;
        });
    if (!listed) return listed.error();
    return found;
  }

  // 1.8 gives the version made by the pipeline upload no description, only the pipeline (where
  // the upload put the digest): that first version is the one named after the pipeline.
  util::Result<std::optional<PipelineVersion>> first_version_by_pipeline_description(
      const std::string& pipeline_id, const std::string& digest) {
    auto pipeline = get_object(connection_,
                               get_request(fmt::format("{}/pipelines/{}", base, percent_encode(pipeline_id))),
                               fmt::format("get pipeline {}", pipeline_id),
                               [](const boost::json::value& value) { return object_of(value); });
    if (!pipeline) return pipeline.error();
    const std::string description = string_field(*pipeline, "description");
    if (description.find(digest) == std::string::npos) return std::optional<PipelineVersion>();
    auto found = find_version_by_name(pipeline_id, string_field(*pipeline, "name"));
    if (found && *found && (*found)->description.empty()) (*found)->description = description;
    return found;
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
    auto request = upload_request(fmt::format("{}/pipelines/upload", base), std::move(query),
                                  upload_body(upload.filename, upload.content));
    UploadRefusal refusal = UploadRefusal::other;
    request.refine_failure = upload_failure_refinement(
        server_, UploadEndpoint::pipeline, Caller{connection_.identity(), pending.namespace_name}, refusal);
    auto uploaded = create_upload(
        connection_, request, fmt::format("upload pipeline {}", pending.name), to_uploaded_pipeline, [&] {
          // A listed v1 pipeline carries its default_version too.
          return first_of(connection_, pipeline_by_name_request(pending.name, pending.namespace_name),
                          "pipelines", fmt::format("find pipeline {}", pending.name), to_uploaded_pipeline);
        });
    if (!uploaded) return uploaded.error();
    pending_.reset();
    PipelineVersion version;
    if (uploaded->default_version) {
      version = *uploaded->default_version;
    } else {
      auto found = find_version_by_name(uploaded->pipeline.id, pending.name);
      if (!found) return found.error();
      if (*found) version = **found;
    }
    version.pipeline_id = uploaded->pipeline.id;
    if (version.name.empty()) version.name = pending.name;
    // Another process's upload holds its own content: its digest is in its pipeline's description.
    version.found_existing = uploaded->found_existing;
    if (version.description.empty())
      version.description = uploaded->found_existing ? uploaded->description : upload.description;
    return version;
  }

  Connection& connection_;
  ServerInfo server_;
  bool one_x_ = false;
  std::optional<PendingPipeline> pending_;
  std::set<std::string> terminated_;
  std::set<std::string> seen_terminating_;
  std::map<std::string, TemplateFacts> templates_;  // by version id
};

}  // namespace

std::unique_ptr<KfpApi> make_v1_api(Connection& connection, const ServerInfo& server) {
  return std::make_unique<V1Api>(connection, server);
}

}  // namespace kfp::api
