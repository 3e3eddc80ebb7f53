#include "apply/cron.hpp"

#include <fmt/format.h>

#include <array>
#include <limits>
#include <utility>
#include <vector>

namespace kfp::apply {

namespace {

struct Bounds {
  unsigned min;
  unsigned max;
  const std::array<std::string_view, 13>* names;  // names[value]; empty where a value has none
};

constexpr std::array<std::string_view, 13> month_names{"",    "jan", "feb", "mar", "apr", "may", "jun",
                                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 13> day_names{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

// robfig/cron spec.go: the bounds of each field.
Bounds bounds_of(CronField field) {
  switch (field) {
    case CronField::second:
    case CronField::minute: return {0, 59, nullptr};
    case CronField::hour: return {0, 23, nullptr};
    case CronField::day_of_month: return {1, 31, nullptr};
    case CronField::month: return {1, 12, &month_names};
    case CronField::day_of_week: return {0, 6, &day_names};
  }
  return {0, 59, nullptr};
}

constexpr std::uint64_t star_bit = std::uint64_t{1} << 63U;

util::Failure refused(std::string message) {
  return util::fail(util::ErrorKind::invalid_package, std::move(message));
}

// Go's strings.Split: every piece, empty ones included.
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  for (;;) {
    const std::size_t at = text.find(separator);
    pieces.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return pieces;
    text.remove_prefix(at + 1);
  }
}

// Go's strconv.Atoi: [+-]?[0-9]+ within int64.
util::Result<long long> atoi(std::string_view text) {
  auto syntax = [&](std::string_view why) {
    return refused(
        fmt::format("Failed to parse int from {}: strconv.Atoi: parsing \"{}\": {}", text, text, why));
  };
  std::string_view digits = text;
  const bool negative = digits.starts_with('-');
  if (digits.starts_with('+') || digits.starts_with('-')) digits.remove_prefix(1);
  if (digits.empty()) return syntax("invalid syntax");
  unsigned long long value = 0;
  bool overflow = false;
  for (char c : digits) {
    if (c < '0' || c > '9') return syntax("invalid syntax");
    if (value > (std::numeric_limits<unsigned long long>::max() - 9) / 10) {
      overflow = true;
    } else {
      value = value * 10 + static_cast<unsigned long long>(c - '0');
    }
  }
  constexpr auto limit = static_cast<unsigned long long>(std::numeric_limits<long long>::max());
  if (overflow || value > limit + (negative ? 1 : 0)) return syntax("value out of range");
  if (negative)
    return value == limit + 1 ? std::numeric_limits<long long>::min() : -static_cast<long long>(value);
  return static_cast<long long>(value);
}

// robfig's mustParseInt: Atoi, and no negative numbers.
util::Result<unsigned long long> parse_int(std::string_view text) {
  auto number = atoi(text);
  if (!number) return number.error();
  if (*number < 0) return refused(fmt::format("Negative number ({}) not allowed: {}", *number, text));
  return static_cast<unsigned long long>(*number);
}

util::Result<unsigned long long> parse_int_or_name(std::string_view text, const Bounds& bounds) {
  if (bounds.names != nullptr) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    for (std::size_t value = 0; value < bounds.names->size(); ++value) {
      if (!(*bounds.names)[value].empty() && (*bounds.names)[value] == lower) return value;
    }
  }
  return parse_int(text);
}

std::uint64_t bits(unsigned long long min, unsigned long long max, unsigned long long step) {
  std::uint64_t out = 0;
  for (unsigned long long i = min; i <= max; i += step) out |= std::uint64_t{1} << i;
  return out;
}

// robfig's getRange: number | number "-" number [ "/" number ], "*" or "?" for the whole range.
util::Result<std::uint64_t> parse_range(std::string_view expr, const Bounds& bounds) {
  const auto range_and_step = split(expr, '/');
  const auto low_and_high = split(range_and_step[0], '-');
  const bool single_digit = low_and_high.size() == 1;
  unsigned long long start = 0;
  unsigned long long end = 0;
  std::uint64_t extra = 0;
  if (low_and_high[0] == "*" || low_and_high[0] == "?") {
    start = bounds.min;
    end = bounds.max;
    extra = star_bit;
  } else {
    auto low = parse_int_or_name(low_and_high[0], bounds);
    if (!low) return low.error();
    start = *low;
    if (low_and_high.size() == 1) {
      end = start;
    } else if (low_and_high.size() == 2) {
      auto high = parse_int_or_name(low_and_high[1], bounds);
      if (!high) return high.error();
      end = *high;
    } else {
      return refused(fmt::format("Too many hyphens: {}", expr));
    }
  }
  unsigned long long step = 1;
  if (range_and_step.size() == 2) {
    auto parsed = parse_int(range_and_step[1]);
    if (!parsed) return parsed.error();
    step = *parsed;
    if (single_digit) end = bounds.max;  // "N/step" means "N-max/step"
  } else if (range_and_step.size() > 2) {
    return refused(fmt::format("Too many slashes: {}", expr));
  }
  if (start < bounds.min) {
    return refused(fmt::format("Beginning of range ({}) below minimum ({}): {}", start, bounds.min, expr));
  }
  if (end > bounds.max) {
    return refused(fmt::format("End of range ({}) above maximum ({}): {}", end, bounds.max, expr));
  }
  if (start > end) {
    return refused(fmt::format("Beginning of range ({}) beyond end of range ({}): {}", start, end, expr));
  }
  if (step == 0) return refused(fmt::format("Step of range should be a positive number: {}", expr));
  return bits(start, end, step) | extra;
}

// Go's unicode.IsSpace for the code point starting at text[i]; `length` gets its byte length.
bool go_space_at(std::string_view text, std::size_t i, std::size_t& length) {
  const auto byte = static_cast<unsigned char>(text[i]);
  length = 1;
  if (byte == ' ' || (byte >= '\t' && byte <= '\r')) return true;
  if (byte < 0x80) return false;
  std::uint32_t code_point = 0;
  if ((byte & 0xe0U) == 0xc0U && i + 1 < text.size()) {
    code_point = ((byte & 0x1fU) << 6U) | (static_cast<unsigned char>(text[i + 1]) & 0x3fU);
    length = 2;
  } else if ((byte & 0xf0U) == 0xe0U && i + 2 < text.size()) {
    code_point = ((byte & 0x0fU) << 12U) | ((static_cast<unsigned char>(text[i + 1]) & 0x3fU) << 6U) |
                 (static_cast<unsigned char>(text[i + 2]) & 0x3fU);
    length = 3;
  } else {
    return false;
  }
  return code_point == 0x85 || code_point == 0xa0 || code_point == 0x1680 ||
         (code_point >= 0x2000 && code_point <= 0x200a) || code_point == 0x2028 || code_point == 0x2029 ||
         code_point == 0x202f || code_point == 0x205f || code_point == 0x3000;
}

// Go's strings.Fields.
std::vector<std::string_view> fields_of(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t start = std::string_view::npos;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = 1;
    if (go_space_at(text, i, length)) {
      if (start != std::string_view::npos) fields.push_back(text.substr(start, i - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = i;
    }
    i += length;
  }
  if (start != std::string_view::npos) fields.push_back(text.substr(start));
  return fields;
}

std::uint64_t all(CronField field) {
  const Bounds bounds = bounds_of(field);
  return bits(bounds.min, bounds.max, 1) | star_bit;
}

std::uint64_t first(CronField field) {
  return std::uint64_t{1} << bounds_of(field).min;
}

// robfig's parseDescriptor.
util::Result<CronSpec> parse_descriptor(std::string_view spec) {
  using enum CronField;
  CronSpec out;
  CronFields& f = out.fields;
  f = {first(second), first(minute), first(hour), all(day_of_month), all(month), all(day_of_week)};
  if (spec == "@yearly" || spec == "@annually") {
    f.day_of_month = first(day_of_month);
    f.month = first(month);
    return out;
  }
  if (spec == "@monthly") {
    f.day_of_month = first(day_of_month);
    return out;
  }
  if (spec == "@weekly") {
    f.day_of_week = first(day_of_week);
    return out;
  }
  if (spec == "@daily" || spec == "@midnight") return out;
  if (spec == "@hourly") {
    f.hour = all(hour);
    return out;
  }
  constexpr std::string_view every = "@every ";
  if (spec.starts_with(every)) {
    const std::string_view text = spec.substr(every.size());
    auto duration = parse_go_duration(text);
    if (!duration) {
      return refused(fmt::format("Failed to parse duration {}: time: invalid duration \"{}\"", spec, text));
    }
    out.every = *duration;
    return out;
  }
  return refused(fmt::format("Unrecognized descriptor: {}", spec));
}

}  // namespace

util::Result<std::uint64_t> parse_cron_field(std::string_view field, CronField which) {
  const Bounds bounds = bounds_of(which);
  std::uint64_t out = 0;
  for (std::string_view expr : split(field, ',')) {
    if (expr.empty()) continue;  // strings.FieldsFunc drops empty pieces
    auto range = parse_range(expr, bounds);
    if (!range) return range.error();
    out |= *range;
  }
  return out;
}

util::Result<CronSpec> parse_cron(std::string_view spec) {
  if (spec.empty()) return refused("Empty spec string");
  if (spec.front() == '@') return parse_descriptor(spec);
  auto fields = fields_of(spec);
  if (fields.size() < 5 || fields.size() > 6) {
    return refused(fmt::format("Expected 5 to 6 fields, found {}: {}", fields.size(), spec));
  }
  if (fields.size() == 5) fields.emplace_back("*");  // DowOptional
  CronSpec out;
  const std::array<std::pair<CronField, std::uint64_t*>, 6> targets{{
      {CronField::second, &out.fields.second},
      {CronField::minute, &out.fields.minute},
      {CronField::hour, &out.fields.hour},
      {CronField::day_of_month, &out.fields.day_of_month},
      {CronField::month, &out.fields.month},
      {CronField::day_of_week, &out.fields.day_of_week},
  }};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto parsed = parse_cron_field(fields[i], targets[i].first);
    if (!parsed) return parsed.error();
    *targets[i].second = *parsed;
  }
  return out;
}

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
  constexpr std::uint64_t limit = std::uint64_t{1} << 63U;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds{0};
  if (s.empty()) return std::nullopt;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || digit(s[0]))) return std::nullopt;
    // leadingInt
    std::uint64_t whole = 0;
    std::size_t i = 0;
    for (; i < s.size() && digit(s[i]); ++i) {
      if (whole > limit / 10) return std::nullopt;
      whole = whole * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (whole > limit) return std::nullopt;
    }
    const bool before_point = i > 0;
    s.remove_prefix(i);
    // leadingFraction
    std::uint64_t fraction = 0;
    double scale = 1;
    bool after_point = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      std::size_t k = 0;
      bool overflow = false;
      for (; k < s.size() && digit(s[k]); ++k) {
        if (overflow) continue;
        if (fraction > (limit - 1) / 10) {
          overflow = true;
          continue;
        }
        const std::uint64_t next = fraction * 10 + static_cast<std::uint64_t>(s[k] - '0');
        if (next > limit) {
          overflow = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      after_point = k > 0;
      s.remove_prefix(k);
    }
    if (!before_point && !after_point) return std::nullopt;
    std::size_t unit_length = 0;
    while (unit_length < s.size() && !(s[unit_length] == '.' || digit(s[unit_length]))) ++unit_length;
    if (unit_length == 0) return std::nullopt;
    const std::string_view unit_name = s.substr(0, unit_length);
    s.remove_prefix(unit_length);
    std::uint64_t unit = 0;
    if (unit_name == "ns") {
      unit = 1;
    } else if (unit_name == "us" || unit_name == "\u00b5s" || unit_name == "\u03bcs") {
      unit = 1'000;
    } else if (unit_name == "ms") {
      unit = 1'000'000;
    } else if (unit_name == "s") {
      unit = 1'000'000'000;
    } else if (unit_name == "m") {
      unit = 60'000'000'000;
    } else if (unit_name == "h") {
      unit = 3'600'000'000'000;
    } else {
      return std::nullopt;
    }
    if (whole > limit / unit) return std::nullopt;
    whole *= unit;
    if (fraction > 0) {
      whole +=
          static_cast<std::uint64_t>(static_cast<double>(fraction) * (static_cast<double>(unit) / scale));
      if (whole > limit) return std::nullopt;
    }
    total += whole;
    if (total > limit) return std::nullopt;
  }
  if (negative) {
    return std::chrono::nanoseconds{total == limit ? std::numeric_limits<std::int64_t>::min()
                                                   : -static_cast<std::int64_t>(total)};
  }
  if (total > limit - 1) return std::nullopt;
  return std::chrono::nanoseconds{static_cast<std::int64_t>(total)};
}

util::Result<std::string> schedule_for_server(std::string_view written) {
  if (!written.empty() && written.front() == '@') {
    auto parsed = parse_cron(written);
    if (!parsed) return parsed.error();
    return std::string(written);
  }
  const auto fields = fields_of(written);
  std::string spec = fields.size() == 5 ? "0" : "";
  for (std::string_view field : fields) spec += fmt::format("{}{}", spec.empty() ? "" : " ", field);
  auto parsed = parse_cron(fields.empty() ? written : std::string_view(spec));
  if (!parsed) {
    util::Failure failure = parsed.error();
    if (fields.size() == 5) {
      failure.message = fmt::format("as crontab's minute hour day month weekday, sent as \"{}\": {}", spec,
                                    failure.message);
    }
    return failure;
  }
  return spec;
}

}  // namespace kfp::apply
