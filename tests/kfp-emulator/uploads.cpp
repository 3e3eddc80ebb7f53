// The multipart upload endpoints, plain Go handlers in every release (server/
// pipeline_upload_server.go): their steps, statuses, error bodies and content types per release.
// FIDELITY.md "Uploads" cites each step.

#include "resources.hpp"

#include <fmt/format.h>

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

PipelineVersion make_version(App& app, const std::string& pipeline_id, const std::string& ns,
                             const JudgedPackage& judged, std::string name, std::string display_name,
                             std::string description, std::string code_source_url) {
  PipelineVersion version;
  version.id = new_uuid();
  version.pipeline_id = pipeline_id;
  version.ns = ns;
  version.name = std::move(name);
  version.display_name = std::move(display_name);
  version.description = std::move(description);
  version.code_source_url = std::move(code_source_url);
  version.created_at = app.now();
  version.pipeline_spec = judged.pipeline_spec;
  version.inputs = judged.package.inputs;
  version.kind = judged.package.kind;
  version.seq = app.store().next_seq();
  return version;
}

// 2.17 tags query parameter (pipeline_upload_server.go parses, model/pipeline_tags.go validates).
std::optional<json::object> upload_tags(const Context& context, UploadFailure& failure) {
  json::object tags;
  auto text = context.request.param_or("tags");
  if (text.empty()) return tags;
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  bool strings = !ec && value.is_object();
  if (strings)
    for (const auto& [key, item] : value.as_object()) strings = strings && item.is_string();
  if (!strings) {
    failure = {400, "Failed to parse tags query parameter. Expected JSON object with string keys and values",
               false, true, false};
    return std::nullopt;
  }
  return value.as_object();
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

}  // namespace

