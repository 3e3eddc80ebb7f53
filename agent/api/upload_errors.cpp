#include "api/upload_errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace kfp::api {

namespace {

constexpr int bad_request = 400;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool contains(std::string_view text, std::string_view needle) {
  return lower(text).find(lower(needle)) != std::string::npos;
}

// KFP 1.8.5 pipeline_upload_server.go:76-222 (each refusal is util.Wrap(err, "<these words>")).
UploadRefusal read_1_8(std::string_view message) {
  if (starts_with(message, "Authorization to namespace failed")) {
    // canUploadVersionedPipeline reviews the kubeflow-userid header's value: empty when absent.
    return contains(message, "user ''") ? UploadRefusal::userid_header_missing
                                        : UploadRefusal::not_authorized;
  }
  if (starts_with(message, "Failed to get namespace from pipelineId")) return UploadRefusal::unknown_pipeline;
  if (starts_with(message, "Failed to read pipeline") || starts_with(message, "Error read pipeline file") ||
      starts_with(message, "Error read pipeline version file"))
    return UploadRefusal::unreadable_file;
  return UploadRefusal::invalid_request;  // Invalid pipeline [version] name/namespace, no pipeline id
}

// KFP 2.0.5-2.5.0 pipeline_upload_server.go:97-216: the cause is named and wrapped.
UploadRefusal read_2_0(std::string_view message) {
  if (contains(message, "due to authorization error")) {
    // ResourceManager.IsAuthorized: "Failed to check authorization. User identity is empty in the
    // request header" when no authenticator found an identity.
    return contains(message, "user identity is empty") || contains(message, "unauthenticated")
               ? UploadRefusal::unauthenticated
               : UploadRefusal::not_authorized;
  }
  if (contains(message, "due to error reading namespace")) return UploadRefusal::unknown_pipeline;
  if (contains(message, "due to error reading pipeline id")) return UploadRefusal::invalid_request;
  return UploadRefusal::unreadable_file;  // the form part, the file name, the file
}

// KFP 2.15.0 pipeline_upload_server.go:102-293 and 2.17.0 :103-311: fixed words, no cause.
UploadRefusal read_2_15(UploadEndpoint endpoint, const ServerAnswer& answer) {
  // http.Error's text/plain answers: field lengths, REQUIRE_NAMESPACE_FOR_PIPELINES.
  if (!answer.json) return UploadRefusal::invalid_request;
  const std::string_view message = answer.message;
  if (message == "Failed to create a pipeline") return UploadRefusal::not_authorized;
  if (message == "Failed to create a pipeline version") {
    return endpoint == UploadEndpoint::version ? UploadRefusal::masked : UploadRefusal::other;
  }
  if (message == "Failed to read pipeline from file" || message == "Failed to read a pipeline spec file")
    return UploadRefusal::unreadable_file;
  if (starts_with(message, "Failed to parse tags query parameter")) return UploadRefusal::invalid_request;
  // 2.17: an InvalidArgument from reading the template, in its external words.
  return UploadRefusal::invalid_package;
}

std::string release_words(const ServerInfo& server) {
  return fmt::format("KFP {}", server.version);
}

}  // namespace

UploadRefusal read_upload_refusal(const ServerInfo& server, UploadEndpoint endpoint,
                                  const ServerAnswer& answer) {
  if (answer.status != bad_request) return UploadRefusal::other;
  if (!version_at_least(server.version, 2, 0)) return read_1_8(answer.message);
  if (!version_at_least(server.version, 2, 15)) return read_2_0(answer.message);
  return read_2_15(endpoint, answer);
}

