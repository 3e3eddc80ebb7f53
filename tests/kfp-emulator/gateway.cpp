#include "gateway.hpp"

#include "errors.hpp"
#include "jwt.hpp"

#include "http/transport.hpp"
#include "util/base64.hpp"
#include "util/error.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include <algorithm>
#include <random>
#include <regex>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

// Envoy's remote JWKS fetch timeout as Istio configures it (policy_applier.go: Timeout 5s).
constexpr util::Milliseconds jwks_fetch_timeout{5000};

std::vector<std::pair<std::string, std::string>> pairs_of(const YAML::Node& list, const char* first,
                                                          const char* second) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!list || !list.IsSequence()) return out;
  for (const auto& item : list)
    out.emplace_back(item[first].as<std::string>(""), item[second].as<std::string>(""));
  return out;
}

JwtRule parse_rule(const YAML::Node& node, const std::string& file) {
  JwtRule rule;
  rule.issuer = node["issuer"].as<std::string>("");
  if (rule.issuer.empty()) throw util::Error(util::ErrorKind::usage, file + ": a jwtRule has no issuer");
  if (node["audiences"] && node["audiences"].IsSequence())
    for (const auto& audience : node["audiences"]) rule.audiences.push_back(audience.as<std::string>());
  rule.jwks_uri = node["jwksUri"].as<std::string>("");
  rule.forward_original_token = node["forwardOriginalToken"].as<bool>(false);
  rule.output_claim_to_headers = pairs_of(node["outputClaimToHeaders"], "header", "claim");
  for (auto& [header, claim] : rule.output_claim_to_headers)
    std::transform(header.begin(), header.end(), header.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  rule.from_headers = pairs_of(node["fromHeaders"], "name", "prefix");
  // Envoy's default location when none is given: "Authorization: Bearer <token>".
  if (rule.from_headers.empty()) rule.from_headers.emplace_back("Authorization", "Bearer ");
  for (auto& [name, prefix] : rule.from_headers)
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return rule;
}

// GET `url`; the body of a 200, else util::Error (usage) naming what failed.
std::string fetch(http::Transport& transport, const std::string& url, const std::string& what) {
  http::Request request;
  request.url = url;
  request.within = jwks_fetch_timeout;
  auto response = transport.send(request);
  if (!response)
    throw util::Error(util::ErrorKind::usage,
                      "cannot fetch " + what + " " + url + ": " + response.error().message);
  if (response->status != 200)
    throw util::Error(util::ErrorKind::usage,
                      "cannot fetch " + what + " " + url + ": HTTP " + std::to_string(response->status));
  return response->body;
}

json::object parse_object(const std::string& text, const std::string& what) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) throw util::Error(util::ErrorKind::usage, what + " is not a JSON object");
  return value.as_object();
}

std::string string_member(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string{};
}

// Istio's JwtKeyResolver: the jwksUri, else the issuer's discovery document's jwks_uri.
std::vector<JwkKey> resolve_keys(http::Transport& transport, const JwtRule& rule) {
  std::string jwks_uri = rule.jwks_uri;
  if (jwks_uri.empty()) {
    std::string discovery = rule.issuer;
    while (!discovery.empty() && discovery.back() == '/') discovery.pop_back();
    discovery += "/.well-known/openid-configuration";
    jwks_uri =
        string_member(parse_object(fetch(transport, discovery, "discovery document"), discovery), "jwks_uri");
    if (jwks_uri.empty()) throw util::Error(util::ErrorKind::usage, discovery + " has no jwks_uri");
  }
  auto jwks = parse_object(fetch(transport, jwks_uri, "JWKS"), jwks_uri);
  std::vector<JwkKey> keys;
  if (const auto* list = jwks.if_contains("keys"); list != nullptr && list->is_array())
    for (const auto& item : list->as_array())
      if (item.is_object())
        if (auto key = JwkKey::from_jwk(item.as_object())) keys.push_back(std::move(*key));
  if (keys.empty()) throw util::Error(util::ErrorKind::usage, jwks_uri + " holds no RSA key");
  return keys;
}

struct FreeKey {
  void operator()(void* key) const { EVP_PKEY_free(static_cast<EVP_PKEY*>(key)); }
};

// A token as jwt_verify_lib's Jwt::parseFromString reads it.
struct ParsedJwt {
  JwtStatus status = JwtStatus::ok;
  std::string alg, kid, iss;
  std::vector<std::string> audiences;
  std::int64_t exp = 0, nbf = 0;
  json::object claims;
  std::string signing_input, signature;
};

