#include "control.hpp"

#include "errors.hpp"
#include "util/duration.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

std::string text_field(const json::object& body, std::string_view name) {
  const auto* value = body.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string{};
}

int count_field(const json::object& body) {
  const auto* value = body.if_contains("count");
  if (value == nullptr) return 1;
  if (!value->is_int64() || value->as_int64() < 1)
    throw ApiFailure(Code::invalid_argument, "count must be a positive integer");
  return static_cast<int>(value->as_int64());
}

}  // namespace

std::string_view to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::status: return "status";
    case FaultKind::delay: return "delay";
    case FaultKind::lost_response: return "lost_response";
    case FaultKind::reset: return "reset";
  }
  return "status";
}

void Control::add_fault(const json::object& body) {
  Fault fault;
  fault.method = text_field(body, "method");
  fault.path = text_field(body, "path");
  auto kind = text_field(body, "kind");
  if (kind == "status")
    fault.kind = FaultKind::status;
  else if (kind == "delay")
    fault.kind = FaultKind::delay;
  else if (kind == "lost_response")
    fault.kind = FaultKind::lost_response;
  else if (kind == "reset")
    fault.kind = FaultKind::reset;
  else
    throw ApiFailure(Code::invalid_argument, "kind must be status, delay, lost_response or reset");
  if (const auto* status = body.if_contains("status")) {
    if (!status->is_int64() || status->as_int64() < 100 || status->as_int64() > 599)
      throw ApiFailure(Code::invalid_argument, "status must be an HTTP status code");
    fault.status = static_cast<int>(status->as_int64());
  }
  if (auto delay = text_field(body, "delay"); !delay.empty()) {
    auto parsed = util::parse_duration(delay);
    if (!parsed) throw ApiFailure(Code::invalid_argument, "delay: " + parsed.error().message);
    fault.delay = *parsed;
  } else if (fault.kind == FaultKind::delay) {
    throw ApiFailure(Code::invalid_argument, "a delay fault needs \"delay\", e.g. \"2s\"");
  }
  fault.count = count_field(body);
  faults_.push_back(std::move(fault));
}

std::optional<Fault> Control::take_fault(const std::string& method, const std::string& path) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if ((!it->method.empty() && it->method != method) || !path.starts_with(it->path)) continue;
    Fault fault = *it;
    if (--it->count <= 0) faults_.erase(it);
    return fault;
  }
  return std::nullopt;
}

json::array Control::faults_json() const {
  json::array out;
  for (const auto& fault : faults_)
    out.push_back(json::object{{"method", fault.method},
                               {"path", fault.path},
                               {"kind", to_string(fault.kind)},
                               {"status", fault.status},
                               {"delay", util::format_duration(fault.delay)},
                               {"count", fault.count}});
  return out;
}

void Control::add_outcome(const json::object& body) {
  auto outcome = parse_outcome(text_field(body, "outcome"));
  if (!outcome)
    throw ApiFailure(Code::invalid_argument, "outcome must be SUCCEEDED, FAILED, CANCELED or HANG");
  TaskPlan plan;
  plan.failed_task = text_field(body, "failed_task");
  plan.message = text_field(body, "message");
  if (const auto* log = body.if_contains("log")) {
    if (!log->is_string()) throw ApiFailure(Code::invalid_argument, "log must be a string");
    plan.log = std::string(log->as_string());
  }
  // A log that is not text (invalid UTF-8 cannot travel in a JSON string) comes base64-encoded.
  if (const auto* encoded = body.if_contains("log_base64")) {
    if (!encoded->is_string()) throw ApiFailure(Code::invalid_argument, "log_base64 must be a string");
    const auto& text = encoded->as_string();
    std::string decoded(boost::beast::detail::base64::decoded_size(text.size()), '\0');
    auto [written, read] = boost::beast::detail::base64::decode(decoded.data(), text.data(), text.size());
    // decode stops at the padding; anything else unread is not base64.
    auto padding = text.size() - std::min(text.size(), std::string_view(text).find_last_not_of('=') + 1);
    if (read + padding != text.size()) throw ApiFailure(Code::invalid_argument, "log_base64 is not base64");
    decoded.resize(written);
    plan.log = std::move(decoded);
  }
  if (const auto* bytes = body.if_contains("log_bytes")) {
    if (!bytes->is_int64() || bytes->as_int64() < 0)
      throw ApiFailure(Code::invalid_argument, "log_bytes must be a non-negative integer");
    plan.log_bytes = static_cast<std::uint64_t>(bytes->as_int64());
  }
  auto source = text_field(body, "log_source");
  if (source == "archive")
    plan.log_source = LogSource::archive;
  else if (source == "gone")
    plan.log_source = LogSource::gone;
  else if (!source.empty() && source != "pod")
    throw ApiFailure(Code::invalid_argument, "log_source must be pod, archive or gone");
  if (!plan.failed_task.empty() && *outcome != Outcome::failed && *outcome != Outcome::canceled)
    throw ApiFailure(Code::invalid_argument, "failed_task goes with outcome FAILED or CANCELED");
  outcomes_.push_back(QueuedOutcome{*outcome, std::move(plan), count_field(body)});
}

std::pair<Outcome, TaskPlan> Control::next_outcome() {
  if (outcomes_.empty()) return {Outcome::succeeded, TaskPlan{}};
  std::pair<Outcome, TaskPlan> next{outcomes_.front().outcome, outcomes_.front().plan};
  if (--outcomes_.front().count <= 0) outcomes_.pop_front();
  return next;
}

json::array Control::outcomes_json() const {
  json::array out;
  for (const auto& queued : outcomes_) {
    json::object item{{"outcome", to_string(queued.outcome)}, {"count", queued.count}};
    const auto& plan = queued.plan;
    if (!plan.failed_task.empty()) item["failed_task"] = plan.failed_task;
    if (!plan.message.empty()) item["message"] = plan.message;
    if (plan.log) item["log_chars"] = plan.log->size();
    if (plan.log_bytes > 0) item["log_bytes"] = plan.log_bytes;
    item["log_source"] = plan.log_source == LogSource::pod       ? "pod"
                         : plan.log_source == LogSource::archive ? "archive"
                                                                 : "gone";
    out.push_back(std::move(item));
  }
  return out;
}

json::array Control::log_json() const {
  json::array out;
  for (const auto& entry : log_) {
    json::object item{
        {"method", entry.method}, {"path", entry.path}, {"query", entry.query}, {"status", entry.status}};
    if (!entry.fault.empty()) item["fault"] = entry.fault;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace kfp::emulator
