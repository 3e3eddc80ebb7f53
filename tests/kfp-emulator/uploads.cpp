// The multipart upload endpoints, plain Go handlers in every release (server/
// pipeline_upload_server.go): their steps, statuses, error bodies and content types per release.
// FIDELITY.md "Uploads" cites each step.

#include "resources.hpp"
#include "templates.hpp"

#include <fmt/format.h>

#include <variant>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

constexpr std::size_t max_v1_upload_name = 100;  // 1.8 server/util.go MaxFileNameLength

// One failed step of an upload handler, as writeErrorToResponse or http.Error answers it.
struct UploadFailure {
  int status = 400;
  std::string message;
  bool json_content_type = false;  // the handler had set Content-Type: application/json
  bool with_stack = false;         // a github.com/pkg/errors value (its %+v has a stack)
  bool plain = false;              // http.Error
};

Reply render(const UploadFailure& failure) {
  if (failure.plain) return http_error(failure.status, failure.message);
  return upload_error(failure.status, failure.message, failure.json_content_type, failure.with_stack);
}

// Go's r.FormFile error text for a body it cannot use.
std::string form_file_error(const Request& request) {
  auto content_type = request.header("content-type").value_or("");
  for (char& c : content_type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!content_type.starts_with("multipart/form-data"))
    return "request Content-Type isn't multipart/form-data";
  return "http: no such file";
}

// A query parameter; on 1.8, GetPipelineName/QueryUnescape decode it once more (server/util.go:38).
std::optional<std::string> decoded_again(const std::string& value) {
  return query_unescape(value);
}

// Authorization of an upload as the release does it; the failure's internal chain.
std::optional<ApiError> upload_access(Context& context, const std::string& ns) {
  App& app = context.app;
  if (!app.multi_user() || ns.empty()) return std::nullopt;
  if (is_v1_server(app.version())) {
    // 1.8 canUploadVersionedPipeline: the kubeflow-userid header only, sent to the
    // SubjectAccessReview as is; without it the review has no user and Kubernetes refuses it.
    auto user = context.request.header(std::string(user_id_header));
    if (!user) {
      return internal_server(
          "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.user: Invalid value: \"\": at "
          "least "
          "one of user or group must be specified",
          "Failed to create SubjectAccessReview for user '' (request: " +
              resource_attributes(ns, "create", "pipelines") + ")");
    }
    return app.check_access(context.request, "pipelines", "create", ns, IdentitySources::header_only);
  }
  return app.check_access(context.request, "pipelines", "create", ns);
}

// A template failure as the resource manager reports it: InvalidInputError with the reason.
ApiError template_error(const std::string& reason) {
  return api_error(Code::invalid_argument, "InvalidInputError: " + reason + ": pipeline spec is invalid",
                   reason);
}

// A version of an upload. The upload endpoints read no code source URL (no release's
// pipeline_upload_server.go mentions code_source_url): a version uploaded has none.
PipelineVersion make_version(App& app, const Pipeline& pipeline, const JudgedPackage& judged,
                             std::string name, std::string display_name, std::string description) {
  PipelineVersion version;
  version.id = new_uuid();
  version.pipeline_id = pipeline.id;
  version.ns = pipeline.ns;
  version.name = std::move(name);
  version.display_name = std::move(display_name);
  version.description = std::move(description);
  version.created_at = app.now();
  version.pipeline_spec = judged.pipeline_spec;
  version.inputs = judged.package.inputs;
  version.kind = judged.package.kind;
  // 1.8 stores a PipelineSpec under its pipeline's name (resource_manager.go:262-264,1145-1151).
  if (is_v1_server(app.version()) && version.kind == package::Kind::pipeline_spec)
    override_v2_pipeline_name(version.pipeline_spec, pipeline.name, pipeline.ns);
  version.seq = app.store().next_seq();
  return version;
}

// 2.17 tags query parameter (pipeline_upload_server.go parses it; model/pipeline_tags.go checks it
// in the create step). Other releases ignore it. The failure, if the parameter is not an object of
// strings.
std::optional<UploadFailure> upload_tags(const Context& context, json::object& tags) {
  auto text = context.request.param_or("tags");
  if (!has_tags(context.app.version()) || text.empty()) return std::nullopt;
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  bool strings = !ec && value.is_object();
  if (strings)
    for (const auto& [key, item] : value.as_object()) strings = strings && item.is_string();
  if (!strings)
    return UploadFailure{
        400, "Failed to parse tags query parameter. Expected JSON object with string keys and values", false,
        true, false};
  tags = value.as_object();
  return std::nullopt;
}

