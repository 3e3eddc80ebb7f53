#include "api/connection.hpp"

#include "api/gateway_errors.hpp"

#include "auth/claims.hpp"
#include "util/interrupt.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <random>

namespace kfp::api {

namespace {

constexpr std::size_t max_message_chars = 600;

std::string truncate(std::string text) {
  if (text.size() > max_message_chars) {
    text.resize(max_message_chars);
    text += "…";
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

std::string server_message(const http::Response& response) {
  boost::system::error_code ec;
  auto value = boost::json::parse(response.body, ec);
  if (!ec && value.is_object()) {
    const auto& object = value.as_object();
    if (auto it = object.find("error_message"); it != object.end() && it->value().is_string()) {
      return std::string(it->value().as_string());
    }
    if (auto it = object.find("details"); it != object.end() && it->value().is_array()) {
      for (const auto& detail : it->value().as_array()) {
        if (detail.is_object()) {
          if (auto m = detail.as_object().find("message");
              m != detail.as_object().end() && m->value().is_string()) {
            return std::string(m->value().as_string());
          }
        }
      }
    }
    for (const char* key : {"message", "error"}) {
      if (auto it = object.find(key); it != object.end() && it->value().is_string()) {
        return std::string(it->value().as_string());
      }
    }
  }
  return truncate(response.body);
}

namespace {

bool is_json(const http::Response& response) {
  auto type = response.headers.get("content-type").value_or("");
  if (type.find("json") != std::string::npos) return true;
  boost::system::error_code ec;
  auto value = boost::json::parse(response.body, ec);
  return !ec && value.is_object();
}

bool contains_any(std::string_view text, std::initializer_list<std::string_view> needles) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto needle : needles) {
    if (lower.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string subject_or_placeholder(const Identity& identity) {
  return identity.subject.empty() ? std::string("system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT")
                                  : identity.subject;
}

std::string principal(const Identity& identity) {
  if (identity.namespace_name.empty() || identity.service_account.empty())
    return "cluster.local/ns/NAMESPACE/sa/SERVICE_ACCOUNT";
  return fmt::format("cluster.local/ns/{}/sa/{}", identity.namespace_name, identity.service_account);
}

constexpr int request_timeout = 408;
constexpr int payload_too_large = 413;
constexpr int too_many_requests = 429;
constexpr int client_closed_request = 499;
constexpr int bad_request = 400;
constexpr int internal_server_error = 500;
constexpr int not_implemented = 501;

}  // namespace

Identity identity_of(const auth::Claims& claims) {
  Identity identity;
  identity.subject = claims.subject;
  identity.namespace_name = claims.namespace_name.value_or("");
  identity.service_account = claims.service_account.value_or("");
  identity.issuer = claims.issuer;
  identity.audiences = claims.audiences;
  return identity;
}

// The binding lives where the work happens, which may differ from the service account's own namespace.
std::string permission_hint(const Caller& caller, std::string_view denied_user) {
  const Identity& identity = caller.identity;
  const std::string home = identity.namespace_name.empty() ? "NAMESPACE" : identity.namespace_name;
  const std::string ns = !caller.namespace_name.empty() ? caller.namespace_name : home;
  const std::string user = !denied_user.empty() ? std::string(denied_user) : identity.subject;
  if (!user.empty() && !auth::parse_service_account_subject(user)) {
    // A User: the subject the gateway wrote into kubeflow-userid (KUBEFLOW_USERID_PREFIX is "" in
    // kubeflow/manifests' multi-user api-service deployment-patch.yaml, so the whole value is the user).
    return fmt::format(
        "KFP authorization (SubjectAccessReview) denied the User {}: bind it to the ClusterRole "
        "kubeflow-edit "
        "in namespace {}:\nkubectl apply -f - <<'EOF'\n{}EOF",
        user, ns, user_rolebinding_yaml(user, ns));
  }
  const std::string sa = identity.service_account.empty() ? "SERVICE_ACCOUNT" : identity.service_account;
  return fmt::format(
      "KFP authorization (SubjectAccessReview) denied {}: bind it to the ClusterRole "
      "kubeflow-edit in namespace {} (kubectl create rolebinding {}-kubeflow-edit "
      "--clusterrole=kubeflow-edit --serviceaccount={}:{} -n {}; see manifests/base/rbac/)",
      subject_or_placeholder(identity), ns, sa, home, sa, ns);
}

util::Failure classify_response(const http::Response& response, Endpoint endpoint, const Caller& caller,
                                std::string_view what) {
  if (auto refusal = classify_gateway_refusal(response, caller, what)) return *refusal;
  const int status = response.status;
  const std::string message = server_message(response);
  util::Failure failure;
  failure.http_status = status;
  auto set = [&](util::ErrorKind kind, std::string text, std::string hint = {}) {
    failure.kind = kind;
    failure.message = std::move(text);
    failure.hint = std::move(hint);
  };

  if (status >= 300 && status < 400) {
    auto location = response.headers.get("location").value_or("(no Location header)");
    set(util::ErrorKind::server,
        fmt::format("{}: the server answered HTTP {} redirecting to {}; redirects are not followed, so the "
                    "token never goes to another host",
                    what, status, truncate(location)),
        "set --host to the URL the API is really served at (for the Kubeflow gateway: "
        "https://HOST/pipeline)");
    return failure;
  }
  switch (status) {
    case 401:
      // The real server's words are generic ("User identity is empty in the request header"):
      // Connection refines the kind from the token it sent (explain_unauthenticated).
      set(util::ErrorKind::unauthenticated, fmt::format("{}: HTTP 401 unauthenticated: {}", what, message),
          "the KFP API rejected the token: use a projected service-account token with audience "
          "pipelines.kubeflow.org (KF_PIPELINES_SA_TOKEN_PATH); run `kfp-publish doctor` for details");
      return failure;
    case 403:
      if (!is_json(response) && contains_any(message, {"rbac: access denied"})) {
        set(util::ErrorKind::istio_denied,
            fmt::format(
                "{}: HTTP 403 from the Istio mesh (RBAC: access denied): the request never reached KFP",
                what),
            fmt::format(
                "add the principal {} to the AuthorizationPolicy in front of the API (ml-pipeline-ui when "
                "going through the UI or gateway), send no kubeflow-userid header, or call "
                "http://ml-pipeline.kubeflow.svc.cluster.local:8888 directly (see manifests/base/istio/)",
                principal(caller.identity)));
      } else {
        set(util::ErrorKind::forbidden, fmt::format("{}: HTTP 403 forbidden: {}", what, message),
            permission_hint(caller, denied_user(message)));
      }
      return failure;
    case 404:
      set(util::ErrorKind::not_found, fmt::format("{}: HTTP 404 not found: {}", what, message));
      return failure;
    case 409:
      // Also the gateway's code for Aborted (KFP's BadRequestError: a repeated or malformed
      // identity header), which a retry cannot fix either.
      set(util::ErrorKind::conflict, fmt::format("{}: HTTP 409 conflict: {}", what, message));
      return failure;
    default: break;
  }
  if (endpoint == Endpoint::upload && status == bad_request) {
    // Up to 2.5 (and on 1.8) the upload endpoints name an authorization failure in their 400;
    // release-specific readings (2.15's generic 400) are the API's FailureRefinement.
    if (contains_any(message, {"authoriz", "permission", "not allowed", "access denied"})) {
      set(util::ErrorKind::forbidden,
          fmt::format(
              "{}: HTTP 400 from the upload endpoint, which reports authorization failures as 400: {}", what,
              message),
          permission_hint(caller));
    } else {
      set(util::ErrorKind::invalid_package,
          fmt::format("{}: the server refused the package (HTTP 400): {}", what, message));
    }
    return failure;
  }
  if (endpoint == Endpoint::upload && status == payload_too_large) {
    set(util::ErrorKind::invalid_package,
        fmt::format("{}: HTTP 413: the package is larger than something in front of the API accepts: {}",
                    what, message),
        "raise the body size limit of the proxy or gateway in front of KFP, or upload a smaller package");
    return failure;
  }
  const bool transient =
      status == request_timeout || status == too_many_requests || status == client_closed_request;
  if ((status >= 400 && status < 500 && !transient) || status == not_implemented) {
    // The server refused this request as it is: sending it again cannot help (exit 2, never 7).
    set(util::ErrorKind::usage,
        fmt::format("{}: HTTP {}: the server refused the request: {}", what, status, message),
        status == not_implemented
            ? "this server does not implement the call: check --api and the server version"
            : "");
    return failure;
  }
  if (status == internal_server_error && contains_any(message, {"unauthenticated:"}) &&
      contains_any(message, {"user identity header", "review.status.authenticated", "token review"})) {
    // KFP 1.8 answers a request no authenticator accepted with 500: AuthenticateRequest returns
    // the authenticators' aggregate error, not a user error (server/util.go:361 @1.8.5).
    set(util::ErrorKind::unauthenticated,
        fmt::format("{}: HTTP 500, KFP 1.8's answer to a request it could not authenticate: {}", what,
                    message),
        "the KFP API rejected the token: use a projected service-account token with audience "
        "pipelines.kubeflow.org (KF_PIPELINES_SA_TOKEN_PATH); run `kfp-publish doctor` for details");
    return failure;
  }
  set(util::ErrorKind::server, fmt::format("{}: HTTP {} from the server: {}", what, status, message));
  return failure;
}

void explain_unauthenticated(util::Failure& failure, const std::optional<std::string>& token_sent,
                             const auth::ClaimExpectations& expected) {
  if (failure.kind != util::ErrorKind::unauthenticated) return;
  if (!token_sent) {
    failure.message += " (no token was sent: the token file is absent)";
    failure.hint =
        "the server authenticates every request: mount a projected service-account token with audience "
        "pipelines.kubeflow.org and point --token-file / KF_PIPELINES_SA_TOKEN_PATH at it";
    return;
  }
  auto claims = auth::decode_claims(*token_sent, "the token sent");
  if (!claims) return;
  auto checked = auth::check_claims(*claims, std::chrono::system_clock::now(), expected);
  if (checked) return;
  failure.kind = checked.error().kind;
  failure.message += fmt::format(" ({})", checked.error().message);
  if (!checked.error().hint.empty()) failure.hint = checked.error().hint;
}

Connection::Connection(http::Transport& transport, TokenProvider& tokens, http::Clock& clock, util::Log& log,
                       ConnectionOptions options)
    : transport_(transport),
      tokens_(tokens),
      clock_(clock),
      log_(log),
      options_(std::move(options)),
      random_(std::random_device{}()) {}

util::Result<http::Response> Connection::send_once(const ApiRequest& request,
                                                   std::optional<http::Clock::TimePoint> end) {
  http::Request out;
  out.method = request.method;
  out.url = options_.base_url + request.path + query_string(request.query);
  if (request.endpoint != Endpoint::json_api) out.max_response_bytes = max_spec_response_bytes;
  out.headers.set("Accept", "application/json");
  if (request.json) {
    out.body = http::Body::text(boost::json::serialize(*request.json));
    out.headers.set("Content-Type", "application/json");
  } else if (request.body) {
    out.body = *request.body;
    out.headers.set("Content-Type", request.content_type);
  }

  auto send_with_token = [&]() -> util::Result<http::Response> {
    auto token = tokens_.token();
    if (!token) return token.error();
    if (*token) out.headers.set("Authorization", "Bearer " + **token);
    last_token_ = *token;
    if (end) {
      out.within = std::chrono::duration_cast<util::Milliseconds>(*end - clock_.now());
      if (*out.within <= util::Milliseconds{0})
        return util::fail(util::ErrorKind::network, "no time left to send the request");
    }
    ++request_count_;
    log_.debug("{} {}", http::to_string(out.method), out.url);
    return transport_.send(out);
  };
  auto response = send_with_token();
  if (response && response->status == 401) {
    // Projected tokens rotate: read the file again and try once more before giving up.
    log_.debug("HTTP 401: reading the token file again and retrying once");
    response = send_with_token();
  }
  return response;
}

util::Result<http::Response> Connection::send_checked(const ApiRequest& request,
                                                      std::optional<http::Clock::TimePoint> end) {
  auto response = send_once(request, end);
  if (!response || !request.readiness || response->status < 200 || response->status >= 300) return response;
  if (auto not_ready = request.readiness(*response)) {
    // Retried like a lost connection; the status marks it as an answer (to_reply reads it as server).
    util::Failure failure = util::fail(util::ErrorKind::network, *not_ready);
    failure.http_status = response->status;
    return failure;
  }
  return response;
}

util::Result<ApiReply> Connection::to_reply(util::Result<http::Response> response, const ApiRequest& request,
                                            std::string_view what) const {
  if (!response) {
    util::Failure failure = response.error();
    failure.message = fmt::format("{}: {}", what, failure.message);
    // A readiness check's refusal that outlasted the retries: the server answered, it is not ready.
    if (failure.kind == util::ErrorKind::network && failure.http_status)
      failure.kind = util::ErrorKind::server;
    return failure;
  }
  if (response->status < 200 || response->status >= 300) {
    util::Failure failure = classify_response(*response, request.endpoint,
                                              Caller{options_.identity, options_.namespace_name}, what);
    explain_unauthenticated(failure, last_token_, options_.expectations);
    if (request.refine_failure) {
      boost::system::error_code ec;
      auto parsed = boost::json::parse(response->body, ec);
      request.refine_failure(
          failure, ServerAnswer{response->status, server_message(*response), !ec && parsed.is_object()});
    }
    return failure;
  }
  ApiReply reply;
  reply.status = response->status;
  if (!response->body.empty()) {
    boost::system::error_code ec;
    reply.json = boost::json::parse(response->body, ec);
    if (ec) {
      return util::Failure{
          util::ErrorKind::server,
          fmt::format("{}: the server answered HTTP {} with a body that is not JSON ({})", what,
                      response->status, response->headers.get("content-type").value_or("no content type")),
          "is --host the KFP API? In-cluster it is http://ml-pipeline.kubeflow.svc.cluster.local:8888; "
          "through the Kubeflow gateway https://HOST/pipeline",
          response->status};
    }
  }
  return reply;
}

void Connection::log_retry(const http::RetryEvent& event, std::string_view what) {
  log_.warning("{}: {}; retry {}/{} in {}", what, event.reason, event.retry, event.max_retries,
               util::format_duration(event.delay));
}

util::Result<ApiReply> Connection::call(const ApiRequest& request, std::string_view what) {
  http::RetryHooks hooks;
  hooks.on_retry = [&](const http::RetryEvent& event) { log_retry(event, what); };
  http::RetryPolicy policy = options_.retry;
  std::optional<http::Clock::TimePoint> end;
  if (request.within) {
    end = clock_.now() + *request.within;
    policy.give_up_after =
        policy.give_up_after ? std::min(*policy.give_up_after, *request.within) : *request.within;
  }
  auto response = http::retry(
      policy, clock_, random_, [&] { return send_checked(request, end); }, hooks);
  return to_reply(std::move(response), request, what);
}

util::Result<std::optional<ApiReply>> Connection::create_or_find(const ApiRequest& request,
                                                                 std::string_view what,
                                                                 const FoundCheck& found) {
  std::optional<util::Failure> lookup_failure;
  bool found_earlier = false;
  http::RetryHooks hooks;
  hooks.on_retry = [&](const http::RetryEvent& event) { log_retry(event, what); };
  hooks.before_retry = [&](int /*retry*/) -> std::optional<util::Result<http::Response>> {
    auto there = found();
    if (!there) {
      // Cannot tell whether the create took effect: stop rather than risk a duplicate.
      lookup_failure = there.error();
      return util::Result<http::Response>(there.error());
    }
    if (*there) {
      log_.info("{}: the earlier attempt took effect; not sending it again", what);
      found_earlier = true;
      return util::Result<http::Response>(http::Response{});
    }
    return std::nullopt;
  };
  auto response = http::retry(
      options_.retry, clock_, random_, [&] { return send_once(request); }, hooks);
  if (found_earlier) return std::optional<ApiReply>();
  if (response && response->status == 409) {
    // Someone (perhaps our own lost attempt) made it: take it if the look-up finds it.
    auto there = found();
    if (there && *there) return std::optional<ApiReply>();
  }
  if (lookup_failure) {
    util::Failure failure = *lookup_failure;
    failure.message =
        fmt::format("{}: could not check whether an earlier attempt took effect: {}", what, failure.message);
    return failure;
  }
  auto reply = to_reply(std::move(response), request, what);
  if (!reply) return reply.error();
  return std::optional<ApiReply>(std::move(*reply));
}

}  // namespace kfp::api
