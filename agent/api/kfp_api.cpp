#include "api/kfp_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace kfp::api {

namespace {

util::Failure v1_unsupported(std::string_view what) {
  return util::fail(util::ErrorKind::usage, fmt::format("{} is not supported on the v1beta1 API", what),
                    "recurring runs need a KFP 2.x server (v2beta1 API)");
}

// Reads `count` digits at `at` of `text` as a number; false when they are not all digits.
bool read_number(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  const char* begin = text.data() + at;
  auto [end, error] = std::from_chars(begin, begin + count, out);
  return error == std::errc{} && end == begin + count;
}

}  // namespace

std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), as protojson and Go's time package write it.
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':')
    return std::nullopt;
  if (!read_number(text, 0, 4, year) || !read_number(text, 5, 2, month) || !read_number(text, 8, 2, day) ||
      !read_number(text, 11, 2, hour) || !read_number(text, 14, 2, minute) ||
      !read_number(text, 17, 2, second))
    return std::nullopt;
  std::size_t at = 19;
  if (text[at] == '.') {
    ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;  // whole seconds are enough
  }
  std::chrono::seconds offset{0};
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int offset_hours = 0, offset_minutes = 0;
    if (text.size() != at + 6 || text[at + 3] != ':' || !read_number(text, at + 1, 2, offset_hours) ||
        !read_number(text, at + 4, 2, offset_minutes))
      return std::nullopt;
    offset = std::chrono::hours(offset_hours) + std::chrono::minutes(offset_minutes);
    if (text[at] == '-') offset = -offset;
    at += 6;
  } else {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (at != text.size() || !date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second) - offset;
}

void order_oldest_first(std::vector<Run>& runs) {
  auto key = [](const Run& run) {
    auto time = parse_rfc3339(run.created_at);
    // Unreadable times sort after every readable one.
    return std::make_tuple(!time.has_value(), time.value_or(std::chrono::sys_seconds{}), std::cref(run.id));
  };
  std::stable_sort(runs.begin(), runs.end(), [&](const Run& a, const Run& b) { return key(a) < key(b); });
}

PipelineKind kind_of_spec(const boost::json::value& spec) {
  const auto* object = spec.if_object();
  if (object == nullptr) return PipelineKind::unknown;
  // A version uploaded with a PlatformSpec comes as {"pipeline_spec": ..., "platform_spec": ...}.
  if (const auto* inner = object->if_contains("pipeline_spec"); inner != nullptr) return kind_of_spec(*inner);
  const auto* api_version = object->if_contains("apiVersion");
  const auto* kind = object->if_contains("kind");
  if (api_version != nullptr && api_version->is_string() &&
      api_version->as_string().starts_with("argoproj.io/") && kind != nullptr && kind->is_string() &&
      kind->as_string() == "Workflow")
    return PipelineKind::argo_workflow;
  if (object->contains("pipelineInfo") || object->contains("root")) return PipelineKind::pipeline_spec;
  return PipelineKind::unknown;
}

util::Result<std::vector<Run>> KfpApi::list_runs_with_marker(const std::string& /*experiment_id*/,
                                                             const std::string& /*ns*/,
                                                             const std::string& /*marker*/,
                                                             std::optional<util::Milliseconds> /*within*/) {
  return util::fail(util::ErrorKind::internal, "this API object cannot list runs by their run key");
}

util::Result<std::optional<RecurringRun>> KfpApi::find_recurring_run(const std::string& /*name*/,
                                                                     const std::string& /*ns*/) {
  return v1_unsupported("finding a recurring run");
}

util::Result<RecurringRun> KfpApi::create_recurring_run(const RecurringRun& /*recurring_run*/,
                                                        const std::string& /*ns*/) {
  return v1_unsupported("creating a recurring run");
}

util::Result<void> KfpApi::delete_recurring_run(const std::string& /*id*/) {
  return v1_unsupported("deleting a recurring run");
}

util::Result<void> KfpApi::set_recurring_run_schedule(const std::string& /*id*/, Schedule /*schedule*/) {
  return v1_unsupported("enabling or disabling a recurring run");
}

}  // namespace kfp::api
