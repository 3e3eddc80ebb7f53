#include "api/connection.hpp"

#include "api/calls.hpp"
#include "util/base64.hpp"

#include "unit/api/fake_transport.hpp"

#include <doctest/doctest.h>

using namespace kfp;
using test::FakeClock;
using test::FakeTransport;
using test::FixedTokens;

namespace {

struct Fixture {
  FakeTransport transport;
  FixedTokens tokens;
  FakeClock clock;
  util::MemoryLog log;
  api::Connection connection{transport, tokens, clock, log, options()};

  static api::ConnectionOptions options() {
    api::ConnectionOptions o;
    o.base_url = "https://kfp.example.com/pipeline";
    o.retry.max_retries = 3;
    o.identity = {"system:serviceaccount:team-a:default-editor", "team-a", "default-editor"};
    return o;
  }
};

http::Response response(int status, std::string body, std::string type) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.set("Content-Type", std::move(type));
  return r;
}

}  // namespace

TEST_CASE("requests go to the base URL with its prefix, the bearer token and a JSON body") {
  Fixture f;
  f.tokens.tokens = {"tok-123456789"};
  f.transport.answer(200, R"({"pipeline_id":"p1"})");
  auto request = api::with_query(api::post_json_request("/apis/v2beta1/pipelines", {{"name", "x"}}),
                                 {{"namespace", "team-a"}});
  auto reply = f.connection.call(request, "create pipeline x");
  REQUIRE(reply.has_value());
  CHECK(reply->json.at("pipeline_id").as_string() == "p1");
  REQUIRE(f.transport.sent.size() == 1);
  CHECK(f.transport.sent[0].url ==
        "https://kfp.example.com/pipeline/apis/v2beta1/pipelines?namespace=team-a");
  CHECK(f.transport.sent[0].headers.get("authorization") ==
        std::optional<std::string>("Bearer tok-123456789"));
  CHECK(f.transport.sent[0].headers.get("content-type") == std::optional<std::string>("application/json"));
}

TEST_CASE("no token means no Authorization header") {
  Fixture f;
  f.transport.answer(200, "{}");
  REQUIRE(f.connection.call(api::get_request("/apis/v2beta1/healthz"), "healthz").has_value());
  CHECK_FALSE(f.transport.sent[0].headers.get("authorization").has_value());
}

TEST_CASE("a 401 re-reads the token once and retries") {
  Fixture f;
  f.tokens.tokens = {"old-token-aaaa", "new-token-bbbb"};
  f.transport.answer(401, R"({"code":16,"message":"token expired"})");
  f.transport.answer(200, "{}");
  auto reply = f.connection.call(api::get_request("/apis/v2beta1/runs/r1"), "get run");
  REQUIRE(reply.has_value());
  REQUIRE(f.transport.sent.size() == 2);
  CHECK(f.transport.sent[1].headers.get("authorization") ==
        std::optional<std::string>("Bearer new-token-bbbb"));
}

TEST_CASE("idempotent calls retry 503 with backoff, then succeed") {
  Fixture f;
  f.transport.answer(503, "upstream connect error", "text/plain");
  f.transport.fail_network();
  f.transport.answer(200, "{}");
  auto reply = f.connection.call(api::get_request("/apis/v2beta1/runs/r1"), "get run");
  REQUIRE(reply.has_value());
  CHECK(f.transport.sent.size() == 3);
  CHECK(f.clock.slept.size() == 2);
}

TEST_CASE("responses are classified into error kinds with hints") {
  const api::Caller who{{"system:serviceaccount:team-a:default-editor", "team-a", "default-editor"}, ""};
  auto istio = api::classify_response(response(403, "RBAC: access denied", "text/plain"),
                                      api::Endpoint::json_api, who, "list pipelines");
  CHECK(istio.kind == util::ErrorKind::istio_denied);
  CHECK(istio.hint.find("cluster.local/ns/team-a/sa/default-editor") != std::string::npos);

  auto rbac = api::classify_response(
      response(
          403,
          R"({"code":7,"message":"User 'system:serviceaccount:team-a:default-editor' is not authorized"})",
          "application/json"),
      api::Endpoint::json_api, who, "x");
  CHECK(rbac.kind == util::ErrorKind::forbidden);
  CHECK(rbac.hint.find("kubeflow-edit") != std::string::npos);
  CHECK(rbac.http_status == std::optional<int>(403));

  CHECK(api::classify_response(response(401, R"({"message":"no identity"})", "application/json"),
                               api::Endpoint::json_api, who, "x")
            .kind == util::ErrorKind::unauthenticated);
  CHECK(api::classify_response(response(404, R"({"code":5,"message":"Not Found"})", "application/json"),
                               api::Endpoint::json_api, who, "x")
            .kind == util::ErrorKind::not_found);
  CHECK(api::classify_response(response(409, "{}", "application/json"), api::Endpoint::json_api, who, "x")
            .kind == util::ErrorKind::conflict);
  CHECK(api::classify_response(response(500, "oops", "text/plain"), api::Endpoint::json_api, who, "x").kind ==
        util::ErrorKind::server);

  auto masked = api::classify_response(
      response(400,
               R"({"error_message":"Failed to authorize: User is not authorized","error_details":"..."})",
               "application/json"),
      api::Endpoint::upload, who, "upload");
  CHECK(masked.kind == util::ErrorKind::forbidden);
  CHECK(masked.message.find("400") != std::string::npos);

  auto refused = api::classify_response(
      response(
          400,
          R"({"error_message":"Failed to create a pipeline version: invalid spec","error_details":"..."})",
          "application/json"),
      api::Endpoint::upload, who, "upload");
  CHECK(refused.kind == util::ErrorKind::invalid_package);
  CHECK(refused.message.find("invalid spec") != std::string::npos);

  http::Response redirect = response(302, "", "text/html");
  redirect.headers.set("Location", "https://login.example.com/");
  auto redirected = api::classify_response(redirect, api::Endpoint::json_api, who, "x");
  CHECK(redirected.kind == util::ErrorKind::server);
  CHECK(redirected.message.find("login.example.com") != std::string::npos);
}