Reply upload_pipeline(Context& context, ApiFlavor flavor) {
  App& app = context.app;
  const auto version = app.version();
  const bool v1 = is_v1_server(version);
  const bool generic = generic_upload_errors(version);
  auto fail = [](UploadFailure failure) { return render(failure); };

  auto file = read_upload_file(context.request);
  if (!file) {
    if (generic) return fail({400, "Failed to read pipeline from file", false, true});
    return fail({400, "Failed to read pipeline from file: " + form_file_error(context.request), false, true});
  }
  auto document = read_pipeline_file(*file, version);
  if (!document) {
    if (generic) return fail({400, "Failed to read a pipeline spec file", false, true});
    return fail({400, (v1 ? "Error read pipeline file.: " : "Failed to read a pipeline spec file: ") +
                          document.error().message});
  }

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
    auto decoded = decoded_again(name);
    if (!decoded)
      return fail({400,
                   "Invalid pipeline name.: InvalidInputError: Pipeline name in the query string has invalid "
                   "format.: invalid URL escape"});
    name = *decoded;
  }
  if (name.empty()) name = display_name.empty() ? file->filename : display_name;
  if (display_name.empty()) display_name = name;
  if (v1 && name.size() > max_v1_upload_name)
    return fail({400, fmt::format("Invalid pipeline name.: Invalid input error: Pipeline name too long. "
                                  "Support maximum length of {}",
                                  max_v1_upload_name)});
  std::string description = context.request.param_or("description");
  if (v1) {
    // 1.8 decodes the pipeline upload's description a second time (pipeline_upload_server.go:114).
    auto decoded = decoded_again(description);
    if (!decoded) return fail({400, "Error read pipeline description.: invalid URL escape", false, true});
    description = *decoded;
  }
  json::object tags;
  if (has_tags(version)) {
    UploadFailure failure;
    auto parsed = upload_tags(context, failure);
    if (!parsed) return fail(failure);
    tags = std::move(*parsed);
  }
  if (checks_name_length(version) && name.size() > max_pipeline_name)
    return fail({400,
                 fmt::format("Invalid input error: Pipeline.Name length cannot exceed {}", max_pipeline_name),
                 false, false, true});

  // From here on (2.3+) the handler has set Content-Type: application/json.
  constexpr std::string_view generic_create = "Failed to create a pipeline and a pipeline version";
  auto create_error = [&](const ApiError& error) {
    return fail(
        create_failure(version, error, generic_create,
                       "Failed to create a pipeline and a pipeline version. The pipeline already exists",
                       "Error creating pipeline"));
  };
  if (auto problem = tags_problem(tags)) return create_error(invalid_input(*problem));
  auto judged = parse_template(*document, file->filename, version);
  if (!judged) {
    auto error = template_error(judged.error().message);
    return create_error(wrap(
        error, v1 ? "Create pipeline failed"
                  : "Failed to create a pipeline and a pipeline version due to template creation error"));
  }
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
  auto first = make_version(app, pipeline.id, ns, *judged, name, display_name, description,
                            context.request.param_or("code_source_url"));
  const Pipeline* stored = nullptr;
  try {
    stored = &store_pipeline(app, std::move(pipeline), std::move(first));
  } catch (const ApiFailure& failure) {
    return create_error(wrap(failure.error(), v1 ? "Create pipeline failed"
                                                 : "Failed to create a pipeline and a pipeline version"));
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

  auto file = read_upload_file(context.request);
  if (!file) {
    if (generic) return fail({400, std::string(generic_message), false, true});
    return fail({400,
                 (v1 ? "Failed to read pipeline version from file: "
                     : "Failed to create a pipeline version due to error parsing pipeline spec filename: ") +
                     form_file_error(context.request),
                 false, true});
  }
  auto document = read_pipeline_file(*file, version);
  if (!document) {
    if (generic) return fail({400, std::string(generic_message), false, true});
    return fail({400, (v1 ? "Error read pipeline version file.: "
                          : "Failed to create a pipeline version due to error reading pipeline spec file: ") +
                          document.error().message});
  }

  std::string name = context.request.param_or("name");
  std::string display_name = has_separate_names(version) ? context.request.param_or("display_name") : "";
  if (v1) {
    // 1.8 GetPipelineName decodes the version name again; the description is NOT decoded again
    // (pipeline_upload_server.go:159-167), unlike the pipeline upload's.
    auto decoded = decoded_again(name);
    if (!decoded)
      return fail({400,
                   "Invalid pipeline version name.: InvalidInputError: Pipeline name in the query string has "
                   "invalid format.: invalid URL escape"});
    name = *decoded;
    if (name.empty()) name = file->filename;
    if (name.size() > max_v1_upload_name)
      return fail(
          {400, fmt::format("Invalid pipeline version name.: Invalid input error: Pipeline name too long. "
                            "Support maximum length of {}",
                            max_v1_upload_name)});
  }
  std::string pipeline_id = context.request.param_or("pipelineid");
  if (pipeline_id.empty()) {
    if (generic) return fail({400, std::string(generic_message), false, true});
    return fail({400,
                 v1 ? "Please specify a pipeline id when creating versions."
                    : "Failed to create a pipeline version due to error reading pipeline id",
                 false, true});
  }
  if (name.empty()) name = display_name.empty() ? file->filename : display_name;
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
  if (has_tags(version)) {
    UploadFailure failure;
    auto parsed = upload_tags(context, failure);
    if (!parsed) return fail(failure);
    tags = std::move(*parsed);
  }

  auto create_error = [&](const ApiError& error) {
    return fail(create_failure(version, error, generic_message,
                               "Failed to create a pipeline version. The pipeline already exists",
                               "Error creating pipeline version"));
  };
  if (auto problem = tags_problem(tags)) return create_error(invalid_input(*problem));
  auto judged = parse_template(*document, file->filename, version);
  if (!judged) {
    auto error = template_error(judged.error().message);
    return create_error(
        wrap(error, v1 ? "Create pipeline version failed"
                       : "Failed to create a pipeline version due to template creation error"));
  }
  auto pipeline_version =
      make_version(app, pipeline->id, pipeline->ns, *judged, name, display_name,
                   context.request.param_or("description"), context.request.param_or("code_source_url"));
  pipeline_version.tags = std::move(tags);
  const PipelineVersion* stored = nullptr;
  try {
    stored = &store_version(app, std::move(pipeline_version));
  } catch (const ApiFailure& failure) {
    return create_error(wrap(failure.error(), v1 ? "Create pipeline version failed"
                                                 : "Failed to create pipeline version in PipelineStore"));
  }
  if (flavor == ApiFlavor::v1beta1) return json_reply(to_v1(*stored));
  return json_reply(to_v2(*stored, version));
}

}  // namespace kfp::emulator
