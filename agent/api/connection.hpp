#pragma once
// Requests to the KFP API with what every call needs: the base URL (which may carry a path prefix),
// the bearer token read afresh for each request, retries for idempotent calls, look-up-before-retry
// for creates, and the classification of failures into error kinds with hints (DESIGN §4).

#include "api/query.hpp"
#include "auth/claims.hpp"
#include "auth/token_source.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace kfp::api {

// Where a request goes decides how its errors read (the upload endpoints answer with their own
// error body and mask authorization failures as 400) and how large an answer may be: uploads and
// pipeline versions carry the whole pipeline spec, which may be as large as a package.
enum class Endpoint { json_api, json_api_with_specs, upload };

// The cap on answers that carry a pipeline spec: a 32 MiB package converted to JSON, with room.
inline constexpr std::size_t max_spec_response_bytes = std::size_t{80} << 20;

// What the server said in a failed answer: its status and its own words (from any of its error
// bodies), for refinements that know the endpoint and the release.
struct ServerAnswer {
  int status = 0;
  std::string message;
  bool json = false;  // the body is JSON (a KFP error body), not text from a proxy or http.Error
};

// Rewrites a classified failure where the endpoint and the release say more than the status does
// (the upload endpoints' 400s, a run create's parameter errors).
using FailureRefinement = std::function<void(util::Failure& failure, const ServerAnswer& answer)>;

// Says why a 2xx answer means "not ready yet, ask again" (the UI proxy's healthz when the API
// server behind it does not answer); nullopt when the answer is good. Such answers are retried like
// a 503, within the retry budget.
using ReadinessCheck = std::function<std::optional<std::string>(const http::Response& response)>;

struct ApiRequest {
  http::Method method = http::Method::get;
  std::string path;  // "/apis/v2beta1/pipelines", appended to the base URL
  QueryParams query;
  std::optional<boost::json::value> json;  // JSON body
  std::optional<http::Body> body;          // raw body (multipart); with content_type
  std::string content_type;
  Endpoint endpoint = Endpoint::json_api;
  FailureRefinement refine_failure;  // optional
  ReadinessCheck readiness;          // optional
  // When set (call() only), the call, retries included, ends within this: each attempt's timeouts
  // are cut to the time left and no retry starts after it (a wait's deadline).
  std::optional<util::Milliseconds> within;
};

struct ApiReply {
  int status = 0;
  boost::json::value json;  // null when the body is empty
};

// Supplies the bearer token for each request; nullopt sends no Authorization header.
using TokenProvider = auth::TokenSource;

// Who we are, for hints: "system:serviceaccount:NS:SA" and its parts, when the token says, or
// another subject (a GitHub repository, an Entra ID service principal) with its issuer and audiences.
struct Identity {
  std::string subject;
  std::string namespace_name;
  std::string service_account;
  // Defaulted, so that {subject, namespace, service account} still initializes the rest.
  std::string issuer = {};
  std::vector<std::string> audiences = {};
};

// The identity a token's claims give.
[[nodiscard]] Identity identity_of(const auth::Claims& claims);

struct ConnectionOptions {
  std::string base_url;  // scheme://host[:port][/prefix], no trailing slash
  http::RetryPolicy retry;
  Identity identity;
  // The namespace the requests work in, which permission hints name; empty: the identity's own.
  std::string namespace_name;
  // What the token must say (its source's audience and issuers), to explain a 401.
  auth::ClaimExpectations expectations = auth::service_account_expectations();
};

// Who asks, for messages and hints: the identity and the namespace it works in.
struct Caller {
  Identity identity;
  std::string namespace_name;  // empty: the identity's own namespace
};

// What a failed response means, by its status and what the server says (every 4xx that refuses the
// request itself is a usage, package, parameter, permission, conflict or not-found kind, never a
// retryable server kind); exposed for unit tests.
[[nodiscard]] util::Failure classify_response(const http::Response& response, Endpoint endpoint,
                                              const Caller& caller, std::string_view what);

