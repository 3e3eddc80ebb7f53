#pragma once
// Cron specs as the server checks them: github.com/robfig/cron v1's cron.Parse (api_converter.go
// toModelJob; 1.8 job_server.go), whose default parser takes 6 fields with leading seconds or 5
// (day of week optional: the 5th field is the MONTH, not the day of week), and the descriptors
// @yearly @annually @monthly @weekly @daily @midnight @hourly and "@every <Go duration>".

#include <optional>
#include <string>
#include <string_view>

namespace kfp::emulator {

// nullopt when `spec` parses; else robfig/cron's error text.
[[nodiscard]] std::optional<std::string> cron_parse_error(std::string_view spec);

// Go's time.ParseDuration error for `text`, nullopt when it parses ("1h30m", "1.5s", "-2m").
[[nodiscard]] std::optional<std::string> go_duration_error(std::string_view text);

}  // namespace kfp::emulator
