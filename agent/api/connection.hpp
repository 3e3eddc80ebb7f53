#pragma once
// Requests to the KFP API with what every call needs: the base URL (which may carry a path prefix),
// the bearer token read afresh for each request, retries for idempotent calls, look-up-before-retry
// for creates, and the classification of failures into error kinds with hints (DESIGN §4).

#include "api/query.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <random>
#include <string>

namespace kfp::api {

// Where a request goes decides how its errors read (the upload endpoints answer with their own
// error body and mask authorization failures as 400) and how large an answer may be: uploads and
// pipeline versions carry the whole pipeline spec, which may be as large as a package.
enum class Endpoint { json_api, json_api_with_specs, upload };

// The cap on answers that carry a pipeline spec: a 32 MiB package converted to JSON, with room.
inline constexpr std::size_t max_spec_response_bytes = std::size_t{80} << 20;

struct ApiRequest {
  http::Method method = http::Method::get;
  std::string path;  // "/apis/v2beta1/pipelines", appended to the base URL
  QueryParams query;
  std::optional<boost::json::value> json;  // JSON body
  std::optional<http::Body> body;          // raw body (multipart); with content_type
  std::string content_type;
  Endpoint endpoint = Endpoint::json_api;
  // When set (call() only), the call, retries included, ends within this: each attempt's timeouts
  // are cut to the time left and no retry starts after it (a wait's deadline).
  std::optional<util::Milliseconds> within;
};

struct ApiReply {
  int status = 0;
  boost::json::value json;  // null when the body is empty
};

// Supplies the bearer token for each request; nullopt sends no Authorization header.
class TokenProvider {
 public:
  virtual ~TokenProvider() = default;
  [[nodiscard]] virtual util::Result<std::optional<std::string>> token() = 0;
};

// Who we are, for hints: "system:serviceaccount:NS:SA" and its parts, when the token says.
struct Identity {
  std::string subject;
  std::string namespace_name;
  std::string service_account;
};

struct ConnectionOptions {
  std::string base_url;  // scheme://host[:port][/prefix], no trailing slash
  http::RetryPolicy retry;
  Identity identity;
};

// What a failed response means; exposed for unit tests.
[[nodiscard]] util::Failure classify_response(const http::Response& response, Endpoint endpoint,
                                              const Identity& identity, std::string_view what);

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

 private:
  // `end`: the request must be over by then (ApiRequest::within).
  [[nodiscard]] util::Result<http::Response> send_once(const ApiRequest& request,
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
};

}  // namespace kfp::api
