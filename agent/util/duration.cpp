#include "util/duration.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <string>

namespace kfp::util {

Result<Milliseconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorKind::usage, fmt::format("invalid duration '{}'", text),
                "write a number with a unit, e.g. 30s, 500ms, 10m, 1h30m");
  };
  if (text.empty()) return bad();
  if (text == "0") return Milliseconds{0};
  double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return bad();
    double number = 0;
    try {
      number = std::stod(std::string(text.substr(start, i - start)));
    } catch (const std::exception&) {
      return bad();
    }
    std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double factor = 0;
    if (unit == "ns")
      factor = 1e-6;
    else if (unit == "us" || unit == "µs")
      factor = 1e-3;
    else if (unit == "ms")
      factor = 1;
    else if (unit == "s")
      factor = 1e3;
    else if (unit == "m")
      factor = 60e3;
    else if (unit == "h")
      factor = 3600e3;
    else
      return bad();
    total_ms += number * factor;
  }
  if (!std::isfinite(total_ms) || total_ms > 1e15) return bad();
  return Milliseconds{static_cast<long long>(std::llround(total_ms))};
}

std::string format_duration(Milliseconds duration) {
  auto ms = duration.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const long long hours = ms / 3'600'000;
  const long long minutes = (ms / 60'000) % 60;
  const long long seconds = (ms / 1000) % 60;
  const long long millis = ms % 1000;
  if (hours) out += fmt::format("{}h", hours);
  if (minutes) out += fmt::format("{}m", minutes);
  if (seconds && millis)
    out += fmt::format("{}.{:03}s", seconds, millis);
  else if (seconds)
    out += fmt::format("{}s", seconds);
  else if (millis)
    out += fmt::format("{}ms", millis);
  return out;
}

}  // namespace kfp::util
