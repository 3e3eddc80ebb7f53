#pragma once
// Cron schedules as the KFP server takes them. The API server checks a recurring run's cron with
// github.com/robfig/cron v1.2.0's cron.Parse (api_converter.go, 2.3.0:1919 and 2.17.0:2088;
// job_server.go:264 in 1.8.5) and the ScheduledWorkflow controller schedules with the same call
// (crd/controller/scheduledworkflow/util/cron_schedule.go). Its parser is
// NewParser(Second | Minute | Hour | Dom | Month | DowOptional | Descriptor):
//   - 6 fields "second minute hour day-of-month month day-of-week", or 5 with the day of week left
//     out ("*"): five fields are NOT crontab's five, they start with seconds;
//   - a field is a comma list of "*", "?", N, N-M, with "/step" ("N/step" runs from N to the end);
//     months jan..dec and days sun..sat by name, any case; day of week 0..6 (7 is refused);
//   - descriptors @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, and
//     "@every DUR" with Go's time.ParseDuration (under 1s runs every second).
// parse_cron answers exactly what cron.Parse answers, with its error text; apply's schedule_for_server
// adds the one convenience the README promises on top.

#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kfp::apply {

enum class CronField { second, minute, hour, day_of_month, month, day_of_week };

// The bits robfig/cron's SpecSchedule holds for each field: bit N set when N matches; bit 63 set
// when the field was "*" or "?".
struct CronFields {
  std::uint64_t second = 0;
  std::uint64_t minute = 0;
  std::uint64_t hour = 0;
  std::uint64_t day_of_month = 0;
  std::uint64_t month = 0;
  std::uint64_t day_of_week = 0;
};

struct CronSpec {
  std::optional<std::chrono::nanoseconds> every;  // "@every DUR"
  CronFields fields;                              // everything else
};

// robfig/cron v1.2.0 cron.Parse(spec): the schedule, or a failure (kind invalid_package) carrying
// robfig's own message ("Expected 5 to 6 fields, found 4: * * * *").
[[nodiscard]] util::Result<CronSpec> parse_cron(std::string_view spec);

// One field as getField parses it, for `which`'s bounds and names.
[[nodiscard]] util::Result<std::uint64_t> parse_cron_field(std::string_view field, CronField which);

// Go's time.ParseDuration, in nanoseconds; nullopt where Go fails.
[[nodiscard]] std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// What apply sends as a recurring run's cron for what the user wrote: 6 fields as written (blanks
// collapsed), a descriptor as written, and 5 fields read as crontab (minute hour day month weekday)
// with "0" seconds prepended, since the server would read those five starting from seconds. Fails
// with the reason when the server would refuse the result.
[[nodiscard]] util::Result<std::string> schedule_for_server(std::string_view written);

}  // namespace kfp::apply