// The create step's failure (resource manager error `error`), as each release reports it.
UploadFailure create_failure(ServerVersion version, const ApiError& error, std::string_view generic,
                             std::string_view conflict_prefix, std::string_view v1_prefix) {
  bool conflict = error.code == Code::already_exists;
  if (is_v1_server(version)) return {500, std::string(v1_prefix) + ": " + error.message, false, false, false};
  if (generic_upload_errors(version)) {
    if (conflict) return {409, std::string(generic), true, true, false};
    if (error.code == Code::invalid_argument && upload_invalid_spec_is_400(version))
      return {400, error.user_message, true, true, false};
    return {500, std::string(generic), true, true, false};
  }
  // 2.0.5 sets Content-Type only after success and has no 409 branch.
  bool json_type = upload_conflict_is_409(version);
  if (conflict && upload_conflict_is_409(version))
    return {409, std::string(conflict_prefix) + ": " + error.message, json_type, false, false};
  return {500, std::string(generic) + ": " + error.message, json_type, false, false};
}

// The wording of one upload endpoint's create step per release.
struct CreateTexts {
  std::string_view generic;          // 2.15+ (and the 500 prefix before)
  std::string_view conflict_prefix;  // 2.3-2.5's 409
  std::string_view v1_prefix;        // 1.8's 500
  std::string_view template_v1, template_v2;
};

// The create step up to the store: the tags (2.17) and the template. The package, or the reply
// that refuses it.
std::variant<JudgedPackage, Reply> judged_upload(ServerVersion version, const json::object& tags,
                                                 const std::string& document, const std::string& filename,
                                                 const CreateTexts& texts) {
  auto refuse = [&](const ApiError& error) {
    return render(create_failure(version, error, texts.generic, texts.conflict_prefix, texts.v1_prefix));
  };
  if (auto problem = tags_problem(tags)) return refuse(invalid_input(*problem));
  auto judged = parse_template(document, filename, version);
  if (!judged)
    return refuse(wrap(template_error(judged.error().message),
                       is_v1_server(version) ? texts.template_v1 : texts.template_v2));
  return std::move(*judged);
}

// The first two steps of both upload handlers: the multipart file, then ReadPipelineFile.
struct ReadTexts {
  std::string_view generic_file, generic_read;  // 2.15+
  std::string_view file_v1, file_v2;            // FormFile failure prefixes
  std::string_view read_v1, read_v2;            // ReadPipelineFile failure prefixes
};
struct ReadUpload {
  UploadedFile file;
  std::string document;
};

std::variant<ReadUpload, Reply> read_upload(const Context& context, const ReadTexts& texts) {
  const auto version = context.app.version();
  const bool v1 = is_v1_server(version);
  const bool generic = generic_upload_errors(version);
  auto file = read_upload_file(context.request);
  if (!file) {
    if (generic) return render({400, std::string(texts.generic_file), false, true});
    return render({400,
                   std::string(v1 ? texts.file_v1 : texts.file_v2) + ": " + form_file_error(context.request),
                   false, true});
  }
  auto document = read_pipeline_file(*file, version);
  if (!document) {
    if (generic) return render({400, std::string(texts.generic_read), false, true});
    return render({400, std::string(v1 ? texts.read_v1 : texts.read_v2) + ": " + document.error().message});
  }
  return ReadUpload{std::move(*file), std::move(*document)};
}

// 1.8 GetPipelineName (server/util.go:37-49): the name decoded once more, else the filename, at
// most 100 characters; `what` is "pipeline" or "pipeline version". Other releases: as given.
std::variant<std::string, Reply> v1_upload_name(std::string name, const std::string& filename,
                                                std::string_view what) {
  auto decoded = query_unescape(name);
  if (!decoded)
    return render(
        {400, fmt::format("Invalid {} name.: InvalidInputError: Pipeline name in the query string has "
                          "invalid format.: invalid URL escape",
                          what)});
  name = decoded->empty() ? filename : *decoded;
  if (name.size() > max_v1_upload_name)
    return render(
        {400, fmt::format("Invalid {} name.: Invalid input error: Pipeline name too long. Support maximum "
                          "length of {}",
                          what, max_v1_upload_name)});
  return name;
}

}  // namespace