std::int64_t number_of(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (value == nullptr) return 0;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64())
    return static_cast<std::int64_t>(std::min<std::uint64_t>(value->as_uint64(), INT64_MAX));
  if (value->is_double()) return static_cast<std::int64_t>(value->as_double());
  return 0;
}

ParsedJwt parse_jwt(std::string_view token) {
  ParsedJwt jwt;
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    jwt.status = JwtStatus::bad_format;
    return jwt;
  }
  auto header = decode_segment(token.substr(0, first));
  if (!header) {
    jwt.status = JwtStatus::header_parse_error;
    return jwt;
  }
  const auto* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    jwt.status = JwtStatus::header_bad_alg;
    return jwt;
  }
  jwt.alg = std::string(alg->as_string());
  jwt.kid = string_member(*header, "kid");
  auto payload = decode_segment(token.substr(first + 1, second - first - 1));
  if (!payload) {
    jwt.status = JwtStatus::payload_parse_error;
    return jwt;
  }
  jwt.claims = std::move(*payload);
  jwt.iss = string_member(jwt.claims, "iss");
  if (const auto* aud = jwt.claims.if_contains("aud")) {
    if (aud->is_string()) jwt.audiences.emplace_back(aud->as_string());
    if (aud->is_array())
      for (const auto& item : aud->as_array())
        if (item.is_string()) jwt.audiences.emplace_back(item.as_string());
  }
  jwt.exp = number_of(jwt.claims, "exp");
  jwt.nbf = number_of(jwt.claims, "nbf");
  auto signature = util::base64url_decode(token.substr(second + 1));
  if (!signature) {
    jwt.status = JwtStatus::signature_parse_error;
    return jwt;
  }
  jwt.signature = std::move(*signature);
  jwt.signing_input = std::string(token.substr(0, second));
  return jwt;
}

// jwt_verify_lib check_audience.cc: "http://" / "https://" prefixes and a trailing '/' are ignored.
std::string sanitize_audience(std::string audience) {
  for (std::string_view prefix : {"http://", "https://"})
    if (audience.starts_with(prefix)) {
      audience.erase(0, prefix.size());
      break;
    }
  if (!audience.empty() && audience.back() == '/') audience.pop_back();
  return audience;
}

bool audiences_allowed(const JwtRule& rule, const std::vector<std::string>& audiences) {
  if (rule.audiences.empty()) return true;
  for (const auto& allowed : rule.audiences)
    for (const auto& audience : audiences)
      if (sanitize_audience(allowed) == sanitize_audience(audience)) return true;
  return false;
}

