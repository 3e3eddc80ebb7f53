#include "cron.hpp"

#include <array>
#include <charconv>
#include <sstream>
#include <vector>

namespace kfp::emulator {

namespace {

struct Bounds {
  unsigned min, max;
  std::array<std::pair<std::string_view, unsigned>, 12> names;
  std::size_t name_count;
};

constexpr Bounds seconds{0, 59, {}, 0};
constexpr Bounds minutes{0, 59, {}, 0};
constexpr Bounds hours{0, 23, {}, 0};
constexpr Bounds dom{1, 31, {}, 0};
constexpr Bounds months{1,
                        12,
                        {{{"jan", 1},
                          {"feb", 2},
                          {"mar", 3},
                          {"apr", 4},
                          {"may", 5},
                          {"jun", 6},
                          {"jul", 7},
                          {"aug", 8},
                          {"sep", 9},
                          {"oct", 10},
                          {"nov", 11},
                          {"dec", 12}}},
                        12};
constexpr Bounds dow{
    0, 6, {{{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3}, {"thu", 4}, {"fri", 5}, {"sat", 6}}}, 7};

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto at = text.find(separator, start);
    parts.emplace_back(
        text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

// strconv.Atoi's error wording inside robfig's "Failed to parse int from %s: %s".
std::optional<std::string> parse_int(const std::string& text, unsigned& out) {
  long long number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && (*begin == '+')) ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (text.empty() || ec != std::errc{} || ptr != end)
    return "Failed to parse int from " + text + ": strconv.Atoi: parsing \"" + text + "\": invalid syntax";
  if (number < 0) return "Negative number (" + std::to_string(number) + ") not allowed: " + text;
  out = static_cast<unsigned>(number);
  return std::nullopt;
}

std::optional<std::string> int_or_name(const std::string& text, const Bounds& bounds, unsigned& out) {
  std::string lower;
  for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (std::size_t i = 0; i < bounds.name_count; ++i)
    if (bounds.names[i].first == lower) {
      out = bounds.names[i].second;
      return std::nullopt;
    }
  return parse_int(text, out);
}

// robfig/cron parser.go getRange.
std::optional<std::string> check_range(const std::string& expr, const Bounds& bounds) {
  auto range_and_step = split(expr, '/');
  auto low_and_high = split(range_and_step[0], '-');
  unsigned start = 0, end = 0;
  bool star = low_and_high[0] == "*" || low_and_high[0] == "?";
  if (star) {
    start = bounds.min;
    end = bounds.max;
  } else {
    if (auto error = int_or_name(low_and_high[0], bounds, start)) return error;
    switch (low_and_high.size()) {
      case 1: end = start; break;
      case 2:
        if (auto error = int_or_name(low_and_high[1], bounds, end)) return error;
        break;
      default: return "Too many hyphens: " + expr;
    }
  }
  unsigned step = 1;
  switch (range_and_step.size()) {
    case 1: break;
    case 2:
      if (auto error = parse_int(range_and_step[1], step)) return error;
      if (low_and_high.size() == 1) end = bounds.max;  // "N/step" means "N-max/step"
      break;
    default: return "Too many slashes: " + expr;
  }
  if (start < bounds.min)
    return "Beginning of range (" + std::to_string(start) + ") below minimum (" + std::to_string(bounds.min) +
           "): " + expr;
  if (end > bounds.max)
    return "End of range (" + std::to_string(end) + ") above maximum (" + std::to_string(bounds.max) +
           "): " + expr;
  if (start > end)
    return "Beginning of range (" + std::to_string(start) + ") beyond end of range (" + std::to_string(end) +
           "): " + expr;
  if (step == 0) return "Step of range should be a positive number: " + expr;
  return std::nullopt;
}

std::optional<std::string> check_field(const std::string& field, const Bounds& bounds) {
  for (const auto& expr : split(field, ','))
    if (auto error = check_range(expr, bounds)) return error;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> go_duration_error(std::string_view text) {
  std::string original(text);
  auto invalid = [&] { return "time: invalid duration \"" + original + "\""; };
  std::string_view rest = text;
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) rest.remove_prefix(1);
  if (rest == "0") return std::nullopt;
  if (rest.empty()) return invalid();
  static constexpr std::array<std::string_view, 7> units = {"ns", "us", "µs", "μs", "ms", "s", "m"};
  while (!rest.empty()) {
    std::size_t digits = 0;
    bool seen = false;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits])))
      ++digits, seen = true;
    if (digits < rest.size() && rest[digits] == '.') {
      ++digits;
      while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits])))
        ++digits, seen = true;
    }
    if (!seen) return invalid();
    rest.remove_prefix(digits);
    std::size_t unit_length = 0;
    while (unit_length < rest.size() && rest[unit_length] != '.' &&
           !std::isdigit(static_cast<unsigned char>(rest[unit_length])))
      ++unit_length;
    if (unit_length == 0) return "time: missing unit in duration \"" + original + "\"";
    auto unit = rest.substr(0, unit_length);
    bool known = unit == "h";
    for (auto candidate : units) known = known || unit == candidate;
    if (!known) return "time: unknown unit \"" + std::string(unit) + "\" in duration \"" + original + "\"";
    rest.remove_prefix(unit_length);
  }
  return std::nullopt;
}

std::optional<std::string> cron_parse_error(std::string_view spec) {
  std::string text(spec);
  if (text.empty()) return std::string("Empty spec string");
  if (text.front() == '@') {
    for (auto name : {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
      if (text == name) return std::nullopt;
    constexpr std::string_view every = "@every ";
    if (text.starts_with(every)) {
      auto duration = text.substr(every.size());
      if (auto error = go_duration_error(duration)) return "Failed to parse duration " + text + ": " + *error;
      return std::nullopt;
    }
    return "Unrecognized descriptor: " + text;
  }
  std::istringstream stream(text);
  std::vector<std::string> fields;
  for (std::string field; stream >> field;) fields.push_back(field);
  if (fields.size() < 5 || fields.size() > 6)
    return "Expected 5 to 6 fields, found " + std::to_string(fields.size()) + ": " + text;
  if (fields.size() == 5) fields.emplace_back("*");
  const Bounds* bounds[] = {&seconds, &minutes, &hours, &dom, &months, &dow};
  for (std::size_t i = 0; i < 6; ++i)
    if (auto error = check_field(fields[i], *bounds[i])) return error;
  return std::nullopt;
}

}  // namespace kfp::emulator
