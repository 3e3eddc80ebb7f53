#include "api/gateway_errors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/algorithm/string/predicate.hpp>

#include <array>
#include <cctype>

namespace kfp::api {

namespace {

struct JwtStatus {
  std::string_view text;
  JwtRefusal refusal;
};

// google/jwt_verify_lib src/status.cc getStatusString: the bodies Envoy's jwt_authn sends.
constexpr std::array<JwtStatus, 8> jwt_statuses{{
    {"Jwt is missing", JwtRefusal::missing},
    {"Jwt is expired", JwtRefusal::expired},
    {"Jwt not yet valid", JwtRefusal::not_yet_valid},
    {"Jwt issuer is not configured", JwtRefusal::unknown_issuer},
    {"Audiences in Jwt are not allowed", JwtRefusal::audience},
    {"Jwt verification fails", JwtRefusal::verification},
    {"Jwks doesn't have key to match kid or alg from Jwt", JwtRefusal::key_mismatch},
    {"Jwks remote fetch is failed", JwtRefusal::jwks_unavailable},
}};

std::string trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  return std::string(text.substr(0, 200));
}

bool is_service_account(std::string_view subject) {
  return subject.substr(0, std::string_view("system:serviceaccount:").size()) == "system:serviceaccount:";
}

std::string issuer_of(const Identity& identity) {
  return identity.issuer.empty() ? std::string("ISSUER") : identity.issuer;
}

std::string audiences_of(const Identity& identity) {
  return identity.audiences.empty() ? std::string("(none)")
                                    : fmt::format("{}", fmt::join(identity.audiences, ", "));
}

// A DNS-1123 name from a subject: "repo:acme/pipelines:ref:refs/heads/main" -> "repo-acme-pipelines-ref-...".
std::string binding_name(std::string_view user) {
  std::string name = "kfp-publish-";
  for (char c : user) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte)) {
      name.push_back(static_cast<char>(std::tolower(byte)));
    } else if (name.back() != '-') {
      name.push_back('-');
    }
  }
  if (name.size() > 63) name.resize(63);
  while (name.back() == '-') name.pop_back();
  return name;
}

std::string jwt_hint(JwtRefusal refusal, const Identity& identity) {
  switch (refusal) {
    case JwtRefusal::missing:
      return "the gateway requires a token: pass --token-source (github-oidc, entra) or --token-file";
    case JwtRefusal::expired:
      return "the gateway found the token expired: kfp-publish renews github-oidc and entra tokens before "
             "they expire and re-reads token files, so check this machine's clock and the file's rotation";
    case JwtRefusal::not_yet_valid:
      return "the token's nbf is ahead of the gateway's clock: check the clocks";
    case JwtRefusal::unknown_issuer:
      return fmt::format(
          "no RequestAuthentication on the Kubeflow gateway trusts the issuer {}: add a jwtRule with issuer: "
          "{} "
          "(and its audiences) to the istio-ingressgateway's RequestAuthentication (the istio-m2m component, "
          "README \"From outside the cluster\"), or use a token from an issuer it trusts. With several "
          "jwtRules, "
          "Envoy reports the first rule's verdict, so a token of a later issuer that fails any check reads "
          "the "
          "same: `kfp-publish doctor` checks the issuer, audience and expiry itself",
          issuer_of(identity), issuer_of(identity));
    case JwtRefusal::audience:
      return fmt::format(
          "the gateway's RequestAuthentication for {} lists audiences that the token's aud [{}] does not "
          "hold: "
          "request the token for one of them with --token-audience (KFP_TOKEN_AUDIENCE), or add the audience "
          "to the jwtRule",
          issuer_of(identity), audiences_of(identity));
    case JwtRefusal::verification:
      return fmt::format(
          "the token's signature does not verify with the keys the gateway has for {}: its jwtRule's jwksUri "
          "must be that issuer's (from its /.well-known/openid-configuration), not another issuer's",
          issuer_of(identity));
    case JwtRefusal::key_mismatch:
      return fmt::format(
          "the gateway's key set for {} has no key with the token's kid: the jwtRule's jwksUri points at "
          "another key set, or the gateway's cached keys are older than the issuer's rotation (Istio "
          "refreshes "
          "them every 20 minutes by default)",
          issuer_of(identity));
    case JwtRefusal::jwks_unavailable:
      return fmt::format(
          "the gateway could not fetch the key set of {}: check that istiod reaches its jwksUri",
          issuer_of(identity));
    case JwtRefusal::malformed: break;
  }
  return "the gateway could not read the token as a JWT: check the token source";
}

