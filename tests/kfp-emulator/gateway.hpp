#pragma once
// `kfp-emulator --gateway FILE`: the Kubeflow ingress gateway in front of the API server, as an
// API client outside the cluster meets it (Kubeflow manifests v1.9.1-v1.11.0, FIDELITY.md section
// 14 "Gateway"):
//   1. Istio's RequestAuthentication, i.e. Envoy's jwt_authn filter: the bearer token verified
//      against the trusted issuers' JWKS (fetched from jwksUri or the issuer's discovery document),
//      the failure answered 401/403 with jwt_verify_lib's status text, a verified token's claims
//      written to headers (outputClaimToHeaders: sub -> kubeflow-userid);
//   2. the CUSTOM AuthorizationPolicy that sends requests without an Authorization header to
//      oauth2-proxy, which answers them as Kubeflow's oauth2_proxy.cfg makes it (or, with
//      --gateway-login redirect, a front door that redirects to its sign-in page);
//   3. the DENY AuthorizationPolicy istio-ingressgateway-require-jwt: 403 "RBAC: access denied"
//      for a request with no verified JWT;
//   4. the ml-pipeline-ui VirtualService (prefix /pipeline) and the UI server's proxy, which takes
//      the /pipeline prefix off before the API server, where KFP authorizes the kubeflow-userid
//      subject (--auth token, --rbac).

#include "app.hpp"
#include "message.hpp"
#include "options.hpp"
#include "server.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kfp::emulator {

// One entry of RequestAuthentication.spec.jwtRules (security.istio.io/v1beta1), the fields the
// Kubeflow manifests use.
struct JwtRule {
  std::string issuer;
  std::vector<std::string> audiences;  // empty: the token's aud is not checked
  std::string jwks_uri;                // empty: {issuer}/.well-known/openid-configuration's jwks_uri
  bool forward_original_token = false;
  std::vector<std::pair<std::string, std::string>> output_claim_to_headers;  // header, claim
  std::vector<std::pair<std::string, std::string>> from_headers;             // name, prefix
};

// The jwtRules of every RequestAuthentication document in `files` (multi-document YAML; other
// kinds are skipped), in file, document and rule order. Throws util::Error (usage).
[[nodiscard]] std::vector<JwtRule> load_jwt_rules(const std::vector<std::string>& files);

// An RSA public key from a JWK (kty RSA, n, e).
class JwkKey {
 public:
  // nullopt when the JWK is not an RSA key jwt_verify_lib would load.
  [[nodiscard]] static std::optional<JwkKey> from_jwk(const boost::json::object& jwk);
  [[nodiscard]] const std::string& kid() const { return kid_; }
  [[nodiscard]] const std::string& alg() const { return alg_; }
  [[nodiscard]] bool verify(std::string_view data, std::string_view signature) const;

 private:
  std::string kid_, alg_;
  std::shared_ptr<void> key_;  // EVP_PKEY
};

// The outcome of jwt_authn for one request (jwt_verify_lib Status, src/status.cc).
enum class JwtStatus {
  ok,
  missing,  // no token in the configured locations (allowed: Istio adds allow_missing)
  bad_format,
  header_parse_error,
  header_bad_alg,
  payload_parse_error,
  signature_parse_error,
  unknown_issuer,
  not_yet_valid,
  expired,
  audience_not_allowed,
  kid_alg_mismatch,
  verification_fail,
};
[[nodiscard]] std::string_view status_text(JwtStatus status);

struct JwtVerdict {
  JwtStatus status = JwtStatus::missing;
  std::size_t rule = 0;        // the rule that verified the token (status ok)
  boost::json::object claims;  // the verified token's payload
  std::string header_name;     // where the token was found
};

enum class LoginMode { oauth2_proxy, redirect };

struct GatewaySettings {
  std::vector<JwtRule> rules;
  LoginMode login = LoginMode::oauth2_proxy;
  // Envoy JwtProvider.clock_skew_seconds; Istio leaves it unset, so jwt_verify_lib's 60 s holds.
  std::int64_t clock_skew_seconds = 60;
};

class Gateway : public Handler {
 public:
  // Loads the rules and fetches each issuer's JWKS (as istiod does before it configures the
  // gateway). Throws util::Error (usage) when a file, discovery document or JWKS cannot be read.
  Gateway(const Options& options, GatewaySettings settings);

  [[nodiscard]] std::chrono::milliseconds request_latency(const Request& request) const override;
  void handle(Request request, Respond respond) override;

  // jwt_authn's verdict for the request's token at `now` (the Envoy requirement Istio builds from
  // the rules: any one provider, or allow_missing; FIDELITY.md 14).
  [[nodiscard]] JwtVerdict verify(const Request& request, std::chrono::system_clock::time_point now) const;

 private:
  // The gateway's own answer (a refusal), or nullopt when the request goes on to the UI server;
  // sets the claim headers on `request`.
  std::optional<Reply> answer(Request& request);

  GatewaySettings settings_;
  std::vector<std::vector<JwkKey>> keys_;  // per rule
  App app_;
};

}  // namespace kfp::emulator
