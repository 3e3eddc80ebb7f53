#pragma once
// Diagnostics for humans (stderr in the CLI). Library code logs through this interface and never
// prints; the CLI's sink decides verbosity, colour and redaction of secrets.

#include <fmt/format.h>

#include <mutex>
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
  // Whether progress redraws one line in place (a terminal), so that it may be said at every change
  // rather than at heartbeats only.
  [[nodiscard]] virtual bool redraws_progress() const { return false; }

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

// Replaces with "[REDACTED]" every occurrence of each secret in `text`, and a secret's head of at
// least min_redacted_head_chars where the text was cut short after it (at its end or at "…": server
// messages are truncated, and a 1 KB token in an echoed header straddles the cut). Secrets shorter than
// min_secret_chars are skipped: they would redact ordinary words; tokens are long.
[[nodiscard]] std::string redact(std::string text, const std::vector<std::string>& secrets);

inline constexpr std::size_t min_secret_chars = 8;
inline constexpr std::size_t min_redacted_head_chars = 16;

// The secrets this process has seen: every token as read (and a JWT's signature on its own) and the
// credentials of any URL it was given. Each output channel (stdout, stderr, the report, the results
// directory, the GitHub outputs, summary and annotation, the termination message) passes what it writes
// through redact() at the one place it writes. Thread-safe (apply's workers read tokens); never shrinks.
class Secrets {
 public:
  enum class Kind {
    token,        // a bearer token: redacted when at least min_secret_chars long
    credentials,  // URL user info ("user:pass@"): always redacted, whatever its length
  };
  void add(const std::string& secret, Kind kind = Kind::token);
  [[nodiscard]] std::string redact(std::string text) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> tokens_;
  std::vector<std::string> credentials_;
};

}  // namespace kfp::util
