#include "doctor/doctor.hpp"

#include "unit/api/fake_transport.hpp"
#include "unit/auth/test_jwt.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

using kfp::doctor::Status;
using kfp::util::ErrorKind;

namespace {

// A temporary directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           fmt::format("kfp-doctor-test-{}", std::chrono::steady_clock::now().time_since_epoch().count());
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

unsigned short closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

std::map<std::string, kfp::doctor::Check> run(const std::filesystem::path& token_file,
                                              kfp::auth::TokenRequirement requirement) {
  kfp::publish::SessionOptions options;
  options.host = fmt::format("http://127.0.0.1:{}", closed_port());
  options.token.file = token_file;
  options.token.requirement = requirement;
  options.transport.timeout = kfp::util::Milliseconds{2'000};
  options.retries = 0;
  kfp::util::NullLog log;
  kfp::util::Secrets secrets;
  kfp::util::MapEnvironment env;
  auto result = kfp::doctor::run_doctor(options, kfp::publish::SessionServices(log, secrets, env));
  std::map<std::string, kfp::doctor::Check> by_name;
  for (auto& check : result.checks) by_name.emplace(check.name, check);
  CHECK(result.checks.size() == by_name.size());
  return by_name;
}

void write(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path) << content;
}

}  // namespace

TEST_CASE("a missing token file that was asked for fails first; an unreachable server skips what needs it") {
  TempDir dir;
  auto checks = run(dir.path / "absent", kfp::auth::TokenRequirement::required_file);
  CHECK(checks.at("token file").status == Status::fail);
  CHECK(checks.at("token file").kind == ErrorKind::unauthenticated);
  CHECK(checks.at("token audience").status == Status::skip);
  CHECK(checks.at("tcp").status == Status::fail);
  CHECK(checks.at("healthz").status == Status::skip);
  CHECK(checks.at("authenticated read").status == Status::skip);
  CHECK(checks.at("permission runs/list").status == Status::skip);
}

TEST_CASE("a default token path that is absent is only a warning") {
  TempDir dir;
  auto checks = run(dir.path / "absent", kfp::auth::TokenRequirement::optional_file);
  CHECK(checks.at("token file").status == Status::warn);
}

TEST_CASE("each claim is judged on its own: a wrong audience does not hide the expiry") {
  TempDir dir;
  write(dir.path / "token",
        kfp::test::service_account_jwt("https://kubernetes.default.svc", std::chrono::hours{1}));
  auto checks = run(dir.path / "token", kfp::auth::TokenRequirement::required_file);
  CHECK(checks.at("token file").status == Status::ok);
  CHECK(checks.at("token audience").status == Status::fail);
  CHECK(checks.at("token audience").kind == ErrorKind::wrong_audience);
  CHECK(checks.at("token expiry").status == Status::ok);
  CHECK(checks.at("token subject").status == Status::ok);
  CHECK(checks.at("token subject").detail.find("default-editor") != std::string::npos);
}

TEST_CASE("a token expiring within kTokenExpiryWarning is a warning; an expired one fails") {
  TempDir dir;
  write(dir.path / "soon", kfp::test::service_account_jwt("pipelines.kubeflow.org", std::chrono::minutes{5}));
  auto soon = run(dir.path / "soon", kfp::auth::TokenRequirement::required_file);
  CHECK(soon.at("token audience").status == Status::ok);
  CHECK(soon.at("token expiry").status == Status::warn);

  write(dir.path / "expired",
        kfp::test::service_account_jwt("pipelines.kubeflow.org", -std::chrono::minutes{10}));
  auto expired = run(dir.path / "expired", kfp::auth::TokenRequirement::required_file);
  CHECK(expired.at("token expiry").status == Status::fail);
  CHECK(expired.at("token expiry").kind == ErrorKind::token_expired);
}

TEST_CASE("a file that is not a JWT fails the claims check") {
  TempDir dir;
  write(dir.path / "token", "plainly-not-a-jwt");
  auto checks = run(dir.path / "token", kfp::auth::TokenRequirement::required_file);
  CHECK(checks.at("token claims").status == Status::fail);
  CHECK(checks.at("token claims").kind == ErrorKind::unauthenticated);
}

TEST_CASE("the route is read from the Service name in the host, or from healthz's shape") {
  using kfp::doctor::Route;
  CHECK(kfp::doctor::route_of("ml-pipeline-ui", false) == Route::ui_proxy);
  CHECK(kfp::doctor::route_of("ml-pipeline-ui.kubeflow.svc.cluster.local", false) == Route::ui_proxy);
  CHECK(kfp::doctor::route_of("ml-pipeline.kubeflow", false) == Route::api_server);
  CHECK(kfp::doctor::route_of("ml-pipeline.kubeflow.svc.cluster.local", false) == Route::api_server);
  CHECK(kfp::doctor::route_of("ml-pipeline-visualizationserver.kubeflow", false) == Route::unknown);
  CHECK(kfp::doctor::route_of("kubeflow.example.com", false) == Route::unknown);
  CHECK(kfp::doctor::route_of("10.0.0.7", false) == Route::unknown);
  CHECK(kfp::doctor::route_of("10.0.0.7", true) == Route::ui_proxy);
}

