#include "resources.hpp"

#include "util/digest.hpp"

#include <fmt/format.h>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

constexpr std::size_t max_pipeline_name = 128;
constexpr std::size_t max_version_name = 127;
constexpr std::size_t max_namespace = 63;
constexpr std::size_t max_v1_upload_name = 100;
constexpr std::size_t max_tag_length = 63;

[[noreturn]] void fail_with(Code code, int status, std::string message) {
  ApiError error = api_error(code, std::move(message));
  error.status_override = status;
  throw ApiFailure(std::move(error));
}

[[noreturn]] void fail_plain(int status, std::string message) {
  ApiError error = api_error(Code::invalid_argument, std::move(message));
  error.status_override = status;
  error.plain_text = true;
  throw ApiFailure(std::move(error));
}

// Authorization failures on the upload endpoints are a plain 400 (the real server's quirk).
void authorize_upload(Context& context, const std::string& ns, std::string_view what) {
  try {
    context.app.authorize(context.request, "pipelines", "create", ns);
  } catch (const ApiFailure& failure) {
    fail_with(
        Code::invalid_argument, 400,
        fmt::format("Failed to create a {} due to authorization error: {}", what, failure.error().message));
  }
}

// The upload's name query parameters; 1.8 unescapes them a second time.
std::string upload_param(const Context& context, const std::string& name) {
  auto value = context.request.param_or(name);
  if (context.app.version() == ServerVersion::v1_8_5) {
    if (auto again = query_unescape(value)) return *again;
  }
  return value;
}

json::object parse_tags(const Context& context, ApiFlavor flavor, std::string_view what) {
  json::object tags;
  if (flavor != ApiFlavor::v2beta1 || !has_tags(context.app.version())) return tags;
  auto text = context.request.param_or("tags");
  if (text.empty()) return tags;
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object())
    fail_with(Code::invalid_argument, 400,
              fmt::format("Failed to create a {}: Invalid input error: tags must be a JSON object of "
                          "strings: {}",
                          what, text));
  for (const auto& [key, item] : value.as_object()) {
    if (!item.is_string())
      fail_with(Code::invalid_argument, 400,
                fmt::format("Failed to create a {}: Invalid input error: tag {} must be a string", what,
                            std::string(key)));
    if (key.size() > max_tag_length || item.as_string().size() > max_tag_length)
      fail_with(Code::invalid_argument, 400,
                fmt::format("Failed to create a {}: Invalid input error: tag key and value must be at "
                            "most {} characters: {}",
                            what, max_tag_length, std::string(key)));
    if (key.find('.') != json::string_view::npos)
      fail_with(Code::invalid_argument, 400,
                fmt::format("Failed to create a {}: Invalid input error: tag key must not contain '.': {}",
                            what, std::string(key)));
    tags[key] = item;
  }
  return tags;
}

JudgedPackage judge_or_fail(Context& context, const UploadedFile& file, std::string_view what) {
  auto judged = judge_package(file, context.app.version());
  if (judged) return std::move(*judged);
  // 2.17 answers an invalid spec with 400; older servers wrap it as an internal error.
  int status = context.app.version() == ServerVersion::v2_17_0 ? 400 : 500;
  fail_with(status == 400 ? Code::invalid_argument : Code::internal, status,
            fmt::format("Failed to create a {}: Invalid input error: {}", what, judged.error().message));
}

int duplicate_status(const App& app) {
  return app.version() == ServerVersion::v1_8_5 ? 500 : 409;
}

PipelineVersion make_version(App& app, const Pipeline& pipeline, const JudgedPackage& judged,
                             std::string name, std::string display_name, std::string description,
                             json::object tags, std::string code_source_url) {
  PipelineVersion version;
  version.id = new_uuid();
  version.pipeline_id = pipeline.id;
  version.ns = pipeline.ns;
  version.name = std::move(name);
  version.display_name = std::move(display_name);
  version.description = std::move(description);
  version.code_source_url = std::move(code_source_url);
  version.created_at = app.now();
  version.pipeline_spec = judged.pipeline_spec;
  version.tags = std::move(tags);
  version.inputs = judged.package.inputs;
  version.kind = judged.package.kind;
  version.seq = app.store().next_seq();
  return version;
}

std::string json_type(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "bool";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "list";
    case json::kind::object: return "struct";
  }
  return "unknown";
}

bool type_fits(package::ParameterType type, const json::value& value) {
  switch (type) {
    case package::ParameterType::string: return value.is_string();
    case package::ParameterType::number_integer:
    case package::ParameterType::number_double: return value.is_number();
    case package::ParameterType::boolean: return value.is_bool();
    case package::ParameterType::list: return value.is_array();
    case package::ParameterType::structure: return value.is_object();
  }
  return false;
}

}  // namespace

