// Cron specs as robfig/cron v1.2.0's cron.Parse takes them (what the KFP API server and the
// ScheduledWorkflow controller call). The cases follow robfig/cron's own parser_test.go (TestRange,
// TestField, TestAll, TestBits, TestSpecSchedule, TestErrors) and its documented spec format.

#include "apply/cron.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace kfp::apply;

namespace {

constexpr std::uint64_t star = std::uint64_t{1} << 63U;

std::uint64_t bit(unsigned n) {
  return std::uint64_t{1} << n;
}

std::uint64_t range(unsigned low, unsigned high, unsigned step = 1) {
  std::uint64_t out = 0;
  for (unsigned i = low; i <= high; i += step) out |= bit(i);
  return out;
}

std::uint64_t field(std::string_view text, CronField which) {
  auto parsed = parse_cron_field(text, which);
  REQUIRE_MESSAGE(parsed.has_value(), parsed.error().message);
  return *parsed;
}

std::string field_error(std::string_view text, CronField which) {
  auto parsed = parse_cron_field(text, which);
  REQUIRE(parsed.has_error());
  return parsed.error().message;
}

std::string spec_error(std::string_view spec) {
  auto parsed = parse_cron(spec);
  REQUIRE_MESSAGE(parsed.has_error(), spec);
  return parsed.error().message;
}

std::string sent(std::string_view written) {
  auto spec = schedule_for_server(written);
  return spec ? *spec : "error: " + spec.error().message;
}

CronFields fields(std::string_view spec) {
  auto parsed = parse_cron(spec);
  REQUIRE_MESSAGE(parsed.has_value(), parsed.error().message);
  CHECK_FALSE(parsed->every.has_value());
  return parsed->fields;
}

}  // namespace

TEST_CASE("robfig TestRange: numbers, ranges, steps and stars within a field's bounds") {
  using enum CronField;
  CHECK(field("5", day_of_week) == bit(5));
  CHECK(field("0", day_of_week) == bit(0));
  CHECK(field("6", day_of_week) == bit(6));
  CHECK(field("5-5", second) == bit(5));
  CHECK(field("5-6", second) == (bit(5) | bit(6)));
  CHECK(field("5-6/2", second) == bit(5));
  CHECK(field("5-7/2", second) == (bit(5) | bit(7)));
  CHECK(field("5-7/1", second) == range(5, 7));
  CHECK(field("*", month) == (range(1, 12) | star));
  CHECK(field("?", day_of_month) == (range(1, 31) | star));
  CHECK(field("*/2", hour) == (range(0, 23, 2) | star));
  CHECK(field("10/20", minute) == (bit(10) | bit(30) | bit(50)));  // "N/step" runs from N to the end
  CHECK(field("*-5", minute) == (range(0, 59) | star));            // after '*' robfig reads no range

  CHECK(field_error("5--5", second) == "Too many hyphens: 5--5");
  CHECK(field_error("jan-x", month).starts_with("Failed to parse int from x"));
  CHECK(field_error("2-x", second).starts_with("Failed to parse int from x"));
  CHECK(field_error("*/-12", second) == "Negative number (-12) not allowed: -12");
  CHECK(field_error("*//2", second) == "Too many slashes: *//2");
  CHECK(field_error("0", day_of_month) == "Beginning of range (0) below minimum (1): 0");
  CHECK(field_error("60", second) == "End of range (60) above maximum (59): 60");
  CHECK(field_error("7", day_of_week) == "End of range (7) above maximum (6): 7");
  CHECK(field_error("5-3", second) == "Beginning of range (5) beyond end of range (3): 5-3");
  CHECK(field_error("*/0", second) == "Step of range should be a positive number: */0");
  CHECK(field_error("1_0", second).starts_with("Failed to parse int from 1_0"));
  CHECK(field_error("99999999999999999999", second).find("value out of range") != std::string::npos);
}