// The token in the rule's locations (fromHeaders), or empty. extractor.cc extract: the prefix may
// stand anywhere in the value (case-sensitive); the token is the run of base64url characters and
// dots after it, or the whole value when there is none (extractJWT).
std::string extract_token(const Request& request, const JwtRule& rule, std::string* header_name) {
  constexpr std::string_view token_characters =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
  for (const auto& [name, prefix] : rule.from_headers) {
    auto value = request.header(name);
    if (!value) continue;
    auto at = value->find(prefix);
    if (at == std::string::npos) continue;
    if (header_name != nullptr) *header_name = name;
    auto start = value->find_first_of(token_characters, at + prefix.size());
    if (start == std::string::npos) return *value;
    auto end = value->find_first_not_of(token_characters, start);
    return value->substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  return {};
}

// Envoy's authenticator.cc startVerify for one provider, in its order: issuer, time, audience, key.
JwtStatus check_against(const ParsedJwt& jwt, const JwtRule& rule, const std::vector<JwkKey>& keys,
                        std::int64_t now, std::int64_t clock_skew_seconds) {
  if (jwt.iss != rule.issuer) return JwtStatus::unknown_issuer;
  if (now + clock_skew_seconds < jwt.nbf) return JwtStatus::not_yet_valid;
  if (jwt.exp != 0 && now > jwt.exp + clock_skew_seconds) return JwtStatus::expired;
  if (!audiences_allowed(rule, jwt.audiences)) return JwtStatus::audience_not_allowed;
  // verify.cc: keys whose kid or alg differ are skipped; none left is a kid/alg mismatch.
  bool matched = false;
  for (const auto& key : keys) {
    if (!jwt.kid.empty() && !key.kid().empty() && key.kid() != jwt.kid) continue;
    if (!jwt.alg.starts_with("RS") || (!key.alg().empty() && key.alg() != jwt.alg)) continue;
    matched = true;
    if (jwt.alg == "RS256" && key.verify(jwt.signing_input, jwt.signature)) return JwtStatus::ok;
  }
  return matched ? JwtStatus::verification_fail : JwtStatus::kid_alg_mismatch;
}

// What Envoy copies into a header for a claim (authenticator.cc addJWTClaimToHeader).
std::string claim_header_value(const json::value& value) {
  if (value.is_string()) return std::string(value.as_string());
  if (value.is_bool()) return value.as_bool() ? "true" : "false";
  if (value.is_int64()) return std::to_string(value.as_int64());
  if (value.is_uint64()) return std::to_string(value.as_uint64());
  if (value.is_double()) return json::serialize(value);
  if (value.is_object() || value.is_array()) return util::base64_encode(json::serialize(value));
  return {};
}

Reply envoy_local_reply(int status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.content_type = "text/plain";
  reply.body = std::move(body);
  reply.headers.emplace_back("server", "istio-envoy");
  return reply;
}

// oauth2_proxy.cfg (Kubeflow v1.9.1-v1.11.0, common/oauth2-proxy/base) api_routes, matched as
// unanchored regular expressions against the path (oauthproxy.go isAPIPath).
bool is_api_path(const std::string& path) {
  static const std::vector<std::regex> routes = {std::regex("/api/"), std::regex("/apis/"),
                                                 std::regex("^/ml_metadata")};
  return std::any_of(routes.begin(), routes.end(),
                     [&](const auto& route) { return std::regex_search(path, route); });
}

// oauthproxy.go isAjax: an Accept value (comma-separated) that is exactly application/json.
bool is_ajax(const Request& request) {
  auto accept = request.header("accept");
  if (!accept) return false;
  std::size_t start = 0;
  while (start <= accept->size()) {
    auto comma = accept->find(',', start);
    auto item = accept->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto begin = item.find_first_not_of(" \t");
    auto end = item.find_last_not_of(" \t");
    if (begin != std::string::npos && item.substr(begin, end - begin + 1) == "application/json") return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

std::string random_hex(std::size_t length) {
  std::random_device device;
  std::uniform_int_distribution<int> digit(0, 15);
  std::string out(length, '0');
  for (char& c : out) c = "0123456789abcdef"[digit(device)];
  return out;
}

// The oauth2-proxy answer to a request that reached it without a session (oauthproxy.go Proxy,
// case ErrNeedsLogin), or the redirecting front door of --gateway-login redirect.
Reply login_answer(const Request& request, LoginMode mode) {
  if (mode == LoginMode::oauth2_proxy) {
    if (is_ajax(request) || is_api_path(request.path)) {
      Reply reply;  // errorJSON(rw, 401)
      reply.status = 401;
      reply.content_type = "application/json";
      reply.body = "{}";
      return reply;
    }
    // skip_provider_button = false: SignInPage(rw, req, http.StatusForbidden).
    Reply reply;
    reply.status = 403;
    reply.content_type = "text/html; charset=utf-8";
    reply.body =
        "<!DOCTYPE html>\n<html lang=\"en\" charset=\"utf-8\">\n<head><title>Sign In</title></head>\n<body>\n"
        "<form method=\"GET\" action=\"/oauth2/start\"><input type=\"hidden\" name=\"rd\" value=\"" +
        request.path + "\"><button type=\"submit\">Sign in with Dex</button></form>\n</body>\n</html>\n";
    return reply;
  }
  // A front door that starts the login for every request: 302 to the provider's sign-in page, as
  // oauth2-proxy's doOAuthStart does with skip_provider_button = true (login_url /dex/auth,
  // redirect_url /oauth2/callback in oauth2_proxy.cfg), with the CSRF cookie it sets.
  auto state = random_hex(32);
  Reply reply;
  reply.status = 302;
  reply.content_type = "text/html; charset=utf-8";
  std::string location =
      "/dex/auth?approval_prompt=force&client_id=kubeflow-oidc-authservice&redirect_uri=%2Foauth2%2Fcallback"
      "&response_type=code&scope=profile+email+groups+openid&state=" +
      state + "%3A" + request.path;
  reply.headers.emplace_back("Location", location);
  reply.headers.emplace_back("Set-Cookie", "oauth2_proxy_kubeflow_csrf=" + state +
                                               "; Path=/; Expires=0; HttpOnly; Secure; SameSite=Lax");
  reply.body = "<a href=\"" + location + "\">Found</a>.\n\n";
  return reply;
}

}  // namespace

std::vector<JwtRule> load_jwt_rules(const std::vector<std::string>& files) {
  std::vector<JwtRule> rules;
  for (const auto& file : files) {
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAllFromFile(file);
    } catch (const std::exception& error) {
      throw util::Error(util::ErrorKind::usage, "cannot read gateway file " + file + ": " + error.what());
    }
    for (const auto& document : documents) {
      if (!document.IsMap() || document["kind"].as<std::string>("") != "RequestAuthentication") continue;
      const auto& list = document["spec"]["jwtRules"];
      if (!list || !list.IsSequence()) continue;
      for (const auto& node : list) rules.push_back(parse_rule(node, file));
    }
  }
  if (rules.empty())
    throw util::Error(util::ErrorKind::usage,
                      "--gateway: no RequestAuthentication jwtRules in the files given");
  return rules;
}

std::optional<JwkKey> JwkKey::from_jwk(const json::object& jwk) {
  if (string_member(jwk, "kty") != "RSA") return std::nullopt;
  auto n = util::base64url_decode(string_member(jwk, "n"));
  auto e = util::base64url_decode(string_member(jwk, "e"));
  if (!n || !e || n->empty() || e->empty()) return std::nullopt;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> modulus(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr),
      BN_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> exponent(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr),
      BN_free);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                          OSSL_PARAM_BLD_free);
  if (!modulus || !exponent || !builder ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1)
    return std::nullopt;
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(builder.get()),
                                                                 OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return std::nullopt;
  JwkKey result;
  result.kid_ = string_member(jwk, "kid");
  result.alg_ = string_member(jwk, "alg");
  result.key_ = std::shared_ptr<void>(key, FreeKey{});
  return result;
}