void not_found(std::string_view what, const std::string& id) {
  throw ApiFailure(Code::not_found,
                   fmt::format("Failed to get {}: ResourceNotFoundError: {} {} not found", what, what, id),
                   fmt::format("{} {} not found", what, id));
}

const Pipeline& upload_pipeline(Context& context, ApiFlavor flavor) {
  App& app = context.app;
  const auto version = app.version();
  constexpr std::string_view what = "pipeline and a pipeline version";
  auto file = read_upload_file(context.request);
  if (!file)
    fail_with(Code::invalid_argument, 400,
              "Failed to create a pipeline and a pipeline version: Failed to read pipeline from file: "
              "http: no such file");
  std::string ns = app.multi_user() ? context.request.param_or("namespace") : "";
  // The multipart upload skips authorization for shared pipelines (empty namespace).
  if (!ns.empty()) authorize_upload(context, ns, "pipeline");
  std::string name = upload_param(context, "name");
  std::string display_name = flavor == ApiFlavor::v2beta1 && has_separate_names(version)
                                 ? context.request.param_or("display_name")
                                 : "";
  if (name.empty()) name = display_name.empty() ? file->filename : display_name;
  if (display_name.empty() || !has_separate_names(version)) display_name = name;
  if (version == ServerVersion::v1_8_5 && name.size() > max_v1_upload_name)
    fail_with(Code::invalid_argument, 400,
              fmt::format("Failed to create a {}: Invalid input error: The pipeline name is too long. "
                          "The max length is {}",
                          what, max_v1_upload_name));
  if (checks_name_length(version)) {
    if (name.size() > max_pipeline_name)
      fail_plain(400, fmt::format("pipeline name exceeds maximum length of {}", max_pipeline_name));
    if (ns.size() > max_namespace)
      fail_plain(400, fmt::format("namespace exceeds maximum length of {}", max_namespace));
  }
  auto tags = parse_tags(context, flavor, "pipeline");
  auto judged = judge_or_fail(context, *file, what);
  if (app.store().find_pipeline_by_name(name, ns) != nullptr)
    fail_with(Code::already_exists, duplicate_status(app),
              fmt::format("Failed to create a {}: Already exist error: Failed to create a new pipeline. "
                          "The name {} already exists. Please specify a new name",
                          what, name));
  Pipeline pipeline;
  pipeline.id = new_uuid();
  pipeline.name = name;
  pipeline.display_name = display_name;
  pipeline.description = upload_param(context, "description");
  pipeline.ns = ns;
  pipeline.created_at = app.now();
  pipeline.tags = tags;
  pipeline.seq = app.store().next_seq();
  auto pipeline_version = make_version(app, pipeline, judged, name, display_name, pipeline.description, tags,
                                       context.request.param_or("code_source_url"));
  app.store().versions.emplace(pipeline_version.id, std::move(pipeline_version));
  return app.store().pipelines.emplace(pipeline.id, std::move(pipeline)).first->second;
}

const PipelineVersion& upload_pipeline_version(Context& context, ApiFlavor flavor) {
  App& app = context.app;
  const auto version = app.version();
  constexpr std::string_view what = "pipeline version";
  auto file = read_upload_file(context.request);
  if (!file)
    fail_with(Code::invalid_argument, 400,
              "Failed to create a pipeline version: Failed to read pipeline version from file: http: "
              "no such file");
  auto pipeline_id = context.request.param_or("pipelineid");
  if (pipeline_id.empty())
    fail_with(Code::invalid_argument, 400,
              "Failed to create a pipeline version: Invalid input error: Pipeline id is empty");
  const Pipeline* pipeline = app.store().find_pipeline(pipeline_id);
  if (pipeline == nullptr)
    fail_with(Code::invalid_argument, 400,
              fmt::format("Failed to create a pipeline version: ResourceNotFoundError: Pipeline {} not "
                          "found",
                          pipeline_id));
  if (!pipeline->ns.empty()) authorize_upload(context, pipeline->ns, "pipeline version");
  std::string name = upload_param(context, "name");
  std::string display_name = flavor == ApiFlavor::v2beta1 && has_separate_names(version)
                                 ? context.request.param_or("display_name")
                                 : "";
  if (name.empty()) name = display_name.empty() ? file->filename : display_name;
  if (display_name.empty() || !has_separate_names(version)) display_name = name;
  if (checks_name_length(version) && name.size() > max_version_name)
    fail_plain(400, fmt::format("pipeline version name exceeds maximum length of {}", max_version_name));
  auto tags = parse_tags(context, flavor, what);
  auto judged = judge_or_fail(context, *file, what);
  if (app.store().find_version_by_name(pipeline_id, name) != nullptr)
    fail_with(Code::already_exists, duplicate_status(app),
              fmt::format("Failed to create a pipeline version: Already exist error: Failed to create a "
                          "new pipeline version. The name {} already exist. Please specify a new name",
                          name));
  auto pipeline_version =
      make_version(app, *pipeline, judged, name, display_name, upload_param(context, "description"),
                   std::move(tags), context.request.param_or("code_source_url"));
  auto id = pipeline_version.id;
  return app.store().versions.emplace(id, std::move(pipeline_version)).first->second;
}

