#include "doctor/fixes.hpp"

#include "doctor/embedded_manifests.hpp"
#include "yaml/load.hpp"

#include <fmt/format.h>

namespace kfp::doctor {

namespace {

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// The manifest without its leading comment block: the fix is the object, the comments explain
// the repository's layout, not the reader's problem.
std::string without_leading_comments(std::string_view manifest) {
  while (manifest.starts_with("#")) {
    auto end = manifest.find('\n');
    manifest = end == std::string_view::npos ? std::string_view{} : manifest.substr(end + 1);
  }
  return std::string(manifest);
}

std::string substituted(std::string_view manifest, std::string_view namespace_name,
                        std::string_view service_account) {
  std::string text = without_leading_comments(manifest);
  replace_all(text, kPlaceholderServiceAccount, service_account);
  replace_all(text, kPlaceholderNamespace, namespace_name);
  return text;
}

// An embedded manifest through the one guarded loader; a Null node if it ever failed to load, which
// the unit tests of every embedded manifest rule out.
YAML::Node manifest(std::string_view text, std::string origin) {
  auto node = yaml::load_document(text, yaml::file_source(std::move(origin), util::ErrorKind::internal));
  return node ? *node : YAML::Node();
}

}  // namespace

std::string_view embedded_rolebinding() {
  return embedded::rolebinding_yaml;
}

std::string_view embedded_authorization_policy() {
  return embedded::authorization_policy_yaml;
}

std::string_view embedded_network_policy() {
  return embedded::network_policy_yaml;
}

std::string rolebinding_fix(std::string_view binding_namespace, std::string_view subject_namespace,
                            std::string_view service_account) {
  std::string text = substituted(embedded::rolebinding_yaml, subject_namespace, service_account);
  // The base leaves the binding's namespace to kustomize; a fix applied alone must carry it.
  const std::string metadata = "\nmetadata:\n";
  if (auto at = text.find(metadata); at != std::string::npos) {
    const YAML::Node node = manifest(text, "manifests/base/rbac/rolebinding.yaml");
    if (!node["metadata"]["namespace"]) {
      text.insert(at + metadata.size(), fmt::format("  namespace: {}\n", binding_namespace));
    }
  }
  return text;
}

std::string authorization_policy_fix(std::string_view namespace_name, std::string_view service_account) {
  return substituted(embedded::authorization_policy_yaml, namespace_name, service_account);
}

namespace {

std::string name_of(std::string_view text, std::string origin) {
  const YAML::Node node = manifest(text, std::move(origin));
  return fmt::format("{} in namespace {}", node["metadata"]["name"].as<std::string>(""),
                     node["metadata"]["namespace"].as<std::string>("kubeflow"));
}

}  // namespace

std::string authorization_policy_name() {
  return name_of(embedded::authorization_policy_yaml, "manifests/base/istio/authorizationpolicy.yaml");
}

std::string network_policy_fix(std::string_view namespace_name) {
  return substituted(embedded::network_policy_yaml, namespace_name, kPlaceholderServiceAccount);
}

std::string network_policy_name() {
  return name_of(embedded::network_policy_yaml, "manifests/base/networkpolicy/networkpolicy.yaml");
}

}  // namespace kfp::doctor