TEST_CASE("a 4xx that refuses the request itself is never a retryable server error (exit 2, 3 or 6, not 7)") {
  const api::Caller who{};
  for (int status : {400, 405, 410, 411, 414, 415, 422, 431, 501}) {
    CAPTURE(status);
    auto failure =
        api::classify_response(response(status, R"({"code":3,"message":"bad"})", "application/json"),
                               api::Endpoint::json_api, who, "x");
    CHECK(failure.kind == util::ErrorKind::usage);
    CHECK(failure.http_status == status);
  }
  // Asking again later may help with these: they stay server errors (retried where the policy says).
  for (int status : {408, 429, 499, 500, 502, 503, 504}) {
    CAPTURE(status);
    CHECK(
        api::classify_response(response(status, "x", "text/plain"), api::Endpoint::json_api, who, "x").kind ==
        util::ErrorKind::server);
  }
  auto too_large = api::classify_response(response(413, "<html>Request Entity Too Large</html>", "text/html"),
                                          api::Endpoint::upload, who, "upload");
  CHECK(too_large.kind == util::ErrorKind::invalid_package);
}

TEST_CASE("the permission hint names the namespace in use, and the binding's subject in its own namespace") {
  const api::Caller caller{{"system:serviceaccount:ci:kfp-bot", "ci", "kfp-bot"}, "team-a"};
  auto denied = api::classify_response(
      response(403, R"({"code":7,"message":"User 'system:serviceaccount:ci:kfp-bot' is not authorized"})",
               "application/json"),
      api::Endpoint::json_api, caller, "list runs");
  CHECK(denied.hint.find("in namespace team-a") != std::string::npos);
  CHECK(denied.hint.find("--serviceaccount=ci:kfp-bot -n team-a") != std::string::npos);
  CHECK(denied.hint.find("in namespace ci") == std::string::npos);
  const api::Caller home{{"system:serviceaccount:ci:kfp-bot", "ci", "kfp-bot"}, ""};
  CHECK(api::permission_hint(home).find("-n ci") != std::string::npos);
}

TEST_CASE("a 2xx answer that is not JSON is a server error naming the content type") {
  Fixture f;
  f.transport.answer(200, "<html>Kubeflow</html>", "text/html");
  auto reply = f.connection.call(api::get_request("/apis/v2beta1/healthz"), "healthz");
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().kind == util::ErrorKind::server);
  CHECK(reply.error().message.find("text/html") != std::string::npos);
}

TEST_CASE("answers that carry pipeline specs may be as large as a package; others keep the default cap") {
  Fixture f;
  f.transport.answer(200, "{}");
  f.transport.answer(200, "{}");
  REQUIRE(f.connection
              .call(api::get_request("/apis/v2beta1/pipelines/p/versions", {},
                                     api::Endpoint::json_api_with_specs),
                    "list versions")
              .has_value());
  REQUIRE(f.connection.call(api::get_request("/apis/v2beta1/runs/r"), "get run").has_value());
  CHECK(f.transport.sent[0].max_response_bytes == api::max_spec_response_bytes);
  CHECK(f.transport.sent[0].max_response_bytes > std::size_t{32} << 20);
  CHECK(f.transport.sent[1].max_response_bytes == 0);
}

TEST_CASE("a call with `within` gives each attempt the time left and starts no retry after it") {
  Fixture f;
  // Each attempt fails after taking 400 ms of (fake) time.
  for (int i = 0; i < 10; ++i) {
    f.transport.handlers.push_back([&f](const http::Request&) -> util::Result<http::Response> {
      f.clock.sleep_for(util::Milliseconds{400});
      return util::fail(util::ErrorKind::network, "connection reset by peer");
    });
  }
  const auto start = f.clock.now();
  auto request = api::get_request("/apis/v2beta1/runs/r1");
  request.within = util::Milliseconds{1000};
  auto reply = f.connection.call(request, "get run r1");
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().kind == util::ErrorKind::network);
  CHECK(f.clock.now() - start <= util::Milliseconds{1000});
  REQUIRE_FALSE(f.transport.sent.empty());
  CHECK(f.transport.sent[0].within == std::optional<util::Milliseconds>(1000));
  for (std::size_t i = 1; i < f.transport.sent.size(); ++i) {
    REQUIRE(f.transport.sent[i].within.has_value());
    CHECK(*f.transport.sent[i].within < *f.transport.sent[i - 1].within);
  }
}

