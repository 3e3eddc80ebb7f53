#pragma once
// The Kubernetes YAML that doctor prints as fixes: the manifests' own RoleBinding, NetworkPolicy and
// Istio AuthorizationPolicy (embedded at build time by cmake/embed.cmake), with the placeholder
// namespace and service account replaced by the caller's.

#include <string>
#include <string_view>

namespace kfp::doctor {

// The placeholders the manifests use for the profile namespace and its service account.
inline constexpr std::string_view kPlaceholderNamespace = "team-a";
inline constexpr std::string_view kPlaceholderServiceAccount = "default-editor";

// manifests/base/rbac/rolebinding.yaml, byte for byte.
[[nodiscard]] std::string_view embedded_rolebinding();
// manifests/base/istio/authorizationpolicy.yaml, byte for byte.
[[nodiscard]] std::string_view embedded_authorization_policy();
// manifests/base/networkpolicy/networkpolicy.yaml, byte for byte.
[[nodiscard]] std::string_view embedded_network_policy();

// The RoleBinding (to kubeflow-edit) in `binding_namespace` for the service account
// `subject_namespace`/`service_account`, with metadata.namespace set so `kubectl apply -f -` needs
// no -n; leading comments dropped.
[[nodiscard]] std::string rolebinding_fix(std::string_view binding_namespace,
                                          std::string_view subject_namespace,
                                          std::string_view service_account);

// The AuthorizationPolicy letting cluster.local/ns/NS/sa/SA through ml-pipeline-ui; leading
// comments dropped.
[[nodiscard]] std::string authorization_policy_fix(std::string_view namespace_name,
                                                   std::string_view service_account);

// The name of the embedded AuthorizationPolicy and its namespace ("NAME in namespace NS").
[[nodiscard]] std::string authorization_policy_name();

// The NetworkPolicy letting pods of `namespace_name` reach the ml-pipeline-ui pods on the UI server's
// port (what manifests/setup/through-ui applies); leading comments dropped.
[[nodiscard]] std::string network_policy_fix(std::string_view namespace_name);

// The name of the embedded NetworkPolicy and its namespace ("NAME in namespace NS").
[[nodiscard]] std::string network_policy_name();

}  // namespace kfp::doctor