RunTarget resolve_run_target(App& app, const std::string& pipeline_id, const std::string& version_id) {
  const PipelineVersion* version = nullptr;
  if (!version_id.empty()) {
    version = app.store().find_version(version_id);
    if (version == nullptr)
      throw ApiFailure(Code::internal,
                       fmt::format("Internal error: Failed to fetch a pipeline version {}: "
                                   "ResourceNotFoundError: PipelineVersion {} not found",
                                   version_id, version_id),
                       "Internal Server Error");
    if (!pipeline_id.empty() && version->pipeline_id != pipeline_id)
      throw ApiFailure(Code::invalid_argument,
                       fmt::format("Invalid input error: pipeline version {} does not belong to pipeline {}",
                                   version_id, pipeline_id));
  } else {
    if (pipeline_id.empty())
      throw ApiFailure(Code::invalid_argument,
                       "Invalid input error: a run needs a pipeline version reference or a pipeline spec");
    if (app.store().find_pipeline(pipeline_id) == nullptr)
      throw ApiFailure(Code::internal,
                       fmt::format("Internal error: Failed to fetch pipeline {}: ResourceNotFoundError: "
                                   "Pipeline {} not found",
                                   pipeline_id, pipeline_id),
                       "Internal Server Error");
    version = app.store().latest_version(pipeline_id);
    if (version == nullptr)
      throw ApiFailure(Code::invalid_argument,
                       fmt::format("Invalid input error: pipeline {} has no versions", pipeline_id));
  }
  return RunTarget{version->pipeline_id, version->id, version->inputs};
}

void check_parameters(const std::vector<package::InputParameter>& inputs, const json::object& parameters) {
  for (const auto& [name, value] : parameters) {
    auto input =
        std::find_if(inputs.begin(), inputs.end(), [&](const auto& item) { return item.name == name; });
    if (input == inputs.end())
      throw ApiFailure(Code::invalid_argument,
                       fmt::format("Invalid input error: parameter(s) provided are not in the pipeline "
                                   "spec: [{}]",
                                   std::string(name)));
    if (!type_fits(input->type, value))
      throw ApiFailure(Code::invalid_argument,
                       fmt::format("Invalid input error: input parameter {} requires type {}, but got {}",
                                   std::string(name), package::to_string(input->type), json_type(value)));
  }
  for (const auto& input : inputs)
    if (!input.optional && !input.default_value && !parameters.contains(input.name))
      throw ApiFailure(Code::invalid_argument,
                       fmt::format("Invalid input error: input parameter {} is required but was not "
                                   "provided",
                                   input.name));
}

const Experiment& store_experiment(App& app, const std::string& name, const std::string& description,
                                   const std::string& ns) {
  if (app.store().find_experiment_by_name(name, ns) != nullptr)
    throw ApiFailure(Code::already_exists,
                     "Already exist error: Failed to create a new experiment. The name " + name +
                         " already exists. Please specify a new name");
  Experiment experiment;
  experiment.id = new_uuid();
  experiment.display_name = name;
  experiment.description = description;
  experiment.ns = ns;
  experiment.created_at = app.now();
  experiment.seq = app.store().next_seq();
  auto id = experiment.id;
  return app.store().experiments.emplace(id, std::move(experiment)).first->second;
}

const Experiment& run_experiment(App& app, const std::string& experiment_id) {
  if (experiment_id.empty()) {
    if (app.multi_user())
      throw ApiFailure(Code::invalid_argument,
                       "Invalid input error: Experiment id can not be empty in multi-user mode");
    if (const auto* existing = app.store().find_experiment_by_name("Default", "")) return *existing;
    return store_experiment(app, "Default",
                            "All runs created without specifying an experiment will be grouped here.", "");
  }
  const auto* experiment = app.store().find_experiment(experiment_id);
  if (experiment == nullptr) not_found("Experiment", experiment_id);
  return *experiment;
}

}  // namespace kfp::emulator