FailureRefinement upload_failure_refinement(const ServerInfo& server, UploadEndpoint endpoint, Caller caller,
                                            UploadRefusal& read) {
  return [server, endpoint, caller = std::move(caller), &read](util::Failure& failure,
                                                               const ServerAnswer& answer) {
    read = read_upload_refusal(server, endpoint, answer);
    const std::string ns =
        caller.namespace_name.empty() ? "(none: a shared pipeline)" : caller.namespace_name;
    // failure.message starts with the operation's name; keep it and say what the answer means.
    const std::string what = failure.message.substr(0, failure.message.find(':'));
    // A permission problem until shown otherwise (settle_masked_upload_refusal).
    auto refused = [&](std::string_view meaning) {
      failure.kind = util::ErrorKind::forbidden;
      failure.message =
          fmt::format("{}: HTTP 400 \"{}\": {} {}", what, answer.message, release_words(server), meaning);
      failure.hint = permission_hint(caller);
    };
    auto plain = [&](util::ErrorKind kind, std::string_view meaning) {
      failure.kind = kind;
      failure.message = fmt::format("{}: HTTP 400: {}: {}", what, meaning, answer.message);
    };
    switch (read) {
      case UploadRefusal::not_authorized:
        refused(fmt::format(
            "refuses an upload that its authorization check (pipelines/create in namespace {}) did "
            "not allow with this 400; the upload endpoints never answer 401 or 403",
            ns));
        break;
      case UploadRefusal::unauthenticated:
        failure.kind = util::ErrorKind::unauthenticated;
        failure.message = fmt::format(
            "{}: HTTP 400 from the upload endpoint, which reports a request without a usable identity as "
            "400: {}",
            what, answer.message);
        failure.hint =
            "the server found no identity in the request: send a projected service-account token with "
            "audience pipelines.kubeflow.org; run `kfp-publish doctor`";
        break;
      case UploadRefusal::userid_header_missing:
        failure.kind = util::ErrorKind::forbidden;
        failure.message = fmt::format(
            "{}: HTTP 400: KFP {}'s upload endpoints authorize only from the kubeflow-userid header, never "
            "the bearer token, so a service-account token cannot upload into namespace {} "
            "(pipeline_upload_server.go canUploadVersionedPipeline); the server said: {}",
            what, server.version, ns, answer.message);
        // The check is skipped for a shared pipeline (:225-227), and the JSON API that runs and
        // experiments use authenticates the token (server/util.go:348-380 isAuthorized).
        failure.hint = fmt::format(
            "pass --shared-pipeline (KFP_SHARED_PIPELINE=true): the pipeline and its versions are then "
            "published without a namespace, which KFP 1.8 does not authorize, while the experiment and "
            "runs, whose API accepts the token, stay in namespace {} (a shared pipeline is readable by every "
            "user); or upload through the Kubeflow gateway, whose auth proxy sets kubeflow-userid from a "
            "user's login; or upgrade KFP to 2.x, whose upload endpoints accept the token (TokenReview)",
            ns);
        break;
      case UploadRefusal::unknown_pipeline:
        plain(util::ErrorKind::not_found, "the pipeline id is not known to the server");
        failure.hint = "the pipeline was deleted meanwhile: publish again";
        break;
      case UploadRefusal::unreadable_file:
        plain(util::ErrorKind::invalid_package, "the server could not read the package file");
        break;
      case UploadRefusal::invalid_package:
        plain(util::ErrorKind::invalid_package, "the server refused the package");
        break;
      case UploadRefusal::invalid_request:
        plain(util::ErrorKind::usage, "the server refused the request");
        break;
      case UploadRefusal::masked:
        refused("answers both an authorization refusal and an unknown pipeline id with these words");
        break;
      case UploadRefusal::other: break;
    }
  };
}

void settle_masked_upload_refusal(util::Failure& failure, const util::Result<void>& pipeline_read) {
  if (pipeline_read) {
    failure.kind = util::ErrorKind::forbidden;
    failure.message +=
        "; the pipeline exists and can be read, so the authorization check refused to create a "
        "version (pipelines/create)";
    return;
  }
  if (pipeline_read.error().kind == util::ErrorKind::not_found) {
    failure.kind = util::ErrorKind::not_found;
    failure.message += "; the pipeline no longer exists";
    failure.hint = "the pipeline was deleted meanwhile: publish again";
    return;
  }
  const std::string masked = failure.message;
  failure = pipeline_read.error();
  failure.message += fmt::format(" (looked at after: {})", masked);
}

}  // namespace kfp::api