Reply upload_pipeline(Context& context, ApiFlavor flavor) {
  App& app = context.app;
  const auto version = app.version();
  const bool v1 = is_v1_server(version);
  const bool generic = generic_upload_errors(version);
  auto fail = [](UploadFailure failure) { return render(failure); };

  auto read =
      read_upload(context, {"Failed to read pipeline from file", "Failed to read a pipeline spec file",
                            "Failed to read pipeline from file", "Failed to read pipeline from file",
                            "Error read pipeline file.", "Failed to read a pipeline spec file"});
  if (auto* refused = std::get_if<Reply>(&read)) return std::move(*refused);
  const auto& file = std::get<ReadUpload>(read).file;
  const auto& document = std::get<ReadUpload>(read).document;

  std::string ns = context.request.param_or("namespace");
  if (v1) {
    auto decoded = decoded_again(ns);
    if (!decoded)
      return fail({400,
                   "Invalid pipeline namespace.: InvalidInputError: Pipeline namespace in the query string "
                   "has invalid format.: invalid URL escape"});
    ns = *decoded;
  }
  if (checks_name_length(version) && ns.size() > max_namespace)
    return fail({400, "Invalid input error: Pipeline.Namespace length cannot exceed 63", false, false, true});
  if (!app.multi_user()) ns.clear();  // ReplaceNamespace (2.x); 1.8 has no single-user namespaces here

  if (auto denied = upload_access(context, ns)) {
    if (generic) return fail({400, "Failed to create a pipeline", false, true});
    ApiError error = wrap(*denied, v1 ? "Authorization Failure." : "Authorization Failure");
    error = wrap(error, v1 ? "Authorization to namespace failed."
                           : "Failed to create a pipeline due to authorization error");
    return fail({400, error.message, false, error.go_error});
  }

  std::string name = context.request.param_or("name");
  std::string display_name = has_separate_names(version) ? context.request.param_or("display_name") : "";
  if (v1) {
    auto checked = v1_upload_name(name, file.filename, "pipeline");
    if (auto* refused = std::get_if<Reply>(&checked)) return std::move(*refused);
    name = std::get<std::string>(checked);
  }
  if (name.empty()) name = display_name.empty() ? file.filename : display_name;
  if (display_name.empty()) display_name = name;
  std::string description = context.request.param_or("description");
  if (v1) {
    // 1.8 decodes the pipeline upload's description a second time (pipeline_upload_server.go:114).
    auto decoded = decoded_again(description);
    if (!decoded) return fail({400, "Error read pipeline description.: invalid URL escape", false, true});
    description = *decoded;
  }
  json::object tags;
  if (auto failure = upload_tags(context, tags)) return fail(*failure);
  if (checks_name_length(version) && name.size() > max_pipeline_name)
    return fail({400,
                 fmt::format("Invalid input error: Pipeline.Name length cannot exceed {}", max_pipeline_name),
                 false, false, true});

  // From here on (2.3+) the handler has set Content-Type: application/json.
  const CreateTexts texts{
      "Failed to create a pipeline and a pipeline version",
      "Failed to create a pipeline and a pipeline version. The pipeline already exists",
      "Error creating pipeline", "Create pipeline failed",
      "Failed to create a pipeline and a pipeline version due to template creation error"};
  auto judged = judged_upload(version, tags, document, file.filename, texts);
  if (auto* refused = std::get_if<Reply>(&judged)) return std::move(*refused);
  const auto& package = std::get<JudgedPackage>(judged);
  Pipeline pipeline;
  pipeline.id = new_uuid();
  pipeline.name = name;
  pipeline.display_name = display_name;
  pipeline.description = description;
  pipeline.ns = ns;
  pipeline.created_at = app.now();
  pipeline.tags = std::move(tags);
  pipeline.seq = app.store().next_seq();
  // The first version: the pipeline's name, display name and description, and no tags.
  auto first = make_version(app, pipeline, package, name, display_name, description);
  const Pipeline* stored = nullptr;
  try {
    stored = &store_pipeline(app, std::move(pipeline), std::move(first));
  } catch (const ApiFailure& failure) {
    return fail(create_failure(version, wrap(failure.error(), v1 ? texts.template_v1 : texts.generic),
                               texts.generic, texts.conflict_prefix, texts.v1_prefix));
  }
  const auto* default_version = app.store().latest_version(stored->id);
  if (flavor == ApiFlavor::v1beta1) return json_reply(to_v1(*stored, default_version));
  return json_reply(to_v2(*stored, version));
}

