#include "auth.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace kfp::emulator {

namespace {

std::vector<RbacRule> load_rules(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& error) {
    throw util::Error(util::ErrorKind::usage, "cannot read RBAC file " + path + ": " + error.what());
  }
  if (root.IsMap() && root["rules"]) root = root["rules"];
  if (!root.IsSequence())
    throw util::Error(util::ErrorKind::usage, "RBAC file " + path + " must be a list of rules");
  std::vector<RbacRule> rules;
  for (const auto& node : root) {
    RbacRule rule;
    rule.subject = node["subject"].as<std::string>("");
    rule.ns = node["namespace"].as<std::string>("");
    if (node["allow"] && node["allow"].IsSequence())
      for (const auto& item : node["allow"]) rule.allow.push_back(item.as<std::string>());
    rules.push_back(std::move(rule));
  }
  return rules;
}

constexpr std::string_view bearer_prefix = "Bearer ";

std::string bearer_token(const Request& request) {
  auto header = request.header("authorization");
  if (!header || !header->starts_with(bearer_prefix)) return {};
  return header->substr(bearer_prefix.size());
}

// "system:serviceaccount:NS:SA" -> NS
std::string subject_namespace(const std::string& subject) {
  constexpr std::string_view prefix = "system:serviceaccount:";
  if (!subject.starts_with(prefix)) return {};
  auto rest = subject.substr(prefix.size());
  return rest.substr(0, rest.find(':'));
}

std::string principal_of(const std::string& subject) {
  constexpr std::string_view prefix = "system:serviceaccount:";
  if (!subject.starts_with(prefix)) return {};
  auto rest = subject.substr(prefix.size());
  auto colon = rest.find(':');
  if (colon == std::string::npos) return {};
  return "cluster.local/ns/" + rest.substr(0, colon) + "/sa/" + rest.substr(colon + 1);
}

// auth/auth.go IdentityHeaderMissingError: NewUnauthenticatedError(errors.New(m), m).Error().
const std::string header_missing =
    "Unauthenticated: Request header error: there is no user identity header.: Request header error: "
    "there is no user identity header.";

// The status.error a Kubernetes TokenReview reports for a token it does not accept. Kubernetes'
// wording (not KFP's); KFP only embeds it in the internal chain.
std::string token_review_error(TokenVerdict verdict) {
  switch (verdict) {
    case TokenVerdict::valid: return {};
    case TokenVerdict::malformed:
      return "[invalid bearer token, square/go-jose: compact JWS format must have three parts]";
    case TokenVerdict::bad_signature:
      return "[invalid bearer token, square/go-jose: error in cryptographic primitive]";
    case TokenVerdict::expired: return "[invalid bearer token, service account token has expired]";
    case TokenVerdict::not_yet_valid: return "[invalid bearer token, service account token is not valid yet]";
    case TokenVerdict::wrong_audience:
      return "[invalid bearer token, token audiences is invalid for the target audiences "
             "[\"pipelines.kubeflow.org\"]]";
  }
  return {};
}

// utilerrors.NewAggregate(...).Error(): one distinct message alone, several as "[a, b]".
std::string aggregate(const std::vector<std::string>& errors) {
  std::vector<std::string> distinct;
  for (const auto& error : errors)
    if (std::find(distinct.begin(), distinct.end(), error) == distinct.end()) distinct.push_back(error);
  if (distinct.size() == 1) return distinct.front();
  std::string out = "[";
  for (std::size_t i = 0; i < distinct.size(); ++i) out += (i ? ", " : "") + distinct[i];
  return out + "]";
}

}  // namespace

std::string resource_attributes(std::string_view ns, std::string_view verb, std::string_view resource,
                                std::string_view name) {
  return "&ResourceAttributes{Namespace:" + std::string(ns) + ",Verb:" + std::string(verb) +
         ",Group:pipelines.kubeflow.org,Version:v1beta1,Resource:" + std::string(resource) +
         ",Subresource:,Name:" + std::string(name) + ",}";
}

Authenticator::Authenticator(const Options& options)
    : multi_user_(options.auth == AuthMode::token),
      version_(options.version),
      principals_(options.istio_principals) {
  if (!options.token_key_file.empty()) key_ = RsaKey::load(options.token_key_file).value();
  if (multi_user_ && !key_) throw util::Error(util::ErrorKind::usage, "--auth token needs --token-key FILE");
  if (!options.rbac_file.empty()) rules_ = load_rules(options.rbac_file);
}

bool Authenticator::istio_denies(const Request& request) const {
  if (principals_.empty()) return false;
  auto principal = principal_of(unverified_subject(bearer_token(request)));
  return principal.empty() ||
         std::find(principals_.begin(), principals_.end(), principal) == principals_.end();
}

std::variant<Identity, AuthFailure> Authenticator::identify(const Request& request, Time now,
                                                            IdentitySources sources) const {
  std::vector<std::string> errors;
  // auth/authenticator_http_headers.go: the header's value is the identity, unverified.
  if (auto user = request.header(std::string(user_id_header)))
    return Identity{*user, subject_namespace(*user)};
  errors.push_back(header_missing);
  if (sources == IdentitySources::header_only) return AuthFailure{aggregate(errors)};
  // auth/authenticator_token_review.go: "Authorization" with prefix "Bearer ".
  auto header = request.header("authorization");
  if (!header) {
    errors.push_back(header_missing);
  } else if (!header->starts_with(bearer_prefix)) {
    std::string message = "Header 'Authorization' is incorrectly formatted. Expected prefix 'Bearer '";
    errors.push_back("BadRequestError: " + message + ": " + message);
  } else {
    auto check = verify_token(*key_, header->substr(bearer_prefix.size()), now);
    if (check.verdict == TokenVerdict::valid)
      return Identity{check.subject, subject_namespace(check.subject)};
    // 2.x adds the review's status.error to the message (authenticator_token_review.go:92-97).
    std::string status = is_v1_server(version_) ? "Review.Status.Authenticated is false"
                                                : "Review.Status.Authenticated is false. Error " +
                                                      token_review_error(check.verdict);
    errors.push_back("Authentication failure: Unauthenticated: " + status +
                     ": Failed to authenticate token review");
  }
  return AuthFailure{aggregate(errors)};
}

std::optional<ApiError> Authenticator::review(const Identity& identity, std::string_view resource,
                                              std::string_view verb, const std::string& ns) const {
  std::string permission = std::string(resource) + "/" + std::string(verb);
  bool allowed = false;
  if (rules_) {
    for (const auto& rule : *rules_) {
      if (rule.subject != identity.subject || (rule.ns != "*" && rule.ns != ns)) continue;
      for (const auto& grant : rule.allow)
        if (grant == "*" || grant == permission || grant == std::string(resource) + "/*") allowed = true;
    }
  } else {
    allowed = ns == identity.ns || (resource == "pipelines" && (ns.empty() || ns == kfp_install_namespace));
  }
  if (allowed) return std::nullopt;
  // resource_manager.go IsAuthorized: Kubernetes RBAC gives no reason for a denial.
  std::string external = "User '" + identity.subject + "' is not authorized with reason:  (request: " +
                         resource_attributes(ns, verb, resource) + ")";
  return permission_denied("Unauthorized access", external);
}

}  // namespace kfp::emulator