util::ErrorKind jwt_kind(JwtRefusal refusal) {
  switch (refusal) {
    case JwtRefusal::expired: return util::ErrorKind::token_expired;
    case JwtRefusal::audience: return util::ErrorKind::wrong_audience;
    default: return util::ErrorKind::unauthenticated;
  }
}

// oauth2-proxy's and Dex's sign-in paths (kubeflow/manifests common/oauth2-proxy: oauth2_proxy.cfg
// login_url "/dex/auth", the proxy prefix "/oauth2/").
bool is_sign_in(std::string_view location) {
  for (std::string_view marker : {"/oauth2/", "/dex/", "sign_in"}) {
    if (location.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::optional<JwtRefusal> jwt_refusal(std::string_view body) {
  const std::string text = trimmed(body);
  for (const auto& status : jwt_statuses) {
    if (text == status.text) return status.refusal;
  }
  // The other jwt_verify_lib statuses all start so ("Jwt header [alg] field is not a string", ...).
  if (boost::algorithm::starts_with(text, "Jwt ") || boost::algorithm::starts_with(text, "Jwks ")) {
    return JwtRefusal::malformed;
  }
  return std::nullopt;
}

std::optional<util::Failure> classify_gateway_refusal(const http::Response& response, const Caller& caller,
                                                      std::string_view what) {
  const int status = response.status;
  util::Failure failure;
  failure.http_status = status;
  if (status >= 300 && status < 400) {
    const std::string location = response.headers.get("location").value_or("");
    if (!is_sign_in(location)) return std::nullopt;
    failure.kind = util::ErrorKind::unauthenticated;
    failure.message = fmt::format(
        "{}: the gateway did not accept this token: HTTP {} to the sign-in page {} (oauth2-proxy; the "
        "redirect "
        "is not followed)",
        what, status, location.substr(0, 200));
    failure.hint =
        "the Kubeflow gateway sends requests without an accepted bearer token to oauth2-proxy's browser "
        "sign-in: send a token (--token-source github-oidc or entra, or --token-file), and enable machine "
        "tokens on the gateway (the istio-m2m component, e.g. the m2m-dex-and-eks overlay, with a "
        "RequestAuthentication for the token's issuer; README \"From outside the cluster\")";
    return failure;
  }
  if (status != 401 && status != 403) return std::nullopt;
  if (auto refusal = jwt_refusal(response.body)) {
    failure.kind = jwt_kind(*refusal);
    failure.message =
        fmt::format("{}: HTTP {} from the Kubeflow gateway's JWT check (Istio RequestAuthentication): {}",
                    what, status, trimmed(response.body));
    failure.hint = jwt_hint(*refusal, caller.identity);
    return failure;
  }
  if (status == 403 && boost::algorithm::icontains(response.body, "rbac: access denied") &&
      !caller.identity.subject.empty() && !is_service_account(caller.identity.subject)) {
    failure.kind = util::ErrorKind::istio_denied;
    failure.message = fmt::format(
        "{}: HTTP 403 from the Istio mesh (RBAC: access denied): an AuthorizationPolicy refused the request "
        "before KFP saw it",
        what);
    failure.hint = fmt::format(
        "at the gateway, istio-ingressgateway-require-jwt denies requests without a verified token "
        "(requestPrincipals): a RequestAuthentication must accept tokens of {}; behind it, the "
        "ml-pipeline-ui "
        "policy admits requests from the ingress gateway with the kubeflow-userid it writes "
        "(kubeflow/manifests "
        "common/oauth2-proxy/components/istio-external-auth, applications/pipeline multi-user "
        "istio-authorization-config.yaml)",
        issuer_of(caller.identity));
    return failure;
  }
  return std::nullopt;
}

std::string denied_user(std::string_view message) {
  constexpr std::string_view start = "User '";
  constexpr std::string_view end = "' is not authorized";
  const auto from = message.find(start);
  if (from == std::string_view::npos) return {};
  const auto to = message.find(end, from + start.size());
  if (to == std::string_view::npos) return {};
  return std::string(message.substr(from + start.size(), to - from - start.size()));
}

std::string user_rolebinding_yaml(std::string_view user, std::string_view namespace_name) {
  std::string quoted;
  for (char c : user) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  return fmt::format(
      "apiVersion: rbac.authorization.k8s.io/v1\n"
      "kind: RoleBinding\n"
      "metadata:\n"
      "  name: {}\n"
      "  namespace: {}\n"
      "roleRef:\n"
      "  apiGroup: rbac.authorization.k8s.io\n"
      "  kind: ClusterRole\n"
      "  name: kubeflow-edit\n"
      "subjects:\n"
      "- apiGroup: rbac.authorization.k8s.io\n"
      "  kind: User\n"
      "  name: \"{}\"\n",
      binding_name(user), namespace_name, quoted);
}

}  // namespace kfp::api
