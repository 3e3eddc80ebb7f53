#pragma once
// The CLI's log sink: stderr, filtered by verbosity, secrets redacted. On a terminal, progress
// redraws one line; in CI logs (no terminal) each progress message is its own line. Thread-safe.
// Every line passes through the process's util::Secrets, shared with the other output channels.

#include "util/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace kfp::cli {

enum class Terminal { yes, no };

class StderrLog final : public util::Log {
 public:
  StderrLog(int verbosity, Terminal terminal, bool colour, util::Secrets& secrets,
            std::FILE* stream = stderr);
  ~StderrLog() override;
  StderrLog(const StderrLog&) = delete;
  StderrLog& operator=(const StderrLog&) = delete;

  void write(util::LogLevel level, std::string_view message) override;
  void progress(std::string_view message) override;
  [[nodiscard]] bool redraws_progress() const override {
    return terminal_ == Terminal::yes && verbosity_ >= 0;
  }
  // A hint line ("  hint: ...") under an error, redacted like the rest.
  void hint(std::string_view text);
  // Text written as is (a GitHub workflow command), redacted like the rest.
  void raw(std::string_view text);

 private:
  void end_progress_line();

  std::mutex mutex_;  // apply's workers log from several threads
  int verbosity_;
  Terminal terminal_;
  bool colour_;
  std::FILE* stream_;
  bool progress_line_open_ = false;
  util::Secrets& secrets_;
};

}  // namespace kfp::cli