namespace {

// A transport that answers by URL (doctor's requests go in an order that depends on its findings).
class RoutingTransport final : public kfp::http::Transport {
 public:
  std::map<std::string, std::pair<int, std::string>> answers;  // URL prefix -> status, body
  std::vector<std::string> urls;
  kfp::util::Result<kfp::http::Response> send(const kfp::http::Request& request,
                                              const kfp::http::ProgressCallback& /*progress*/) override {
    urls.push_back(request.url);
    for (const auto& [prefix, answer] : answers) {
      if (request.url.rfind(prefix, 0) == 0) {
        kfp::http::Response response;
        response.status = answer.first;
        response.body = answer.second;
        response.headers.set("Content-Type",
                             answer.second.rfind('{', 0) == 0 ? "application/json" : "text/plain");
        return response;
      }
    }
    return kfp::util::fail(ErrorKind::network, "no answer for " + request.url);
  }
};

// doctor through the Kubeflow gateway at kubeflow.example.com/pipeline, with a GitHub workflow's token
// in a file; the proxy setting keeps the DNS, TCP and TLS probes off the network.
std::map<std::string, kfp::doctor::Check> run_through_gateway(RoutingTransport& transport,
                                                              const TempDir& dir) {
  write(
      dir.path / "token",
      kfp::test::unsigned_jwt(fmt::format(
          R"({{"iss":"https://issuer.example","aud":"pipelines.kubeflow.org","exp":{},"sub":"repo:acme/p:ref:refs/heads/main"}})",
          kfp::test::epoch_in(std::chrono::hours(1)))));
  kfp::publish::SessionOptions options;
  options.host = "https://kubeflow.example.com/pipeline";
  options.token.file = dir.path / "token";
  options.namespace_name = "team-a";
  options.retries = 0;
  options.transport.https_proxy = "http://127.0.0.1:3128";
  kfp::util::NullLog log;
  kfp::util::Secrets secrets;
  kfp::util::MapEnvironment env;
  kfp::publish::SessionServices services(log, secrets, env);
  kfp::test::ForwardingFactory factory(transport);
  services.make_transport = factory.factory();
  services.make_clock = [] { return std::make_unique<kfp::test::FakeClock>(); };
  auto result = kfp::doctor::run_doctor(options, services);
  std::map<std::string, kfp::doctor::Check> by_name;
  for (auto& check : result.checks) by_name.emplace(check.name, check);
  return by_name;
}

constexpr const char* discovery_url = "https://issuer.example/.well-known/openid-configuration";
constexpr const char* healthz_url = "https://kubeflow.example.com/pipeline/apis/v2beta1/healthz";

}  // namespace

TEST_CASE("doctor on the gateway path: the issuer's discovery, the gateway's refusal and its fix") {
  TempDir dir;
  RoutingTransport transport;
  transport.answers[discovery_url] = {
      200, R"({"issuer":"https://issuer.example","jwks_uri":"https://issuer.example/keys"})"};
  transport.answers[healthz_url] = {401, "Jwt issuer is not configured"};
  auto checks = run_through_gateway(transport, dir);
  CHECK(checks.at("issuer discovery").status == Status::ok);
  CHECK(checks.at("issuer discovery").detail.find("https://issuer.example/keys") != std::string::npos);
  CHECK(checks.at("healthz").status == Status::fail);
  CHECK(checks.at("healthz").kind == ErrorKind::unauthenticated);
  CHECK(checks.at("healthz").fix.find("issuer: https://issuer.example") != std::string::npos);
  CHECK(transport.urls.at(0) == discovery_url);
}

TEST_CASE(
    "doctor on the gateway path: a discovery document for another issuer fails; KFP's denial gives the User "
    "binding") {
  TempDir dir;
  RoutingTransport transport;
  transport.answers[discovery_url] = {200, R"({"issuer":"https://issuer.example/"})"};
  transport.answers[healthz_url] = {
      200, R"({"commit_sha":"x","tag_name":"2.15.0","multi_user":true,"pipeline_store":"database"})"};
  transport.answers["https://kubeflow.example.com/pipeline/apis/v2beta1/pipelines"] = {
      403,
      R"({"code":7,"message":"User 'repo:acme/p:ref:refs/heads/main' is not authorized with reason: "})"};
  auto checks = run_through_gateway(transport, dir);
  CHECK(checks.at("issuer discovery").status == Status::fail);
  CHECK(checks.at("issuer discovery").detail.find("\"https://issuer.example/\"") != std::string::npos);
  CHECK(checks.at("healthz").status == Status::ok);
  CHECK(checks.at("authenticated read").status == Status::fail);
  CHECK(checks.at("authenticated read").kind == ErrorKind::forbidden);
  CHECK(checks.at("authenticated read").fix.find("kind: User") != std::string::npos);
  CHECK(checks.at("authenticated read").fix.find("name: \"repo:acme/p:ref:refs/heads/main\"") !=
        std::string::npos);
}
