#include "auth.hpp"

#include "errors.hpp"

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

std::string bearer_token(const Request& request) {
  auto header = request.header("authorization");
  if (!header) return {};
  constexpr std::string_view prefix = "Bearer ";
  if (!header->starts_with(prefix)) return {};
  return header->substr(prefix.size());
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

}  // namespace

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

Identity Authenticator::authenticate(const Request& request, Time now) const {
  auto token = bearer_token(request);
  auto refuse = [&](const std::string& reason) -> ApiFailure {
    return ApiFailure(Code::unauthenticated, "Failed to authenticate token review: " + reason,
                      "Unauthenticated: " + reason);
  };
  if (token.empty())
    throw ApiFailure(Code::unauthenticated,
                     "Failed to check authorization. User identity is empty in the request header",
                     "Request header error: there is no user identity header.");
  auto check = verify_token(*key_, token, now);
  switch (check.verdict) {
    case TokenVerdict::valid: break;
    case TokenVerdict::malformed: throw refuse("invalid bearer token, token is malformed");
    case TokenVerdict::bad_signature:
      throw refuse("invalid bearer token, square/go-jose: error in cryptographic primitive (bad signature)");
    case TokenVerdict::expired: throw refuse("invalid bearer token, token has expired");
    case TokenVerdict::not_yet_valid: throw refuse("invalid bearer token, token not valid yet");
    case TokenVerdict::wrong_audience:
      throw refuse(
          "token audiences do not include the expected audience \"pipelines.kubeflow.org\" "
          "(wrong audience)");
  }
  return Identity{check.subject, subject_namespace(check.subject)};
}

void Authenticator::authorize(const Identity& identity, std::string_view resource, std::string_view verb,
                              const std::string& ns) const {
  std::string permission = std::string(resource) + "/" + std::string(verb);
  bool allowed = false;
  std::string reason;
  if (rules_) {
    for (const auto& rule : *rules_) {
      if (rule.subject != identity.subject || (rule.ns != "*" && rule.ns != ns)) continue;
      for (const auto& grant : rule.allow)
        if (grant == "*" || grant == permission || grant == std::string(resource) + "/*") allowed = true;
    }
    reason = "no RBAC rule grants \"" + permission + "\" in namespace \"" + ns + "\"";
  } else {
    allowed = ns == identity.ns || (resource == "pipelines" && (ns.empty() || ns == kfp_install_namespace));
    reason = "the subject's namespace is \"" + identity.ns + "\"";
  }
  if (allowed) return;
  std::string message = "User '" + identity.subject + "' is not authorized with reason: " + reason +
                        " (request: &ResourceAttributes{Namespace:" + ns + ",Verb:" + std::string(verb) +
                        ",Group:pipelines.kubeflow.org,Version:v1beta1,Resource:" + std::string(resource) +
                        ",Subresource:,Name:,})";
  throw ApiFailure(Code::permission_denied, "Failed to authorize with API: " + message, message);
}

}  // namespace kfp::emulator
