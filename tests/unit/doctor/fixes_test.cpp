#include "doctor/fixes.hpp"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

std::string read_source(const std::string& relative) {
  std::ifstream in(std::filesystem::path(KFP_SOURCE_DIR) / relative, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("the embedded manifests are the files in manifests/, byte for byte") {
  const auto rolebinding = read_source("manifests/base/rbac/rolebinding.yaml");
  const auto policy = read_source("manifests/base/istio/authorizationpolicy.yaml");
  const auto network_policy = read_source("manifests/base/networkpolicy/networkpolicy.yaml");
  REQUIRE_FALSE(rolebinding.empty());
  REQUIRE_FALSE(policy.empty());
  REQUIRE_FALSE(network_policy.empty());
  CHECK(kfp::doctor::embedded_rolebinding() == rolebinding);
  CHECK(kfp::doctor::embedded_authorization_policy() == policy);
  CHECK(kfp::doctor::embedded_network_policy() == network_policy);
}

TEST_CASE("the manifests use the placeholders the fixes replace") {
  CHECK(kfp::doctor::embedded_rolebinding().find(kfp::doctor::kPlaceholderNamespace) !=
        std::string_view::npos);
  CHECK(kfp::doctor::embedded_rolebinding().find(kfp::doctor::kPlaceholderServiceAccount) !=
        std::string_view::npos);
  CHECK(kfp::doctor::embedded_authorization_policy().find("cluster.local/ns/team-a/sa/default-editor") !=
        std::string_view::npos);
}

TEST_CASE("the RoleBinding fix binds the caller's account in the namespace in use") {
  const auto yaml = kfp::doctor::rolebinding_fix("ml-prod", "ci", "publisher");
  CHECK(yaml.find("team-a") == std::string::npos);
  CHECK(yaml.find("default-editor") == std::string::npos);
  CHECK_FALSE(yaml.starts_with("#"));
  const YAML::Node node = YAML::Load(yaml);
  CHECK(node["kind"].as<std::string>() == "RoleBinding");
  CHECK(node["metadata"]["namespace"].as<std::string>() == "ml-prod");
  CHECK(node["roleRef"]["name"].as<std::string>() == "kubeflow-edit");
  REQUIRE(node["subjects"].size() == 1);
  CHECK(node["subjects"][0]["kind"].as<std::string>() == "ServiceAccount");
  CHECK(node["subjects"][0]["name"].as<std::string>() == "publisher");
  CHECK(node["subjects"][0]["namespace"].as<std::string>() == "ci");
}

TEST_CASE("the AuthorizationPolicy fix names the caller's principal") {
  const auto yaml = kfp::doctor::authorization_policy_fix("team-b", "ci-bot");
  const YAML::Node node = YAML::Load(yaml);
  CHECK(node["kind"].as<std::string>() == "AuthorizationPolicy");
  CHECK(node["metadata"]["namespace"].as<std::string>() == "kubeflow");
  const auto principals = node["spec"]["rules"][0]["from"][0]["source"]["principals"];
  REQUIRE(principals.size() == 1);
  CHECK(principals[0].as<std::string>() == "cluster.local/ns/team-b/sa/ci-bot");
  CHECK(kfp::doctor::authorization_policy_name() == "ml-pipeline-ui-kfp-publish in namespace kubeflow");
}

TEST_CASE("the NetworkPolicy fix admits the caller's namespace to ml-pipeline-ui on the UI server's port") {
  const auto yaml = kfp::doctor::network_policy_fix("team-b");
  CHECK(yaml.find("team-a") == std::string::npos);
  CHECK_FALSE(yaml.starts_with("#"));
  const YAML::Node node = YAML::Load(yaml);
  CHECK(node["kind"].as<std::string>() == "NetworkPolicy");
  CHECK(node["metadata"]["namespace"].as<std::string>() == "kubeflow");
  CHECK(node["spec"]["podSelector"]["matchLabels"]["app"].as<std::string>() == "ml-pipeline-ui");
  const auto rule = node["spec"]["ingress"][0];
  CHECK(
      rule["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as<std::string>() ==
      "team-b");
  // The UI server listens on 3000 (KFP frontend/server/configs.ts), behind the Service's port 80.
  CHECK(rule["ports"][0]["port"].as<int>() == 3000);
  CHECK(kfp::doctor::network_policy_name() == "ml-pipeline-ui-kfp-publish in namespace kubeflow");
}