bool JwkKey::verify(std::string_view data, std::string_view signature) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr,
                                       static_cast<EVP_PKEY*>(key_.get())) != 1)
    return false;
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

std::string_view status_text(JwtStatus status) {
  // jwt_verify_lib src/status.cc getStatusString.
  switch (status) {
    case JwtStatus::ok: return "OK";
    case JwtStatus::missing: return "Jwt is missing";
    case JwtStatus::bad_format: return "Jwt is not in the form of Header.Payload.Signature";
    case JwtStatus::header_parse_error: return "Jwt header is an invalid Base64url input or an invalid JSON";
    case JwtStatus::header_bad_alg: return "Jwt header [alg] field is not a string";
    case JwtStatus::payload_parse_error: return "Jwt payload is an invalid Base64 or an invalid JSON";
    case JwtStatus::signature_parse_error: return "Jwt signature is an invalid Base64";
    case JwtStatus::unknown_issuer: return "Jwt issuer is not configured";
    case JwtStatus::not_yet_valid: return "Jwt not yet valid";
    case JwtStatus::expired: return "Jwt is expired";
    case JwtStatus::audience_not_allowed: return "Audiences in Jwt are not allowed";
    case JwtStatus::kid_alg_mismatch: return "Jwks doesn't have key to match kid or alg from Jwt";
    case JwtStatus::verification_fail: return "Jwt verification fails";
  }
  return {};
}

Gateway::Gateway(const Options& options, GatewaySettings settings)
    : settings_(std::move(settings)), app_(options) {
  http::TransportOptions transport_options;
  transport_options.timeout = jwks_fetch_timeout;
  transport_options.user_agent = "istiod";
  auto transport = http::make_beast_transport(transport_options);
  for (const auto& rule : settings_.rules) keys_.push_back(resolve_keys(*transport, rule));
}

std::chrono::milliseconds Gateway::request_latency(const Request& request) const {
  return app_.request_latency(request);
}

JwtVerdict Gateway::verify(const Request& request, std::chrono::system_clock::time_point now) const {
  const auto& rules = settings_.rules;
  JwtVerdict verdict;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  // Istio (pilot/pkg/security/authn/policy_applier.go) requires, for rules P1..Pn:
  //   n = 1: any of {P1, allow_missing};  n > 1: any of {P1, ..., Pn, all of {any of {Pk, allow_missing}}}.
  // So a token passes when one provider verifies it; otherwise the answer is the status of the
  // last group Envoy completes (verifier.cc AnyVerifierImpl), the first Pk that failed for a
  // reason other than a missing token.
  std::optional<JwtStatus> first_failure;
  for (std::size_t k = 0; k < rules.size(); ++k) {
    std::string header_name;
    auto token = extract_token(request, rules[k], &header_name);
    if (token.empty()) continue;  // JwtMissed for Pk; allow_missing accepts it
    auto jwt = parse_jwt(token);
    auto status = jwt.status != JwtStatus::ok
                      ? jwt.status
                      : check_against(jwt, rules[k], keys_[k], seconds, settings_.clock_skew_seconds);
    if (status == JwtStatus::ok) {
      verdict.status = JwtStatus::ok;
      verdict.rule = k;
      verdict.claims = std::move(jwt.claims);
      verdict.header_name = header_name;
      return verdict;
    }
    if (!first_failure) first_failure = status;
  }
  verdict.status = first_failure.value_or(JwtStatus::missing);
  return verdict;
}