TEST_CASE("robfig TestField: comma lists, empty pieces dropped as strings.FieldsFunc drops them") {
  using enum CronField;
  CHECK(field("5,6", day_of_week) == (bit(5) | bit(6)));
  CHECK(field("1,5-7/2,3", day_of_month) == (bit(1) | bit(5) | bit(7) | bit(3)));
  CHECK(field("1,,3,", day_of_month) == (bit(1) | bit(3)));
  CHECK(field(",", minute) == 0);        // accepted, and never matches
  CHECK(field("+5", second) == bit(5));  // strconv.Atoi takes a sign
  CHECK(field("007", second) == bit(7));
}

TEST_CASE("names of months and days, in any case, at both ends of a range") {
  using enum CronField;
  CHECK(field("jan", month) == bit(1));
  CHECK(field("DEC", month) == bit(12));
  CHECK(field("Mar-May", month) == range(3, 5));
  CHECK(field("sun", day_of_week) == bit(0));
  CHECK(field("MON-fri", day_of_week) == range(1, 5));
  CHECK(field("mon-fri/2", day_of_week) == (bit(1) | bit(3) | bit(5)));
  CHECK(field_error("monday", day_of_week).starts_with("Failed to parse int from monday"));
  CHECK(field_error("jan", day_of_week).starts_with("Failed to parse int from jan"));
  CHECK(field_error("mon", second).starts_with("Failed to parse int from mon"));
}

TEST_CASE("robfig TestSpecSchedule: 6 fields start with seconds; 5 leave the day of week out") {
  const CronFields every_5th_minute = fields("0 5 * * * *");
  CHECK(every_5th_minute.second == bit(0));
  CHECK(every_5th_minute.minute == bit(5));
  CHECK(every_5th_minute.hour == (range(0, 23) | star));
  CHECK(every_5th_minute.day_of_week == (range(0, 6) | star));
  // Five fields are NOT crontab's: seconds first, day of week "*".
  const CronFields five = fields("0 2 * * 1");
  CHECK(five.second == bit(0));
  CHECK(five.minute == bit(2));
  CHECK(five.hour == (range(0, 23) | star));
  CHECK(five.month == bit(1));
  CHECK(five.day_of_week == (range(0, 6) | star));
  const CronFields spaced = fields(" 0\t5  *\n* * ? ");  // strings.Fields: any run of whitespace
  CHECK(spaced.minute == bit(5));
  CHECK(fields("0\u00a05 * * * *").minute == bit(5));  // U+00A0 is a space to Go
}

TEST_CASE("robfig TestErrors: field counts, descriptors and durations") {
  CHECK(spec_error("* 5 j * * *").starts_with("Failed to parse int from j"));
  CHECK(spec_error("@every Xm").starts_with("Failed to parse duration @every Xm"));
  CHECK(spec_error("@unrecognized") == "Unrecognized descriptor: @unrecognized");
  CHECK(spec_error("* * * *") == "Expected 5 to 6 fields, found 4: * * * *");
  CHECK(spec_error("0 0 0 * * * *") == "Expected 5 to 6 fields, found 7: 0 0 0 * * * *");
  CHECK(spec_error("") == "Empty spec string");
  CHECK(spec_error("   ") == "Expected 5 to 6 fields, found 0:    ");
  CHECK(spec_error("@daily ") == "Unrecognized descriptor: @daily ");
  CHECK(spec_error("@DAILY") == "Unrecognized descriptor: @DAILY");
  CHECK(spec_error("@every") == "Unrecognized descriptor: @every");
  CHECK(spec_error("TZ=UTC 0 0 * * * *").starts_with("Expected 5 to 6 fields, found 7"));  // v3 only
  CHECK(spec_error("CRON_TZ=UTC 0 0 * * *").starts_with("Failed to parse int from CRON_TZ=UTC"));
}

