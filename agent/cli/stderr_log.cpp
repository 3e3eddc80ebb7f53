#include "cli/stderr_log.hpp"

#include <fmt/format.h>

namespace kfp::cli {

StderrLog::StderrLog(int verbosity, Terminal terminal, bool colour, util::Secrets& secrets, std::FILE* stream)
    : verbosity_(verbosity), terminal_(terminal), colour_(colour), stream_(stream), secrets_(secrets) {}

StderrLog::~StderrLog() {
  end_progress_line();
}

void StderrLog::hint(std::string_view text) {
  std::lock_guard lock(mutex_);
  end_progress_line();
  fmt::print(stream_, "  hint: {}\n", secrets_.redact(std::string(text)));
  std::fflush(stream_);
}

void StderrLog::raw(std::string_view text) {
  std::lock_guard lock(mutex_);
  end_progress_line();
  std::fputs(secrets_.redact(std::string(text)).c_str(), stream_);
  std::fflush(stream_);
}

void StderrLog::end_progress_line() {
  if (progress_line_open_) {
    std::fputc('\n', stream_);
    progress_line_open_ = false;
  }
}

void StderrLog::write(util::LogLevel level, std::string_view message) {
  const int wanted = static_cast<int>(level);
  // Errors always show; -q hides the rest, -v adds debug.
  if (level != util::LogLevel::error && wanted > verbosity_ + 2) return;
  if (verbosity_ < 0 && level != util::LogLevel::error) return;
  std::lock_guard lock(mutex_);
  end_progress_line();
  std::string text = secrets_.redact(std::string(message));
  const char* prefix = "";
  const char* colour_on = "";
  switch (level) {
    case util::LogLevel::error:
      prefix = "error: ";
      colour_on = "\033[31m";
      break;
    case util::LogLevel::warning:
      prefix = "warning: ";
      colour_on = "\033[33m";
      break;
    case util::LogLevel::info: break;
    case util::LogLevel::debug:
      prefix = "debug: ";
      colour_on = "\033[2m";
      break;
  }
  if (colour_ && *colour_on != '\0') {
    fmt::print(stream_, "{}kfp-publish: {}{}\033[0m\n", colour_on, prefix, text);
  } else {
    fmt::print(stream_, "kfp-publish: {}{}\n", prefix, text);
  }
  std::fflush(stream_);
}

void StderrLog::progress(std::string_view message) {
  if (verbosity_ < 0) return;
  std::lock_guard lock(mutex_);
  std::string text = secrets_.redact(std::string(message));
  if (terminal_ == Terminal::yes) {
    // \r + clear-to-end redraws the one status line.
    fmt::print(stream_, "\r\033[2K{}", text);
    progress_line_open_ = true;
  } else {
    fmt::print(stream_, "kfp-publish: {}\n", text);
  }
  std::fflush(stream_);
}

}  // namespace kfp::cli
