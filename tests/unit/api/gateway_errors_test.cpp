#include "api/gateway_errors.hpp"

#include <doctest/doctest.h>

using namespace kfp;

namespace {

constexpr const char* github_subject = "repo:acme/pipelines:ref:refs/heads/main";

// Who asks through the gateway: a GitHub workflow's token.
const api::Caller gateway_caller{
    {github_subject, "", "", "https://token.actions.githubusercontent.com", {"kubeflow-gateway"}}, "team-a"};

// What Envoy's local reply looks like: text/plain, the jwt_verify_lib status as the body.
http::Response envoy(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers.set("Content-Type", "text/plain");
  response.headers.set("WWW-Authenticate",
                       R"(Bearer realm="https://kubeflow.example.com/pipeline", error="invalid_token")");
  return response;
}

util::Failure classify(const http::Response& response, const api::Caller& caller = gateway_caller) {
  return api::classify_response(response, api::Endpoint::json_api, caller, "list pipelines");
}

}  // namespace

TEST_CASE("each jwt_verify_lib status the gateway answers with is its own refusal, with its fix") {
  struct Case {
    int status;
    const char* body;
    util::ErrorKind kind;
    const char* in_hint;
  };
  const Case cases[] = {
      {401, "Jwt is expired", util::ErrorKind::token_expired, "clock"},
      {401, "Jwt not yet valid", util::ErrorKind::unauthenticated, "clock"},
      {401, "Jwt issuer is not configured", util::ErrorKind::unauthenticated,
       "issuer: https://token.actions.githubusercontent.com"},
      {403, "Audiences in Jwt are not allowed", util::ErrorKind::wrong_audience, "--token-audience"},
      {401, "Jwt verification fails", util::ErrorKind::unauthenticated, "jwksUri"},
      {401, "Jwks doesn't have key to match kid or alg from Jwt", util::ErrorKind::unauthenticated, "kid"},
      {401, "Jwt is missing", util::ErrorKind::unauthenticated, "--token-source"},
      {401, "Jwt is not in the form of Header.Payload.Signature", util::ErrorKind::unauthenticated, "JWT"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto failure = classify(envoy(c.status, c.body));
    CHECK(failure.kind == c.kind);
    CHECK(failure.http_status == c.status);
    CHECK(failure.message.find(c.body) != std::string::npos);
    CHECK(failure.message.find("gateway") != std::string::npos);
    CHECK(failure.hint.find(c.in_hint) != std::string::npos);
  }
  // The audience refusal names the audiences the token carried.
  CHECK(classify(envoy(403, "Audiences in Jwt are not allowed")).hint.find("[kubeflow-gateway]") !=
        std::string::npos);
}

TEST_CASE("a KFP 401 or 403 body is not read as the gateway's") {
  http::Response kfp;
  kfp.status = 401;
  kfp.body = R"({"code":16,"message":"Jwt is expired"})";
  kfp.headers.set("Content-Type", "application/json");
  CHECK_FALSE(api::classify_gateway_refusal(kfp, gateway_caller, "x").has_value());
  CHECK_FALSE(api::jwt_refusal("Jwtx").has_value());
  CHECK(api::jwt_refusal("Jwt is expired\n") == api::JwtRefusal::expired);
}

TEST_CASE("oauth2-proxy's redirect to its sign-in page means the gateway did not accept the token (exit 4)") {
  http::Response redirect;
  redirect.status = 302;
  redirect.headers.set("Location",
                       "/dex/auth?client_id=kubeflow-oidc-authservice&redirect_uri=%2Foauth2%2Fcallback");
  auto failure = classify(redirect);
  CHECK(failure.kind == util::ErrorKind::unauthenticated);
  CHECK(failure.message.find("the gateway did not accept this token") != std::string::npos);
  CHECK(failure.message.find("not followed") != std::string::npos);
  CHECK(failure.hint.find("istio-m2m") != std::string::npos);
  // Another redirect stays what it was: a wrong --host (never followed either).
  redirect.headers.set("Location", "https://elsewhere.example.com/apis/v2beta1/healthz");
  CHECK(classify(redirect).kind == util::ErrorKind::server);
}

TEST_CASE("Istio's RBAC: access denied for a gateway token names the gateway's policies (exit 5)") {
  auto failure = classify(envoy(403, "RBAC: access denied"));
  CHECK(failure.kind == util::ErrorKind::istio_denied);
  CHECK(failure.hint.find("istio-ingressgateway-require-jwt") != std::string::npos);
  // A service account's denial keeps its in-cluster advice (the principal to admit).
  const api::Caller service_account{{"system:serviceaccount:ci:kfp-bot", "ci", "kfp-bot"}, "team-a"};
  auto in_cluster = classify(envoy(403, "RBAC: access denied"), service_account);
  CHECK(in_cluster.kind == util::ErrorKind::istio_denied);
  CHECK(in_cluster.hint.find("cluster.local/ns/ci/sa/kfp-bot") != std::string::npos);
}

TEST_CASE("KFP's SubjectAccessReview denial of a gateway subject gives the RoleBinding for that exact User") {
  http::Response denied;
  denied.status = 403;
  denied.headers.set("Content-Type", "application/json");
  // resource_manager.go IsAuthorized (kfp 2.17.0 :2376-2381): the user is the kubeflow-userid value.
  denied.body =
      std::string(R"({"code":7,"message":"User ')") + github_subject +
      R"x(' is not authorized with reason:  (request: &ResourceAttributes{Namespace:team-a,Verb:list,)x"
      R"x(Group:pipelines.kubeflow.org,Version:v1beta1,Resource:pipelines,})"})x";
  auto failure = classify(denied);
  CHECK(failure.kind == util::ErrorKind::forbidden);
  CHECK(failure.hint.find("kind: User") != std::string::npos);
  CHECK(failure.hint.find(std::string("name: \"") + github_subject + "\"") != std::string::npos);
  CHECK(failure.hint.find("namespace: team-a") != std::string::npos);
  CHECK(failure.hint.find("name: kubeflow-edit") != std::string::npos);
  CHECK(failure.hint.find("serviceaccount") == std::string::npos);
  CHECK(api::denied_user("User 'a@b.c' is not authorized with reason: x") == "a@b.c");
  CHECK(api::denied_user("something else").empty());
}

TEST_CASE("the User RoleBinding has a valid name and quotes the subject") {
  const std::string yaml = api::user_rolebinding_yaml(github_subject, "team-a");
  CHECK(yaml.find("  name: kfp-publish-repo-acme-pipelines-ref-refs-heads-main\n") != std::string::npos);
  const std::string odd = api::user_rolebinding_yaml("a\"b", "ns");
  CHECK(odd.find(R"(name: "a\"b")") != std::string::npos);
}
