#pragma once
// The CLI's log sink: stderr, filtered by verbosity, secrets redacted. On a terminal, progress
// redraws one line; in CI logs (no terminal) each progress message is its own line. Thread-safe.

#include "util/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace kfp::cli {

enum class Terminal { yes, no };

class StderrLog final : public util::Log {
 public:
  StderrLog(int verbosity, Terminal terminal, bool colour, std::FILE* stream = stderr);
  ~StderrLog() override;
  StderrLog(const StderrLog&) = delete;
  StderrLog& operator=(const StderrLog&) = delete;

  void write(util::LogLevel level, std::string_view message) override;
  void progress(std::string_view message) override;
  // Every later line has this string replaced by [REDACTED].
  void add_secret(std::string secret);

 private:
  void end_progress_line();

  std::mutex mutex_;  // apply's workers log from several threads
  int verbosity_;
  Terminal terminal_;
  bool colour_;
  std::FILE* stream_;
  bool progress_line_open_ = false;
  std::vector<std::string> secrets_;
};

}  // namespace kfp::cli
