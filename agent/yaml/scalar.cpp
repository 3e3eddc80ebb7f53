#include "yaml/scalar.hpp"

#include <fmt/format.h>
#include <boost/json/string.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace kfp::yaml {

namespace {

namespace json = boost::json;

constexpr std::string_view tag_prefix = "tag:yaml.org,2002:";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Go's strconv.ParseUint(s, base, 64); base 0 reads a 0b/0o/0x prefix (any case), and a leading
// 0 as octal. nullopt on a syntax error or overflow. Underscores are never here (removed first).
std::optional<std::uint64_t> go_parse_uint(std::string_view s, int base) {
  if (s.empty()) return std::nullopt;
  if (base == 0) {
    base = 10;
    if (s[0] == '0') {
      const char prefix = s.size() >= 3 ? static_cast<char>(s[1] | 0x20) : '\0';
      if (prefix == 'b') {
        base = 2;
        s.remove_prefix(2);
      } else if (prefix == 'o') {
        base = 8;
        s.remove_prefix(2);
      } else if (prefix == 'x') {
        base = 16;
        s.remove_prefix(2);
      } else {
        base = 8;
        s.remove_prefix(1);
      }
    }
  }
  std::uint64_t value = 0;
  for (char c : s) {
    int digit = 0;
    if (is_digit(c)) {
      digit = c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      digit = (c | 0x20) - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    const auto b = static_cast<std::uint64_t>(base);
    if (value > (std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(digit)) / b) {
      return std::nullopt;
    }
    value = value * b + static_cast<std::uint64_t>(digit);
  }
  return value;
}

// Go's strconv.ParseInt(s, base, 64): an optional sign, then ParseUint, then the int64 range.
std::optional<std::int64_t> go_parse_int(std::string_view s, int base) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  auto magnitude = go_parse_uint(s, base);
  if (!magnitude) return std::nullopt;
  constexpr std::uint64_t limit = std::uint64_t{1} << 63U;
  if (negative) {
    if (*magnitude > limit) return std::nullopt;
    if (*magnitude == limit) return std::numeric_limits<std::int64_t>::min();
    return -static_cast<std::int64_t>(*magnitude);
  }
  if (*magnitude >= limit) return std::nullopt;
  return static_cast<std::int64_t>(*magnitude);
}

// yaml.v3's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool is_yaml_float(std::string_view text) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    return i - start;
  };
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < text.size() && text[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

// Go's strconv.ParseFloat on text that is_yaml_float accepted: nullopt when it overflows (Go
// answers ErrRange, and yaml.v3 then leaves the text a string); an underflow is 0, as in Go.
std::optional<double> go_parse_float(std::string_view text) {
  const bool negative = text.starts_with('-');
  std::string_view digits = text;
  if (digits.starts_with('+') || digits.starts_with('-')) digits.remove_prefix(1);
  double value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error == std::errc{} && end == digits.data() + digits.size()) return negative ? -value : value;
  if (error != std::errc::result_out_of_range) return std::nullopt;
  // Out of range: too large (Go's ErrRange) or too small (0). The decimal exponent of the first
  // significant digit tells which; out of range means it is far from 0 either way.
  const std::size_t e = digits.find_first_of("eE");
  const std::string_view mantissa = digits.substr(0, e);
  long long exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view rest = digits.substr(e + 1);
    const bool exponent_negative = rest.starts_with('-');
    if (rest.starts_with('+') || rest.starts_with('-')) rest.remove_prefix(1);
    for (char c : rest) exponent = std::min<long long>(exponent * 10 + (c - '0'), 1'000'000'000);
    if (exponent_negative) exponent = -exponent;
  }
  const std::size_t point = std::min(mantissa.find('.'), mantissa.size());
  const std::size_t first = mantissa.find_first_of("123456789");
  const long long position =
      first < point ? static_cast<long long>(point - first) : -static_cast<long long>(first - point - 1);
  if (position + exponent > 0) return std::nullopt;
  return negative ? -0.0 : 0.0;
}

