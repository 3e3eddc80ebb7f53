#include "apply/result.hpp"

#include "util/exit_code.hpp"

#include <fmt/format.h>
#include <boost/json/object.hpp>

namespace kfp::apply {

std::string_view to_string(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::experiment: return "experiment";
    case ObjectKind::pipeline: return "pipeline";
    case ObjectKind::run: return "run";
    case ObjectKind::recurring_run: return "recurring_run";
  }
  return "";
}

std::string_view to_string(Action action) {
  switch (action) {
    case Action::create: return "create";
    case Action::new_version: return "new_version";
    case Action::unchanged: return "unchanged";
    case Action::update: return "update";
    case Action::replace: return "replace";
  }
  return "";
}

std::string_view to_string(ObjectOutcome outcome) {
  switch (outcome) {
    case ObjectOutcome::planned: return "planned";
    case ObjectOutcome::done: return "done";
    case ObjectOutcome::failed: return "failed";
    case ObjectOutcome::skipped: return "skipped";
  }
  return "";
}

bool has_changes(const std::vector<ObjectResult>& results) {
  for (const auto& result : results) {
    if (result.action && *result.action != Action::unchanged) return true;
  }
  return false;
}

std::optional<util::Failure> most_severe_failure(const std::vector<ObjectResult>& results) {
  std::optional<util::Failure> worst;
  int failed = 0;
  for (const auto& result : results) {
    if (!result.error) continue;
    ++failed;
    if (!worst || util::severity(util::exit_code_for(result.error->kind)) >
                      util::severity(util::exit_code_for(worst->kind))) {
      worst = *result.error;
      worst->message = fmt::format("{} {}: {}", to_string(result.kind), result.name, result.error->message);
    }
  }
  if (worst && failed > 1) {
    worst->message =
        fmt::format("{} of {} objects failed; the most severe: {}", failed, results.size(), worst->message);
  }
  return worst;
}

boost::json::array to_json(const std::vector<ObjectResult>& results) {
  boost::json::array out;
  for (const auto& result : results) {
    boost::json::object object{{"kind", to_string(result.kind)}, {"name", result.name}};
    if (result.action) object["action"] = to_string(*result.action);
    object["outcome"] = to_string(result.outcome);
    if (!result.id.empty()) object["id"] = result.id;
    if (!result.detail.empty()) object["detail"] = result.detail;
    if (!result.run.empty()) object["run"] = result.run;
    if (result.error) {
      boost::json::object error{{"kind", util::to_string(result.error->kind)},
                                {"message", result.error->message}};
      if (!result.error->hint.empty()) error["hint"] = result.error->hint;
      if (result.error->http_status) error["http_status"] = *result.error->http_status;
      object["error"] = std::move(error);
    }
    out.push_back(std::move(object));
  }
  return out;
}

}  // namespace kfp::apply
