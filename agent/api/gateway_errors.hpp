#pragma once
// The Kubeflow gateway's own refusals, told apart from KFP's by their status and body, each with its
// fix: Istio's JWT filter (Envoy jwt_authn, whose local reply body is the jwt_verify_lib status
// string), oauth2-proxy's redirect to its sign-in page, and the mesh's "RBAC: access denied".

#include "api/connection.hpp"
#include "http/transport.hpp"
#include "util/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace kfp::api {

// What Envoy's jwt_authn filter answers when it refuses a token: the status (403 for an audience
// mismatch, 401 otherwise) and the text of the jwt_verify_lib Status it failed with.
// Sources: envoyproxy/envoy source/extensions/filters/http/jwt_authn/filter.cc (onComplete:
// `status == Status::JwtAudienceNotAllowed ? Http::Code::Forbidden : Http::Code::Unauthorized`, the
// body getStatusString(status)); google/jwt_verify_lib src/status.cc (getStatusString).
enum class JwtRefusal {
  missing,           // "Jwt is missing"
  expired,           // "Jwt is expired"
  not_yet_valid,     // "Jwt not yet valid"
  unknown_issuer,    // "Jwt issuer is not configured"
  audience,          // "Audiences in Jwt are not allowed" (HTTP 403)
  verification,      // "Jwt verification fails"
  key_mismatch,      // "Jwks doesn't have key to match kid or alg from Jwt"
  jwks_unavailable,  // "Jwks remote fetch is failed"
  malformed,         // any other "Jwt ..." status: the token is not a well-formed JWT
};

// The refusal a gateway body names; nullopt when it is not one of jwt_verify_lib's status strings.
[[nodiscard]] std::optional<JwtRefusal> jwt_refusal(std::string_view body);

// The gateway's refusal in `response` (3xx to oauth2-proxy's or Dex's sign-in, a 401/403 from the
// JWT filter, a 403 "RBAC: access denied"), classified with its fix; nullopt when the answer is not
// the gateway's (a KFP error body, another redirect), which classify_response then reads.
[[nodiscard]] std::optional<util::Failure> classify_gateway_refusal(const http::Response& response,
                                                                    const Caller& caller,
                                                                    std::string_view what);

// The user a KFP SubjectAccessReview denial names ("User 'X' is not authorized with reason: ...",
// resource_manager.go IsAuthorized at every release 1.8.5-2.17.0); empty when the message has none.
[[nodiscard]] std::string denied_user(std::string_view message);

// A RoleBinding of kubeflow-edit for the User `user` in `namespace_name`, as YAML for kubectl apply.
[[nodiscard]] std::string user_rolebinding_yaml(std::string_view user, std::string_view namespace_name);

}  // namespace kfp::api
