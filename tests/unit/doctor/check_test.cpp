#include "doctor/check.hpp"

#include <doctest/doctest.h>

using kfp::doctor::Check;
using kfp::doctor::Status;
using kfp::util::ErrorKind;

TEST_CASE("checks become the report's array of {name, status, detail, fix}") {
  std::vector<Check> checks{kfp::doctor::ok("dns", "127.0.0.1"), kfp::doctor::skip("tls", "plain http")};
  auto json = kfp::doctor::to_json(checks);
  REQUIRE(json.size() == 2);
  const auto& first = json[0].as_object();
  CHECK(first.at("name").as_string() == "dns");
  CHECK(first.at("status").as_string() == "ok");
  CHECK(first.at("detail").as_string() == "127.0.0.1");
  CHECK(first.at("fix").as_string() == "");
  CHECK(json[1].as_object().at("status").as_string() == "skip");
}

TEST_CASE("the first failed check decides the error") {
  std::vector<Check> checks{
      kfp::doctor::warn("token expiry", "in 5 minutes", "rotate"),
      kfp::doctor::fail("tcp", kfp::util::fail(ErrorKind::network, "refused", "hint"), "fix the port\nmore"),
      kfp::doctor::fail("healthz", kfp::util::fail(ErrorKind::server, "down")),
  };
  auto failure = kfp::doctor::first_failure(checks);
  REQUIRE(failure.has_value());
  CHECK(failure->kind == ErrorKind::network);
  CHECK(failure->message == "tcp: refused");
  CHECK(failure->hint == "fix the port");
  CHECK(checks[1].fix == "fix the port\nmore");
  CHECK(checks[2].fix.empty());
}

TEST_CASE("a failure without its own fix keeps the failure's hint") {
  auto check =
      kfp::doctor::fail("token file", kfp::util::fail(ErrorKind::unauthenticated, "empty", "mount it"));
  CHECK(check.status == Status::fail);
  CHECK(check.fix == "mount it");
}

TEST_CASE("warnings and skips are not failures") {
  std::vector<Check> checks{kfp::doctor::warn("healthz", "v1 only"), kfp::doctor::skip("tls", "http")};
  CHECK_FALSE(kfp::doctor::first_failure(checks).has_value());
}