// How YAML 1.2's core schema reads a plain scalar that starts like a number (digit, sign or '.'):
// [-+]?[0-9]+ decimal, 0o[0-7]+, 0x[0-9a-fA-F]+, the float pattern, else a string. An integer past
// 64 bits becomes a double, an overflowing float an infinite one.
json::value core_schema_number(std::string_view text) {
  auto all_of = [](std::string_view s, auto predicate) {
    if (s.empty()) return false;
    for (char c : s) {
      if (!predicate(c)) return false;
    }
    return true;
  };
  auto approximate = [](std::string_view digits, int base) {
    double value = 0;
    for (char c : digits) value = value * base + (is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    return value;
  };
  auto unsigned_number = [&](std::string_view digits, int base) {
    if (auto value = go_parse_uint(digits, base)) return json::value(*value);
    return json::value(approximate(digits, base));
  };
  const bool negative = text.starts_with('-');
  std::string_view digits = text;
  if (text.starts_with('+') || text.starts_with('-')) digits.remove_prefix(1);
  if (all_of(digits, is_digit)) {
    if (auto value = go_parse_int(text, 10)) return json::value(*value);
    if (auto value = go_parse_uint(digits, 10); value && !negative) return json::value(*value);
    return json::value(go_parse_float(text).value_or(0));  // past 64 bits: the nearest double
  }
  if (text.starts_with("0o") && all_of(text.substr(2), [](char c) { return c >= '0' && c <= '7'; })) {
    return unsigned_number(text.substr(2), 8);
  }
  auto is_hex = [](char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); };
  if (text.starts_with("0x") && all_of(text.substr(2), is_hex)) return unsigned_number(text.substr(2), 16);
  if (is_yaml_float(text)) {
    if (auto value = go_parse_float(text)) return json::value(*value);
    constexpr double infinity = std::numeric_limits<double>::infinity();
    return json::value(negative ? -infinity : infinity);
  }
  return json::value(json::string(text));
}

bool same_reading(const json::value& a, const json::value& b) {
  if (a.is_string() || b.is_string())
    return a.is_string() && b.is_string() && a.get_string() == b.get_string();
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  if (a.is_number() && b.is_number()) return a.to_number<double>() == b.to_number<double>();
  return false;
}

// --- timestamps: Go's time.Parse with the four layouts yaml.v3 tries ---

struct Clock {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  long nanos = 0;
  std::optional<int> offset_minutes;  // none: UTC
};

// Go's getnum(s, fixed=false): one or two digits.
bool take_number(std::string_view& s, int& value) {
  if (s.empty() || !is_digit(s[0])) return false;
  if (s.size() < 2 || !is_digit(s[1])) {
    value = s[0] - '0';
    s.remove_prefix(1);
    return true;
  }
  value = (s[0] - '0') * 10 + (s[1] - '0');
  s.remove_prefix(2);
  return true;
}

bool take(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

int days_in(int month, int year) {
  static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[static_cast<std::size_t>(month - 1)];
}

enum class Layout { date_t_time_zone, date_lower_t_time_zone, date_space_time, date };

bool parse_layout(std::string_view s, Layout layout, Clock& clock) {
  if (s.size() < 4 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3])) return false;
  clock.year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  s.remove_prefix(4);
  if (!take(s, '-') || !take_number(s, clock.month) || !take(s, '-') || !take_number(s, clock.day))
    return false;
  if (clock.month < 1 || clock.month > 12) return false;
  if (layout != Layout::date) {
    if (layout == Layout::date_space_time) {
      // Go's layout space matches one or more spaces.
      if (!take(s, ' ')) return false;
      while (!s.empty() && s[0] == ' ') s.remove_prefix(1);
    } else if (!take(s, layout == Layout::date_t_time_zone ? 'T' : 't')) {
      return false;
    }
    if (!take_number(s, clock.hour) || !take(s, ':') || !take_number(s, clock.minute) || !take(s, ':') ||
        !take_number(s, clock.second)) {
      return false;
    }
    if (clock.hour > 23 || clock.minute > 59 || clock.second > 59) return false;
    if (s.size() >= 2 && (s[0] == '.' || s[0] == ',') && is_digit(s[1])) {
      s.remove_prefix(1);
      int count = 0;
      while (!s.empty() && is_digit(s[0])) {
        if (count < 9) {
          clock.nanos = clock.nanos * 10 + (s[0] - '0');
          ++count;
        }
        s.remove_prefix(1);
      }
      for (; count < 9; ++count) clock.nanos *= 10;
    }
    if (layout != Layout::date_space_time) {
      if (take(s, 'Z')) {
        clock.offset_minutes = 0;
      } else {
        if (s.size() < 6 || s[3] != ':' || (s[0] != '+' && s[0] != '-')) return false;
        if (!is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[4]) || !is_digit(s[5])) return false;
        const int hours = (s[1] - '0') * 10 + (s[2] - '0');
        const int minutes = (s[4] - '0') * 10 + (s[5] - '0');
        if (hours > 24 || minutes > 60) return false;
        clock.offset_minutes = (s[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
        s.remove_prefix(6);
      }
    }
  }
  if (!s.empty()) return false;
  return clock.day >= 1 && clock.day <= days_in(clock.month, clock.year);
}