// How to grant the caller what KFP's authorization (SubjectAccessReview) refused: the RoleBinding
// to kubeflow-edit in the namespace it works in, for its service account, or for the User KFP
// authorized (`denied_user`, from KFP's message, else the token's subject: through the Kubeflow
// gateway KFP authorizes the kubeflow-userid the gateway wrote from the token's sub).
[[nodiscard]] std::string permission_hint(const Caller& caller, std::string_view denied_user = {});

// The server's own words from any of its error bodies: gateway JSON ({code,message,details}),
// the upload endpoints' {error_message,error_details}, or plain text.
[[nodiscard]] std::string server_message(const http::Response& response);

// Reads an unauthenticated failure with what the client knows of the token it sent (the real server's words
// are generic: "User identity is empty in the request header"): token_expired when its exp has passed,
// wrong_audience when it lacks the expected audience (pipelines.kubeflow.org for a service-account
// token), unauthenticated otherwise.
void explain_unauthenticated(util::Failure& failure, const std::optional<std::string>& token_sent,
                             const auth::ClaimExpectations& expected = auth::service_account_expectations());

// Looks for the object a create may have made: true when it is there (the caller keeps what it
// found), false when it is not.
using FoundCheck = std::function<util::Result<bool>()>;

class Connection {
 public:
  Connection(http::Transport& transport, TokenProvider& tokens, http::Clock& clock, util::Log& log,
             ConnectionOptions options);

  // Sends a request that may be repeated safely; retries connection failures and 429/502/503/504.
  // `what` names the operation in messages ("get pipeline hello"). Non-2xx becomes a Failure.
  [[nodiscard]] util::Result<ApiReply> call(const ApiRequest& request, std::string_view what);

  // Sends a create once. When its outcome is unknown (lost response, 5xx) or it answers 409, asks
  // `found` first: if the object is there, the answer is nullopt (the earlier attempt, or another
  // process, made it; the caller has it from its look-up); otherwise the create is sent again
  // (retries permitting). A create is never blindly re-sent. Typed form: create_object (calls.hpp).
  [[nodiscard]] util::Result<std::optional<ApiReply>> create_or_find(const ApiRequest& request,
                                                                     std::string_view what,
                                                                     const FoundCheck& found);

  [[nodiscard]] const std::string& base_url() const { return options_.base_url; }
  [[nodiscard]] int request_count() const { return request_count_; }
  [[nodiscard]] const Identity& identity() const { return options_.identity; }
  void set_identity(Identity identity) { options_.identity = std::move(identity); }
  void set_namespace(std::string namespace_name) { options_.namespace_name = std::move(namespace_name); }
  [[nodiscard]] Caller caller() const { return Caller{options_.identity, options_.namespace_name}; }

 private:
  // `end`: the request must be over by then (ApiRequest::within).
  [[nodiscard]] util::Result<http::Response> send_once(const ApiRequest& request,
                                                       std::optional<http::Clock::TimePoint> end = {});
  // send_once, with a 2xx that the request's readiness check refuses turned into a retryable failure.
  [[nodiscard]] util::Result<http::Response> send_checked(const ApiRequest& request,
                                                          std::optional<http::Clock::TimePoint> end = {});
  [[nodiscard]] util::Result<ApiReply> to_reply(util::Result<http::Response> response,
                                                const ApiRequest& request, std::string_view what) const;
  void log_retry(const http::RetryEvent& event, std::string_view what);

  http::Transport& transport_;
  TokenProvider& tokens_;
  http::Clock& clock_;
  util::Log& log_;
  ConnectionOptions options_;
  std::mt19937_64 random_;
  int request_count_ = 0;
  std::optional<std::string> last_token_;  // sent with the last request, to explain a 401; never printed
};

}  // namespace kfp::api