Reply upload_pipeline_version(Context& context, ApiFlavor flavor) {
  App& app = context.app;
  const auto version = app.version();
  const bool v1 = is_v1_server(version);
  const bool generic = generic_upload_errors(version);
  auto fail = [](UploadFailure failure) { return render(failure); };
  constexpr std::string_view generic_message = "Failed to create a pipeline version";

  auto read =
      read_upload(context, {generic_message, generic_message, "Failed to read pipeline version from file",
                            "Failed to create a pipeline version due to error parsing pipeline spec filename",
                            "Error read pipeline version file.",
                            "Failed to create a pipeline version due to error reading pipeline spec file"});
  if (auto* refused = std::get_if<Reply>(&read)) return std::move(*refused);
  const auto& file = std::get<ReadUpload>(read).file;
  const auto& document = std::get<ReadUpload>(read).document;

  std::string name = context.request.param_or("name");
  std::string display_name = has_separate_names(version) ? context.request.param_or("display_name") : "";
  if (v1) {
    // 1.8 GetPipelineName decodes the version name again; the description is NOT decoded again
    // (pipeline_upload_server.go:159-167), unlike the pipeline upload's.
    auto checked = v1_upload_name(name, file.filename, "pipeline version");
    if (auto* refused = std::get_if<Reply>(&checked)) return std::move(*refused);
    name = std::get<std::string>(checked);
  }
  std::string pipeline_id = context.request.param_or("pipelineid");
  if (pipeline_id.empty()) {
    if (generic) return fail({400, std::string(generic_message), false, true});
    return fail({400,
                 v1 ? "Please specify a pipeline id when creating versions."
                    : "Failed to create a pipeline version due to error reading pipeline id",
                 false, true});
  }
  if (name.empty()) name = display_name.empty() ? file.filename : display_name;
  if (display_name.empty()) display_name = name;
  if (checks_name_length(version) && name.size() > max_version_name)
    return fail(
        {400,
         fmt::format("Invalid input error: PipelineVersion.Name length cannot exceed {}", max_version_name),
         false, false, true});

  const Pipeline* pipeline = app.store().find_pipeline(pipeline_id);
  if (pipeline == nullptr) {
    if (generic) return fail({400, std::string(generic_message), false, true});
    auto error = wrap(resource_not_found("Pipeline", pipeline_id),
                      fmt::format("Failed to get a pipeline with id {}", pipeline_id));
    return fail({400, (v1 ? "Failed to get namespace from pipelineId.: "
                          : "Failed to create a pipeline version due to error reading namespace: ") +
                          error.message});
  }
  if (auto denied = upload_access(context, pipeline->ns)) {
    if (generic) return fail({400, std::string(generic_message), false, true});
    ApiError error = wrap(*denied, v1 ? "Authorization Failure." : "Authorization Failure");
    error = wrap(error, v1 ? "Authorization to namespace failed."
                           : "Failed to create a pipeline version due to authorization error");
    return fail({400, error.message, false, error.go_error});
  }
  json::object tags;
  if (auto failure = upload_tags(context, tags)) return fail(*failure);

  const CreateTexts texts{generic_message, "Failed to create a pipeline version. The pipeline already exists",
                          "Error creating pipeline version", "Create pipeline version failed",
                          "Failed to create a pipeline version due to template creation error"};
  auto judged = judged_upload(version, tags, document, file.filename, texts);
  if (auto* refused = std::get_if<Reply>(&judged)) return std::move(*refused);
  auto pipeline_version = make_version(app, *pipeline, std::get<JudgedPackage>(judged), name, display_name,
                                       context.request.param_or("description"));
  pipeline_version.tags = std::move(tags);
  const PipelineVersion* stored = nullptr;
  try {
    stored = &store_version(app, std::move(pipeline_version));
  } catch (const ApiFailure& failure) {
    return fail(create_failure(
        version,
        wrap(failure.error(), v1 ? texts.template_v1 : "Failed to create pipeline version in PipelineStore"),
        texts.generic, texts.conflict_prefix, texts.v1_prefix));
  }
  if (flavor == ApiFlavor::v1beta1) return json_reply(to_v1(*stored));
  return json_reply(to_v2(*stored, version));
}

}  // namespace kfp::emulator