std::string rfc3339_nano(const Clock& clock) {
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", clock.year, clock.month, clock.day,
                                clock.hour, clock.minute, clock.second);
  if (clock.nanos != 0) {
    std::string fraction = fmt::format("{:09}", clock.nanos);
    while (fraction.ends_with('0')) fraction.pop_back();
    out += "." + fraction;
  }
  const int offset = clock.offset_minutes.value_or(0);
  if (offset == 0) return out + "Z";
  return out +
         fmt::format("{}{:02}:{:02}", offset < 0 ? '-' : '+', std::abs(offset) / 60, std::abs(offset) % 60);
}

Scalar make(Scalar::Kind kind, json::value value) {
  Scalar scalar;
  scalar.kind = kind;
  scalar.value = std::move(value);
  return scalar;
}

Scalar text_scalar(std::string_view text) {
  return make(Scalar::Kind::string, json::value(json::string(text)));
}

Scalar integer(std::int64_t value) {
  return make(Scalar::Kind::integer, json::value(value));
}

Scalar unsigned_integer(std::uint64_t value) {
  return make(Scalar::Kind::integer, json::value(value));
}

Scalar not_finite() {
  Scalar scalar = make(Scalar::Kind::floating, json::value(nullptr));
  scalar.finite = false;
  return scalar;
}

// yaml.v3's resolveMap: the texts it looks up before anything else.
std::optional<Scalar> from_table(std::string_view text) {
  static constexpr std::array nulls{"", "~", "null", "Null", "NULL"};
  static constexpr std::array trues{"true", "True", "TRUE"};
  static constexpr std::array falses{"false", "False", "FALSE"};
  static constexpr std::array nans{".nan", ".NaN", ".NAN"};
  static constexpr std::array infinities{".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                         "+.INF", "-.inf", "-.Inf", "-.INF"};
  for (std::string_view candidate : nulls) {
    if (text == candidate) return make(Scalar::Kind::null, json::value(nullptr));
  }
  for (std::string_view candidate : trues) {
    if (text == candidate) return make(Scalar::Kind::boolean, json::value(true));
  }
  for (std::string_view candidate : falses) {
    if (text == candidate) return make(Scalar::Kind::boolean, json::value(false));
  }
  for (std::string_view candidate : nans) {
    if (text == candidate) return not_finite();
  }
  for (std::string_view candidate : infinities) {
    if (text == candidate) return not_finite();
  }
  return std::nullopt;
}

enum class Hint { none, sign, digit, table_only, point };

// yaml.v3's resolveTable: the first byte decides which rules may apply.
Hint hint_of(std::string_view text) {
  if (text.empty()) return Hint::table_only;
  const char c = text.front();
  if (c == '+' || c == '-') return Hint::sign;
  if (is_digit(c)) return Hint::digit;
  if (c == '.') return Hint::point;
  if (std::string_view("yYnNtTfFoO~").find(c) != std::string_view::npos) return Hint::table_only;
  return Hint::none;
}

// yaml.v3's resolve(tag, in) for tag "" (plain) or one of the scalar tags; `timestamps` is false
// for an explicit tag other than !!timestamp.
Scalar resolve_untagged_rules(std::string_view text, bool timestamps) {
  const Hint hint = hint_of(text);
  if (hint == Hint::none) return text_scalar(text);
  if (auto item = from_table(text)) return *item;
  if (hint == Hint::point) {
    if (is_yaml_float(text)) {
      if (auto value = go_parse_float(text)) return make(Scalar::Kind::floating, json::value(*value));
    }
    return text_scalar(text);
  }
  if (hint == Hint::table_only) return text_scalar(text);

  if (timestamps) {
    if (auto timestamp = parse_timestamp(text)) {
      return make(Scalar::Kind::timestamp, json::value(json::string(*timestamp)));
    }
  }
  std::string plain;
  plain.reserve(text.size());
  for (char c : text) {
    if (c != '_') plain += c;
  }
  if (auto value = go_parse_int(plain, 0)) return integer(*value);
  if (auto value = go_parse_uint(plain, 0)) return unsigned_integer(*value);
  if (is_yaml_float(plain)) {
    if (auto value = go_parse_float(plain)) return make(Scalar::Kind::floating, json::value(*value));
  }
  const std::string_view view = plain;
  if (view.starts_with("0b")) {
    if (auto value = go_parse_int(view.substr(2), 2)) return integer(*value);
    if (auto value = go_parse_uint(view.substr(2), 2)) return unsigned_integer(*value);
  } else if (view.starts_with("-0b")) {
    if (auto value = go_parse_int("-" + std::string(view.substr(3)), 2)) return integer(*value);
  }
  if (view.starts_with("0o")) {
    if (auto value = go_parse_int(view.substr(2), 8)) return integer(*value);
    if (auto value = go_parse_uint(view.substr(2), 8)) return unsigned_integer(*value);
  } else if (view.starts_with("-0o")) {
    if (auto value = go_parse_int("-" + std::string(view.substr(3)), 8)) return integer(*value);
  }
  return text_scalar(text);
}

std::string_view short_tag(Scalar::Kind kind) {
  switch (kind) {
    case Scalar::Kind::null: return "!!null";
    case Scalar::Kind::boolean: return "!!bool";
    case Scalar::Kind::integer: return "!!int";
    case Scalar::Kind::floating: return "!!float";
    case Scalar::Kind::string: return "!!str";
    case Scalar::Kind::timestamp: return "!!timestamp";
  }
  return "!!str";
}

}  // namespace

