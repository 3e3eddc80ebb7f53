#include "apply/result.hpp"

#include <doctest/doctest.h>

using namespace kfp;

namespace {

apply::ObjectResult object(apply::ObjectKind kind, std::string name, std::optional<apply::Action> action,
                           std::optional<util::ErrorKind> error = std::nullopt) {
  apply::ObjectResult result;
  result.kind = kind;
  result.name = std::move(name);
  result.action = action;
  if (error) {
    result.outcome = apply::ObjectOutcome::failed;
    result.error = util::fail(*error, "it broke");
  }
  return result;
}

}  // namespace

TEST_CASE("changes are any action but unchanged") {
  std::vector<apply::ObjectResult> results{
      object(apply::ObjectKind::pipeline, "a", apply::Action::unchanged)};
  CHECK_FALSE(apply::has_changes(results));
  results.push_back(object(apply::ObjectKind::recurring_run, "n", apply::Action::replace));
  CHECK(apply::has_changes(results));
  CHECK_FALSE(apply::most_severe_failure(results).has_value());
}

TEST_CASE("the most severe failure decides, and the message counts the failures") {
  std::vector<apply::ObjectResult> results{
      object(apply::ObjectKind::pipeline, "a", std::nullopt, util::ErrorKind::server),
      object(apply::ObjectKind::pipeline, "b", apply::Action::new_version, util::ErrorKind::conflict),
      object(apply::ObjectKind::run, "r", apply::Action::create, util::ErrorKind::run_failed),
      object(apply::ObjectKind::experiment, "e", apply::Action::unchanged)};
  auto worst = apply::most_severe_failure(results);
  REQUIRE(worst.has_value());
  CHECK(worst->kind == util::ErrorKind::conflict);
  CHECK(worst->message == "3 of 4 objects failed; the most severe: pipeline b: it broke");
}

TEST_CASE("objects serialise with kind, name, action, outcome and error") {
  auto failed =
      object(apply::ObjectKind::recurring_run, "nightly", apply::Action::create, util::ErrorKind::forbidden);
  failed.detail = "cron 0 0 2 * * *";
  apply::ObjectResult skipped;
  skipped.kind = apply::ObjectKind::run;
  skipped.name = "smoke";
  skipped.outcome = apply::ObjectOutcome::skipped;
  auto json = apply::to_json({failed, skipped});
  REQUIRE(json.size() == 2);
  const auto& first = json[0].as_object();
  CHECK(first.at("kind").as_string() == "recurring_run");
  CHECK(first.at("action").as_string() == "create");
  CHECK(first.at("outcome").as_string() == "failed");
  CHECK(first.at("error").as_object().at("kind").as_string() == "forbidden");
  CHECK(first.at("detail").as_string() == "cron 0 0 2 * * *");
  const auto& second = json[1].as_object();
  CHECK_FALSE(second.contains("action"));
  CHECK(second.at("outcome").as_string() == "skipped");
  CHECK_FALSE(second.contains("error"));
}