TEST_CASE("descriptors are the fixed schedules robfig's parseDescriptor builds") {
  auto yearly = parse_cron("@yearly");
  REQUIRE(yearly.has_value());
  CHECK(yearly->fields.second == bit(0));
  CHECK(yearly->fields.day_of_month == bit(1));
  CHECK(yearly->fields.month == bit(1));
  CHECK(parse_cron("@annually")->fields.month == bit(1));
  CHECK(parse_cron("@monthly")->fields.month == (range(1, 12) | star));
  CHECK(parse_cron("@monthly")->fields.day_of_month == bit(1));
  CHECK(parse_cron("@weekly")->fields.day_of_week == bit(0));
  CHECK(parse_cron("@daily")->fields.hour == bit(0));
  CHECK(parse_cron("@midnight")->fields.hour == bit(0));
  CHECK(parse_cron("@hourly")->fields.hour == (range(0, 23) | star));
  CHECK(parse_cron("@hourly")->fields.minute == bit(0));
  auto every = parse_cron("@every 1h30m");
  REQUIRE(every.has_value());
  CHECK(every->every == std::chrono::nanoseconds(std::chrono::minutes(90)));
}

TEST_CASE("@every takes Go's time.ParseDuration, including what rounds up to one second") {
  using std::chrono::nanoseconds;
  CHECK(parse_go_duration("5m") == nanoseconds(300'000'000'000));
  CHECK(parse_go_duration("1.5h") == nanoseconds(5'400'000'000'000));
  CHECK(parse_go_duration(".5s") == nanoseconds(500'000'000));
  CHECK(parse_go_duration("1.s") == nanoseconds(1'000'000'000));
  CHECK(parse_go_duration("300ms") == nanoseconds(300'000'000));
  CHECK(parse_go_duration("2us") == nanoseconds(2'000));
  CHECK(parse_go_duration("2\u00b5s") == nanoseconds(2'000));
  CHECK(parse_go_duration("2\u03bcs") == nanoseconds(2'000));
  CHECK(parse_go_duration("1h2m3s4ms5us6ns") == nanoseconds(3'723'004'005'006));
  CHECK(parse_go_duration("0") == nanoseconds(0));
  CHECK(parse_go_duration("-1m") == nanoseconds(-60'000'000'000));
  CHECK(parse_go_duration("+1m") == nanoseconds(60'000'000'000));
  CHECK(parse_go_duration("2562047h47m16.854775807s") == nanoseconds(9'223'372'036'854'775'807));
  for (const char* bad : {"", "1", "h", ".s", "1d", "1h ", " 1h", "1 h", "1hour", "2562047h47m16.854775808s",
                          "9223372036854775808ns", "-", "1e3s", "1_0s"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_go_duration(bad).has_value());
  }
  // The server accepts these (Every rounds them up to one second), so apply does too.
  CHECK(parse_cron("@every 0s").has_value());
  CHECK(parse_cron("@every -1h").has_value());
  CHECK(parse_cron("@every 500ms").has_value());
}

TEST_CASE("apply sends 6 fields as written, descriptors as written, and 5 crontab fields with seconds 0") {
  CHECK(sent("0 0 2 * * *") == "0 0 2 * * *");
  CHECK(sent("0  0 2 * *\t1-5") == "0 0 2 * * 1-5");
  CHECK(sent("*/5 * * * *") == "0 */5 * * * *");
  CHECK(sent("30 2 * * mon-fri") == "0 30 2 * * mon-fri");
  CHECK(sent("0 * * * * ?") == "0 * * * * ?");
  CHECK(sent("@daily") == "@daily");
  CHECK(sent("@every 90m") == "@every 90m");
  // What the server would refuse is refused, with robfig's reason.
  auto sunday = schedule_for_server("0 0 * * 7");  // crontab allows 7 for Sunday; robfig does not
  REQUIRE(sunday.has_error());
  CHECK(sunday.error().message ==
        "as crontab's minute hour day month weekday, sent as \"0 0 0 * * 7\": End of range (7) above maximum "
        "(6): 7");
  CHECK(schedule_for_server("@every never").has_error());
  CHECK(schedule_for_server("* * * *").has_error());
  CHECK(schedule_for_server("0 0 2 * * * *").has_error());
  CHECK(schedule_for_server("0 0 2 * * $").has_error());
  CHECK(schedule_for_server("").has_error());
}
