#include "api/upload_errors.hpp"

#include "unit/api/fake_transport.hpp"

#include <doctest/doctest.h>

using namespace kfp;
using api::UploadEndpoint;
using api::UploadRefusal;

namespace {

api::ServerInfo release(std::string version) {
  return test::server_info("v2beta1", std::move(version));
}

api::ServerAnswer kfp_400(std::string message) {
  return api::ServerAnswer{400, std::move(message), true};
}

UploadRefusal read(const char* version, UploadEndpoint endpoint, std::string message) {
  return api::read_upload_refusal(release(version), endpoint, kfp_400(std::move(message)));
}

const api::Caller caller{{"system:serviceaccount:team-a:default-editor", "team-a", "default-editor"},
                         "team-a"};

}  // namespace

// The words are those of pipeline_upload_server.go at each tag (writeErrorToResponse's error_message).
TEST_CASE("1.8: the upload endpoints' refusals, and the identity that comes only from kubeflow-userid") {
  CHECK(
      read("1.8.5", UploadEndpoint::pipeline,
           "Authorization to namespace failed.: Authorization Failure.: Failed to create SubjectAccessReview "
           "for user '' (request: &ResourceAttributes{Namespace:team-a,Verb:create})") ==
      UploadRefusal::userid_header_missing);
  CHECK(read("1.8.5", UploadEndpoint::version,
             "Authorization to namespace failed.: Authorization Failure.: User 'alice@example.com' is not "
             "authorized with reason: (request: ...)") == UploadRefusal::not_authorized);
  CHECK(read("1.8.5", UploadEndpoint::version,
             "Failed to get namespace from pipelineId.: ResourceNotFoundError") ==
        UploadRefusal::unknown_pipeline);
  CHECK(read("1.8.5", UploadEndpoint::pipeline,
             "Error read pipeline file.: Unexpected pipeline file format") == UploadRefusal::unreadable_file);
  CHECK(read("1.8.5", UploadEndpoint::pipeline, "Invalid pipeline name.: Pipeline name too long") ==
        UploadRefusal::invalid_request);
}

TEST_CASE("2.0 to 2.5: the authorization error is named, its cause wrapped in the message") {
  for (const char* version : {"2.0.5", "2.3.0", "2.5.0"}) {
    CAPTURE(version);
    CHECK(read(version, UploadEndpoint::pipeline,
               "Failed to create a pipeline due to authorization error: Authorization Failure: "
               "PermissionDenied: "
               "User 'system:serviceaccount:team-a:default-editor' is not authorized with reason: ") ==
          UploadRefusal::not_authorized);
    CHECK(read(version, UploadEndpoint::version,
               "Failed to create a pipeline version due to authorization error: Authorization Failure: "
               "Failed to "
               "check authorization. User identity is empty in the request header") ==
          UploadRefusal::unauthenticated);
    CHECK(read(version, UploadEndpoint::version,
               "Failed to create a pipeline version due to error reading namespace: NotFoundError") ==
          UploadRefusal::unknown_pipeline);
    CHECK(read(version, UploadEndpoint::pipeline,
               "Failed to read a pipeline spec file: Unexpected pipeline file") ==
          UploadRefusal::unreadable_file);
  }
}

TEST_CASE(
    "2.15 and later: one generic 400 for every authorization failure, masked further on upload_version") {
  for (const char* version : {"2.15.0", "2.17.0"}) {
    CAPTURE(version);
    CHECK(read(version, UploadEndpoint::pipeline, "Failed to create a pipeline") ==
          UploadRefusal::not_authorized);
    CHECK(read(version, UploadEndpoint::version, "Failed to create a pipeline version") ==
          UploadRefusal::masked);
    CHECK(read(version, UploadEndpoint::pipeline, "Failed to read a pipeline spec file") ==
          UploadRefusal::unreadable_file);
    CHECK(api::read_upload_refusal(release(version), UploadEndpoint::pipeline,
                                   api::ServerAnswer{400, "Pipeline.Name length cannot exceed 128", false}) ==
          UploadRefusal::invalid_request);
    // Before 2.15 the same words are not a refusal of this kind: the release decides.
    CHECK(read("2.5.0", UploadEndpoint::pipeline, "Failed to create a pipeline") !=
          UploadRefusal::not_authorized);
  }
  CHECK(read("2.17.0", UploadEndpoint::pipeline, "unknown template format: invalid pipeline spec") ==
        UploadRefusal::invalid_package);
  CHECK(read("2.17.0", UploadEndpoint::version,
             "Failed to parse tags query parameter. Expected JSON object") == UploadRefusal::invalid_request);
  // Only 400s are refusals of the request: a 409 or a 500 keeps its generic reading.
  CHECK(api::read_upload_refusal(release("2.15.0"), UploadEndpoint::pipeline,
                                 api::ServerAnswer{500, "Failed to create a pipeline and a pipeline version",
                                                   true}) == UploadRefusal::other);
}

TEST_CASE("the refinement rewrites kind, message and hint; 2.15's generic 400 is a permission problem") {
  util::Failure failure{util::ErrorKind::invalid_package,
                        "upload pipeline hello: the server refused the package", "", 400};
  UploadRefusal refusal = UploadRefusal::other;
  auto refine = api::upload_failure_refinement(release("2.15.0"), UploadEndpoint::pipeline, caller, refusal);
  refine(failure, kfp_400("Failed to create a pipeline"));
  CHECK(refusal == UploadRefusal::not_authorized);
  CHECK(failure.kind == util::ErrorKind::forbidden);
  CHECK(failure.message.rfind("upload pipeline hello: HTTP 400", 0) == 0);
  CHECK(failure.message.find("namespace team-a") != std::string::npos);
  CHECK(failure.hint.find("kubeflow-edit in namespace team-a") != std::string::npos);

  util::Failure on_1_8{util::ErrorKind::forbidden, "upload pipeline hello: HTTP 400", "", 400};
  auto refine_1_8 =
      api::upload_failure_refinement(release("1.8.5"), UploadEndpoint::pipeline, caller, refusal);
  refine_1_8(on_1_8,
             kfp_400("Authorization to namespace failed.: Failed to create SubjectAccessReview for user ''"));
  CHECK(on_1_8.kind == util::ErrorKind::forbidden);
  CHECK(on_1_8.message.find("only from the kubeflow-userid header") != std::string::npos);
  CHECK(on_1_8.hint.find("--shared-pipeline") != std::string::npos);
  CHECK(on_1_8.hint.find("namespace team-a") != std::string::npos);
}

TEST_CASE("a masked refusal is settled by a look at the pipeline") {
  auto masked = [] {
    return util::Failure{util::ErrorKind::forbidden, "upload version v: HTTP 400 masked", "hint", 400};
  };
  util::Failure readable = masked();
  api::settle_masked_upload_refusal(readable, util::Result<void>());
  CHECK(readable.kind == util::ErrorKind::forbidden);
  CHECK(readable.message.find("refused to create a version") != std::string::npos);

  util::Failure gone = masked();
  api::settle_masked_upload_refusal(gone, util::fail(util::ErrorKind::not_found, "HTTP 404"));
  CHECK(gone.kind == util::ErrorKind::not_found);

  util::Failure unauthenticated = masked();
  api::settle_masked_upload_refusal(unauthenticated,
                                    util::fail(util::ErrorKind::unauthenticated, "HTTP 401"));
  CHECK(unauthenticated.kind == util::ErrorKind::unauthenticated);
  CHECK(unauthenticated.message.find("masked") != std::string::npos);
}
