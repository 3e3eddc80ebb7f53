#pragma once
// Durations as users write them on the command line: "30s", "500ms", "2m", "1h30m", "1.5s".

#include "util/error.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace kfp::util {

using Milliseconds = std::chrono::milliseconds;

// Parses a Go-style duration (units ns, us, ms, s, m, h; a bare 0 allowed). Fails with kind usage.
[[nodiscard]] Result<Milliseconds> parse_duration(std::string_view text);

// "1m30s", "250ms": the shortest exact spelling, for messages and reports.
[[nodiscard]] std::string format_duration(Milliseconds duration);

}  // namespace kfp::util
