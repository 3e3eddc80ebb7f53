#include "doctor/doctor.hpp"

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