void Gateway::handle(Request request, Respond respond) {
  if (request.path.starts_with("/_emulator/")) return app_.handle(std::move(request), std::move(respond));
  auto reply = answer(request);
  if (reply) return respond(std::move(*reply));
  // The UI server's proxy (frontend/server app.ts: the API under BASEPATH /pipeline) takes the
  // prefix off before the API server sees the path.
  auto target = request.target.substr(std::string_view("/pipeline").size());
  Request forwarded =
      make_request(request.method, target.empty() || target.front() != '/' ? "/" + target : target);
  forwarded.headers = std::move(request.headers);
  forwarded.body = std::move(request.body);
  app_.handle(std::move(forwarded), std::move(respond));
}

std::optional<Reply> Gateway::answer(Request& request) {
  const auto& rules = settings_.rules;
  auto now = std::chrono::system_clock::now();
  auto verdict = verify(request, now);
  // The request log shows the gateway's own answers too, marked "gateway" where the API server's
  // entries name an injected fault, with the path as the client sent it.
  auto log_refusal = [&](Reply reply) {
    app_.control().log(LoggedRequest{request.method, request.path, request.query, reply.status, "gateway"});
    return reply;
  };
  // extractor.cc sanitizeHeaders: the claim headers a client sent are removed first, so
  // no one can name themselves in kubeflow-userid.
  for (const auto& rule : rules)
    for (const auto& [header, claim] : rule.output_claim_to_headers) request.headers.erase(header);
  if (verdict.status != JwtStatus::ok && verdict.status != JwtStatus::missing) {
    // filter.cc onComplete: 403 for an audience not allowed, else 401; the status text as body
    // and WWW-Authenticate naming the original URI.
    auto reply = envoy_local_reply(verdict.status == JwtStatus::audience_not_allowed ? 403 : 401,
                                   std::string(status_text(verdict.status)));
    std::string scheme = app_.options().tls_cert_file.empty() ? "http" : "https";
    reply.headers.emplace_back("www-authenticate", "Bearer realm=\"" + scheme + "://" +
                                                       request.header("host").value_or("") + request.target +
                                                       "\", error=\"invalid_token\"");
    return log_refusal(std::move(reply));
  }
  bool has_principal = verdict.status == JwtStatus::ok;
  if (has_principal) {
    const auto& rule = rules[verdict.rule];
    for (const auto& [header, claim] : rule.output_claim_to_headers)
      if (const auto* value = verdict.claims.if_contains(claim))
        if (auto text = claim_header_value(*value); !text.empty()) request.headers[header] = text;
    if (!rule.forward_original_token) request.headers.erase(verdict.header_name);
  }
  // AuthorizationPolicy istio-ingressgateway-oauth2-proxy (CUSTOM): requests WITHOUT an
  // Authorization header, outside /dex/ and /oauth2/, are checked by oauth2-proxy, which keeps no
  // session for the emulator's clients.
  bool excluded = request.path.starts_with("/dex/") || request.path.starts_with("/oauth2/");
  if (!request.header("authorization") && !excluded)
    return log_refusal(login_answer(request, settings_.login));
  // AuthorizationPolicy istio-ingressgateway-require-jwt (DENY): notRequestPrincipals ["*"].
  if (!has_principal && !excluded) return log_refusal(envoy_local_reply(403, "RBAC: access denied"));
  // VirtualService ml-pipeline-ui: prefix /pipeline (a string prefix, as Envoy matches it). Any
  // other path belongs to routes the emulator does not have: Envoy's 404 for no route.
  if (!request.path.starts_with("/pipeline")) {
    auto reply = envoy_local_reply(404, "");
    reply.content_type.clear();
    return log_refusal(std::move(reply));
  }
  return std::nullopt;
}

}  // namespace kfp::emulator
