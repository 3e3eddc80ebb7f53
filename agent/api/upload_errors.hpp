#pragma once
// What the upload endpoints' refusals mean, release by release. They are plain Go handlers with
// their own error body ({error_message, error_details}) and never answer 401 or 403: an
// authorization failure is a 400 whose wording changed over the releases
// (backend/src/apiserver/server/pipeline_upload_server.go at each tag):
// - 1.8.x: "Authorization to namespace failed." — and the identity comes only from the
//   kubeflow-userid header, never the bearer token (canUploadVersionedPipeline, :224-241);
// - 2.0–2.5: "Failed to create a pipeline [version] due to authorization error: …", the cause
//   (no identity, or the SubjectAccessReview's denial) in the wrapped chain;
// - 2.15+: the bare "Failed to create a pipeline" (upload: authorization only) or "Failed to create a
//   pipeline version" (upload_version: authorization, or an unknown pipeline id, or an unreadable
//   file), with no cause at all.

#include "api/connection.hpp"
#include "api/kfp_api.hpp"

#include <string_view>

namespace kfp::api {

enum class UploadEndpoint { pipeline, version };

enum class UploadRefusal {
  not_authorized,         // the authorization check refused (or found no identity; 2.15+ cannot tell)
  unauthenticated,        // the authorization check found no identity (named up to 2.5)
  userid_header_missing,  // 1.8: the check ran with the kubeflow-userid header absent
  unknown_pipeline,       // upload_version: the pipeline id does not exist
  unreadable_file,        // the multipart part or the file's format
  invalid_package,        // the template was read and refused (after the authorization check)
  invalid_request,        // names too long, namespace required, bad tags: a usage error
  masked,                 // 2.15+ upload_version: authorization or an unknown pipeline id
  other,
};

// Reads a refusal of an upload endpoint as the server's release words it; `other` for answers
// that are not refusals of the request (5xx, 409).
[[nodiscard]] UploadRefusal read_upload_refusal(const ServerInfo& server, UploadEndpoint endpoint,
                                                const ServerAnswer& answer);

// The refinement an upload request carries: the failure's kind, message and hint as the refusal
// reads on this release; `caller` names the namespace in permission hints. It records how it read
// the refusal in `read` (which must outlive the request), so the caller can settle a masked one.
[[nodiscard]] FailureRefinement upload_failure_refinement(const ServerInfo& server, UploadEndpoint endpoint,
                                                          Caller caller, UploadRefusal& read);

// Reads a masked refusal after a look at the pipeline (`pipeline_read`): gone (not_found) means the
// id was unknown; readable means the authorization check refused the create; any other failure of
// the look (401, 403, ...) is the better explanation and replaces it.
void settle_masked_upload_refusal(util::Failure& failure, const util::Result<void>& pipeline_read);

// An upload's result with a masked refusal settled by `read_pipeline` (a GET of the pipeline).
template <class T, class ReadPipeline>
[[nodiscard]] util::Result<T> settle_upload(util::Result<T> result, UploadRefusal read,
                                            ReadPipeline&& read_pipeline) {
  if (result || read != UploadRefusal::masked) return result;
  util::Failure failure = result.error();
  settle_masked_upload_refusal(failure, read_pipeline());
  return failure;
}

}  // namespace kfp::api
