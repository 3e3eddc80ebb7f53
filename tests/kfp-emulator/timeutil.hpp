#pragma once
// Timestamps and identifiers as the server writes them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kfp::emulator {

using Clock = std::chrono::system_clock;
using Time = Clock::time_point;

// RFC 3339 in UTC with second precision: "2025-05-01T10:00:00Z". The zero Time gives the epoch,
// as the server reports an unfinished run's finished_at.
[[nodiscard]] std::string rfc3339(Time time);
// Parses "2025-05-01T10:00:00Z" (optional fraction, 'Z' or numeric offset).
[[nodiscard]] std::optional<Time> parse_rfc3339(std::string_view text);
[[nodiscard]] std::int64_t unix_seconds(Time time);

// A random UUID (version 4), as the server gives objects.
[[nodiscard]] std::string new_uuid();

}  // namespace kfp::emulator
