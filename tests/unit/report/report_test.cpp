#include "report/report.hpp"

#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>

using namespace kfp;

TEST_CASE("a report carries only the sections that are relevant") {
  report::Report report;
  report.command = "validate";
  auto json = report::to_json(report);
  CHECK(json.at("schema").as_string() == "kfp-publish/report/v1");
  CHECK(json.at("command").as_string() == "validate");
  CHECK(json.at("exit_code").as_int64() == 0);
  CHECK_FALSE(json.contains("outcome"));
  CHECK_FALSE(json.contains("pipeline"));
  CHECK_FALSE(json.contains("error"));
}

TEST_CASE("a failure sets error, outcome failed and the mapped exit code") {
  report::Report report;
  report.command = "publish";
  report.pipeline = report::ObjectInfo{"p-1", "hello", true, "", "", ""};
  util::Failure failure =
      util::fail(util::ErrorKind::istio_denied, "RBAC: access denied", "add the principal");
  failure.http_status = 403;
  report.set_failure(failure);
  auto json = report::to_json(report);
  CHECK(json.at("exit_code").as_int64() == 5);
  CHECK(json.at("outcome").as_string() == "failed");
  CHECK(json.at("pipeline").at("id").as_string() == "p-1");
  CHECK(json.at("pipeline").at("created").as_bool());
  const auto& error = json.at("error").as_object();
  CHECK(error.at("kind").as_string() == "istio_denied");
  CHECK(error.at("http_status").as_int64() == 403);
  CHECK(error.at("hint").as_string() == "add the principal");
}