std::optional<std::string> parse_timestamp(std::string_view text) {
  // yaml.v3's quick check: every form starts with four digits and '-'.
  std::size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  if (digits != 4 || digits == text.size() || text[digits] != '-') return std::nullopt;
  for (Layout layout :
       {Layout::date_t_time_zone, Layout::date_lower_t_time_zone, Layout::date_space_time, Layout::date}) {
    Clock clock;
    if (parse_layout(text, layout, clock)) return rfc3339_nano(clock);
  }
  return std::nullopt;
}

Scalar resolve_plain(std::string_view text) {
  Scalar scalar = resolve_untagged_rules(text, true);
  const Hint hint = hint_of(text);
  if (hint == Hint::sign || hint == Hint::digit || hint == Hint::point) {
    // .inf and .nan read the same in both; everything else that starts like a number is compared.
    if (scalar.finite) {
      json::value core = core_schema_number(text);
      if (!same_reading(scalar.value, core)) scalar.yaml_1_2 = std::move(core);
    }
  }
  return scalar;
}

util::Result<Scalar> resolve_tagged(std::string_view tag, std::string_view text) {
  std::string_view name = tag;
  if (name.starts_with(tag_prefix)) name.remove_prefix(tag_prefix.size());
  const bool known = tag.starts_with(tag_prefix);
  Scalar::Kind wanted{};
  if (known && name == "str") return text_scalar(text);
  if (known && name == "null") {
    wanted = Scalar::Kind::null;
  } else if (known && name == "bool") {
    wanted = Scalar::Kind::boolean;
  } else if (known && name == "int") {
    wanted = Scalar::Kind::integer;
  } else if (known && name == "float") {
    wanted = Scalar::Kind::floating;
  } else if (known && name == "timestamp") {
    wanted = Scalar::Kind::timestamp;
  } else {
    return text_scalar(text);  // a tag yaml.v3 does not resolve: the text, as a string
  }
  Scalar scalar = resolve_untagged_rules(text, wanted == Scalar::Kind::timestamp);
  if (scalar.kind == wanted) return scalar;
  if (wanted == Scalar::Kind::floating && scalar.kind == Scalar::Kind::integer) {
    return make(Scalar::Kind::floating, json::value(scalar.value.to_number<double>()));
  }
  return util::fail(util::ErrorKind::internal,
                    fmt::format("cannot decode {} `{}` as a !!{}", short_tag(scalar.kind), text, name));
}

}  // namespace kfp::yaml
