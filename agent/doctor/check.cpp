#include "doctor/check.hpp"

#include <fmt/format.h>
#include <boost/json/object.hpp>

namespace kfp::doctor {

std::string_view to_string(Status status) {
  switch (status) {
    case Status::ok: return "ok";
    case Status::warn: return "warn";
    case Status::fail: return "fail";
    case Status::skip: return "skip";
  }
  return "fail";
}

Check ok(std::string name, std::string detail) {
  return Check{std::move(name), Status::ok, std::move(detail), {}, {}, {}};
}

Check warn(std::string name, std::string detail, std::string fix) {
  return Check{std::move(name), Status::warn, std::move(detail), std::move(fix), {}, {}};
}

Check skip(std::string name, std::string detail) {
  return Check{std::move(name), Status::skip, std::move(detail), {}, {}, {}};
}

Check fail(std::string name, const util::Failure& failure, std::string fix) {
  if (fix.empty()) fix = failure.hint;
  return Check{std::move(name), Status::fail, failure.message,
               std::move(fix),  failure.kind, failure.http_status};
}

boost::json::array to_json(const std::vector<Check>& checks) {
  boost::json::array out;
  for (const auto& check : checks) {
    boost::json::object item;
    item["name"] = check.name;
    item["status"] = to_string(check.status);
    item["detail"] = check.detail;
    item["fix"] = check.fix;
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<util::Failure> first_failure(const std::vector<Check>& checks) {
  for (const auto& check : checks) {
    if (check.status != Status::fail) continue;
    util::Failure failure;
    failure.kind = check.kind.value_or(util::ErrorKind::internal);
    failure.message = fmt::format("{}: {}", check.name, check.detail);
    failure.hint = check.fix.substr(0, check.fix.find('\n'));
    failure.http_status = check.http_status;
    return failure;
  }
  return std::nullopt;
}

}  // namespace kfp::doctor
