#pragma once
// Diagnostics for humans (stderr in the CLI). Library code logs through this interface and never
// prints; the CLI's sink decides verbosity, colour and redaction of secrets.

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace kfp::util {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };

class Log {
 public:
  virtual ~Log() = default;
  virtual void write(LogLevel level, std::string_view message) = 0;
  // Progress and state changes ("run RUNNING, 1m20s"); a terminal sink may redraw one line.
  virtual void progress(std::string_view message) { write(LogLevel::info, message); }

  template <class... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::error, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void warning(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::warning, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::info, fmt::format(format, std::forward<Args>(args)...));
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::debug, fmt::format(format, std::forward<Args>(args)...));
  }
};

// Discards everything (library defaults, tests).
class NullLog final : public Log {
 public:
  void write(LogLevel /*level*/, std::string_view /*message*/) override {}
};

// Keeps every line, for tests that assert on what was logged.
class MemoryLog final : public Log {
 public:
  void write(LogLevel level, std::string_view message) override {
    lines.emplace_back(level, std::string(message));
  }
  std::vector<std::pair<LogLevel, std::string>> lines;
};

// Replaces every occurrence of each secret in `text` with "[REDACTED]".
[[nodiscard]] std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace kfp::util