TEST_CASE("a 401 is explained by the token that was sent, not by the server's (generic) words") {
  auto jwt = [](std::string_view payload) {
    return util::base64url_encode(R"({"alg":"RS256"})") + "." + util::base64url_encode(payload) + ".c2ln";
  };
  const char* generic =
      R"({"code":16,"message":"Failed to check authorization. User identity is empty in the request header","details":[{"@type":"type.googleapis.com/google.rpc.Status","code":16,"message":"Failed to check authorization. User identity is empty in the request header"}]})";
  auto unauthorized = [&](std::vector<std::string> tokens) {
    Fixture f;
    f.tokens.tokens = std::move(tokens);
    f.transport.answer(401, generic);
    f.transport.answer(401, generic);
    auto reply = f.connection.call(api::get_request("/apis/v2beta1/runs/r1"), "get run r1");
    REQUIRE_FALSE(reply.has_value());
    return reply.error();
  };
  auto expired = unauthorized(
      {jwt(R"({"aud":["pipelines.kubeflow.org"],"exp":1000,"sub":"system:serviceaccount:a:b"})")});
  CHECK(expired.kind == util::ErrorKind::token_expired);
  CHECK(expired.message.find("User identity is empty") != std::string::npos);
  auto wrong = unauthorized({jwt(R"({"aud":["https://kubernetes.default.svc"],"exp":99999999999})")});
  CHECK(wrong.kind == util::ErrorKind::wrong_audience);
  auto valid = unauthorized({jwt(R"({"aud":["pipelines.kubeflow.org"],"exp":99999999999})")});
  CHECK(valid.kind == util::ErrorKind::unauthenticated);
  auto none = unauthorized({});
  CHECK(none.kind == util::ErrorKind::unauthenticated);
  CHECK(none.message.find("no token was sent") != std::string::npos);
  // Whatever the server says, its wording alone never decides the kind.
  Fixture f;
  f.tokens.tokens = {jwt(R"({"aud":["pipelines.kubeflow.org"],"exp":99999999999})")};
  f.transport.answer(401, R"({"message":"token has expired; invalid audience"})");
  f.transport.answer(401, R"({"message":"token has expired; invalid audience"})");
  auto reply = f.connection.call(api::get_request("/apis/v2beta1/runs/r1"), "get run r1");
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().kind == util::ErrorKind::unauthenticated);
}

TEST_CASE("a 2xx that the readiness check refuses is retried within the budget, then is a server error") {
  Fixture f;
  for (int i = 0; i < 4; ++i) f.transport.answer(200, R"({"apiServerReady":false})");
  auto request = api::get_request("/apis/v2beta1/healthz");
  request.readiness = [](const http::Response& response) -> std::optional<std::string> {
    if (response.body.find("false") != std::string::npos) return std::string("the API server is not ready");
    return std::nullopt;
  };
  auto reply = f.connection.call(request, "healthz");
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().kind == util::ErrorKind::server);
  CHECK(reply.error().message.find("not ready") != std::string::npos);
  CHECK(f.transport.sent.size() == 4);  // 1 + max_retries 3
  CHECK(f.clock.slept.size() == 3);

  Fixture g;
  g.transport.answer(200, R"({"apiServerReady":false})");
  g.transport.answer(200, R"({"apiServerReady":true})");
  auto ready = g.connection.call(request, "healthz");
  REQUIRE(ready.has_value());
  CHECK(g.transport.sent.size() == 2);
}

TEST_CASE("KFP 1.8's 500 for a request no authenticator accepted is unauthenticated, not a server error") {
  // server/util.go:361 @1.8.5 returns AuthenticateRequest's aggregate error, which the gateway
  // turns into codes.Internal.
  const char* body =
      R"({"error":"Internal error: [Unauthenticated: Request header error: there is no user identity header.: Request header error: there is no user identity header., Authentication failure: Unauthenticated: Review.Status.Authenticated is false: Failed to authenticate token review]","code":13,"message":"Internal error: [Unauthenticated: Request header error: there is no user identity header., Authentication failure: Unauthenticated: Review.Status.Authenticated is false]"})";
  auto failure = api::classify_response(response(500, body, "application/json"), api::Endpoint::json_api,
                                        api::Caller{}, "list pipelines");
  CHECK(failure.kind == util::ErrorKind::unauthenticated);
  CHECK(failure.http_status == 500);
  auto other = api::classify_response(
      response(500, R"({"code":13,"message":"Internal error: database is locked"})", "application/json"),
      api::Endpoint::json_api, api::Caller{}, "list pipelines");
  CHECK(other.kind == util::ErrorKind::server);
}
