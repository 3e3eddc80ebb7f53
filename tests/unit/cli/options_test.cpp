#include "cli/options.hpp"

#include <doctest/doctest.h>

using namespace kfp;
using cli::RawGlobalOptions;
using cli::resolve_global_options;

TEST_CASE("defaults apply when neither flags nor variables are given") {
  util::MapEnvironment env;
  auto options = resolve_global_options(RawGlobalOptions{}, env).value();
  CHECK(options.session.host == cli::default_host);
  CHECK(options.session.token.file == cli::default_token_file);
  CHECK(options.session.token.requirement == auth::TokenRequirement::optional_file);
  CHECK(options.session.token.source == auth::TokenSourceKind::file);
  CHECK(options.session.api == api::ApiPreference::automatic);
  CHECK(options.session.transport.timeout == std::chrono::milliseconds(30'000));
  CHECK(options.session.retries == 5);
  CHECK(options.output == cli::OutputFormat::text);
}

TEST_CASE("variables apply, KFP_HOST before KF_PIPELINES_ENDPOINT, and flags win over both") {
  util::MapEnvironment env({{"KF_PIPELINES_ENDPOINT", "http://endpoint:8888"},
                            {"KF_PIPELINES_SA_TOKEN_PATH", "/tmp/token"},
                            {"KFP_NAMESPACE", "team-a"},
                            {"KFP_OUTPUT", "json"},
                            {"KFP_API", "v1beta1"},
                            {"KFP_CA_FILE", "/tmp/ca.pem"}});
  auto options = resolve_global_options(RawGlobalOptions{}, env).value();
  CHECK(options.session.host == "http://endpoint:8888");
  CHECK(options.session.token.file == "/tmp/token");
  CHECK(options.session.token.requirement == auth::TokenRequirement::required_file);
  CHECK(options.session.namespace_name == "team-a");
  CHECK(options.output == cli::OutputFormat::json);
  CHECK(options.session.api == api::ApiPreference::v1beta1);
  REQUIRE(options.session.transport.ca_file);
  CHECK(*options.session.transport.ca_file == "/tmp/ca.pem");

  env.set("KFP_HOST", "https://kfp.example.com/pipeline/");
  CHECK(resolve_global_options(RawGlobalOptions{}, env).value().session.host ==
        "https://kfp.example.com/pipeline");

  RawGlobalOptions raw;
  raw.host = "http://flag:1";
  raw.namespace_name = "team-b";
  raw.output = "text";
  auto flagged = resolve_global_options(raw, env).value();
  CHECK(flagged.session.host == "http://flag:1");
  CHECK(flagged.session.namespace_name == "team-b");
  CHECK(flagged.output == cli::OutputFormat::text);
}

TEST_CASE("bad values are usage errors naming the option") {
  util::MapEnvironment env;
  auto expect_usage = [&](RawGlobalOptions raw, std::string_view option) {
    auto result = resolve_global_options(raw, env);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().kind == util::ErrorKind::usage);
    CHECK_MESSAGE(result.error().message.find(option) != std::string::npos, result.error().message);
  };
  RawGlobalOptions raw;
  raw.host = "ftp://x";
  expect_usage(raw, "--host");
  raw = {};
  raw.host = "not a url";
  expect_usage(raw, "--host");
  raw = {};
  raw.api = "v3";
  expect_usage(raw, "--api");
  raw = {};
  raw.output = "yaml";
  expect_usage(raw, "--output");
  raw = {};
  raw.request_timeout = "soon";
  expect_usage(raw, "--request-timeout");
  raw = {};
  raw.request_timeout = "0s";
  expect_usage(raw, "--request-timeout");
  raw = {};
  raw.retries = -1;
  expect_usage(raw, "--retries");
}

TEST_CASE("proxy variables are read, upper case first") {
  util::MapEnvironment env({{"https_proxy", "http://lower:3128"}, {"NO_PROXY", ".svc,localhost"}});
  auto options = resolve_global_options(RawGlobalOptions{}, env).value();
  CHECK(options.session.transport.https_proxy == std::optional<std::string>("http://lower:3128"));
  CHECK(options.session.transport.no_proxy == std::optional<std::string>(".svc,localhost"));
  env.set("HTTPS_PROXY", "http://upper:3128");
  CHECK(resolve_global_options(RawGlobalOptions{}, env).value().session.transport.https_proxy ==
        std::optional<std::string>("http://upper:3128"));
}

TEST_CASE("the host's problem is named with the option or variable it came from") {
  util::MapEnvironment env;
  env.set("KFP_HOST", "http://kfp:8888/?debug=1");
  auto from_env = resolve_global_options(RawGlobalOptions{}, env);
  REQUIRE_FALSE(from_env.has_value());
  CHECK(from_env.error().message.find("KFP_HOST") == 0);
  CHECK(from_env.error().message.find("query") != std::string::npos);

  RawGlobalOptions raw;
  raw.host = "http://kfp:70000";
  auto from_flag = resolve_global_options(raw, env);
  REQUIRE_FALSE(from_flag.has_value());
  CHECK(from_flag.error().message.find("--host") == 0);
  CHECK(from_flag.error().message.find("65535") != std::string::npos);

  raw.host = "HTTPS://kfp.example.com/pipeline/";
  CHECK(resolve_global_options(raw, env).value().session.host == "https://kfp.example.com/pipeline");
}

TEST_CASE("credentials in the host are refused and not repeated") {
  util::MapEnvironment env;
  RawGlobalOptions raw;
  raw.host = "https://ci-bot:hunter2-password@kubeflow.example.com/pipeline";
  auto result = resolve_global_options(raw, env);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == util::ErrorKind::usage);
  CHECK(result.error().message.find("hunter2") == std::string::npos);
  CHECK(result.error().message.find("user info") != std::string::npos);
}

TEST_CASE("--termination-log is kept as given") {
  util::MapEnvironment env;
  RawGlobalOptions raw;
  CHECK_FALSE(resolve_global_options(raw, env).value().termination_log);
  raw.termination_log = "/tmp/termination";
  CHECK(resolve_global_options(raw, env).value().termination_log ==
        std::filesystem::path("/tmp/termination"));
}
