#include "api/kfp_api.hpp"

#include "unit/api/fake_transport.hpp"
#include "unit/api/sent_request.hpp"

#include <doctest/doctest.h>

using namespace kfp;
using test::path_of;

namespace {

struct Fixture : test::FakeConnection {
  Fixture() : FakeConnection(test::connection_options("http://kfp.example/pipeline", 4)) {}
};

// What ml-pipeline-ui answers (frontend/server/handlers/healthz.ts): its own shape, always 200;
// the version fields stay from the last good probe while apiServerReady is false.
constexpr const char* ui_not_ready =
    R"({"apiServerReady":false,"apiServerTagName":"2.3.0","apiServerMultiUser":true,"multi_user":true,"buildDate":"","frontendCommitHash":"","frontendTagName":"2.3.0"})";
constexpr const char* ui_ready =
    R"({"apiServerReady":true,"apiServerCommitHash":"abc","apiServerTagName":"2.3.0","apiServerMultiUser":true,"multi_user":true,"buildDate":"","frontendCommitHash":"","frontendTagName":"2.3.0"})";

}  // namespace

TEST_CASE("healthz: the API server's own answer gives the release and the mode") {
  Fixture f;
  f.transport.answer(
      200, R"({"commit_sha":"x","tag_name":"2.15.0","multi_user":true,"pipeline_store":"database"})");
  auto server = api::detect_server(f.connection, api::ApiPreference::automatic);
  REQUIRE(server.has_value());
  CHECK(server->api == "v2beta1");
  CHECK(server->version == "2.15.0");
  CHECK(server->multi_user);
  CHECK_FALSE(server->via_ui_proxy);
  CHECK_FALSE(server->supports_tags);
}

TEST_CASE(
    "healthz through the UI: an API server that is not ready yet is waited for within the retry budget") {
  Fixture f;
  f.transport.answer(200, ui_not_ready);
  f.transport.answer(504, "Error occurred while trying to proxy: ml-pipeline:8888/apis/v2beta1/healthz",
                     "text/plain");
  f.transport.answer(200, ui_ready);
  auto server = api::detect_server(f.connection, api::ApiPreference::automatic);
  REQUIRE(server.has_value());
  CHECK(server->via_ui_proxy);
  CHECK(server->version == "2.3.0");
  CHECK(server->multi_user);
  CHECK(f.transport.sent.size() == 3);
  CHECK(f.clock.slept.size() == 2);
}

TEST_CASE("healthz through the UI: still not ready when the budget is spent is a server error (exit 7)") {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.transport.answer(200, ui_not_ready);
  auto server = api::detect_server(f.connection, api::ApiPreference::automatic);
  REQUIRE_FALSE(server.has_value());
  CHECK(server.error().kind == util::ErrorKind::server);
  CHECK(server.error().message.find("not ready") != std::string::npos);
  CHECK(f.transport.sent.size() == 5);
}

TEST_CASE("healthz: v2beta1 404 falls back to v1beta1 (KFP 1.8)") {
  Fixture f;
  f.transport.answer(404, "404 page not found", "text/plain");
  f.transport.answer(200, R"({"commit_sha":"x","tag_name":"1.8.5","multi_user":true})");
  auto server = api::detect_server(f.connection, api::ApiPreference::automatic);
  REQUIRE(server.has_value());
  CHECK(server->api == "v1beta1");
  CHECK(server->version == "1.8.5");
  CHECK(path_of(f.sent(1)) == "/pipeline/apis/v1beta1/healthz");
}

TEST_CASE("healthz: a 404 on the first requests hints at --host and its path prefix (exit 2)") {
  Fixture f;
  f.transport.answer(404, "Cannot GET /apis/v2beta1/healthz", "text/html");
  f.transport.answer(404, "Cannot GET /apis/v1beta1/healthz", "text/html");
  auto server = api::detect_server(f.connection, api::ApiPreference::automatic);
  REQUIRE_FALSE(server.has_value());
  CHECK(server.error().kind == util::ErrorKind::usage);
  CHECK(server.error().hint.find("--host http://kfp.example/pipeline") != std::string::npos);
  CHECK(server.error().hint.find("path prefix") != std::string::npos);

  Fixture forced;
  forced.transport.answer(404, "404 page not found", "text/plain");
  auto v2 = api::detect_server(forced.connection, api::ApiPreference::v2beta1);
  REQUIRE_FALSE(v2.has_value());
  CHECK(v2.error().kind == util::ErrorKind::usage);
  CHECK(v2.error().hint.find("--api v1beta1") != std::string::npos);
  CHECK(v2.error().hint.find("--host") != std::string::npos);
}
