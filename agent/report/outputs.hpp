#pragma once
// Where the report goes besides stdout: --report FILE, --results-dir DIR (Tekton/Argo), GitHub
// Actions' GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, and the Kubernetes termination log.

#include "report/report.hpp"
#include "util/environment.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kfp::report {

struct OutputTargets {
  std::optional<std::filesystem::path> report_file;
  std::optional<std::filesystem::path> results_dir;
  std::optional<std::filesystem::path> github_output;
  std::optional<std::filesystem::path> github_step_summary;
  std::optional<std::filesystem::path> termination_log;  // only when it exists and is writable
};

inline constexpr const char* default_termination_log = "/dev/termination-log";

// Targets from the options and the CI's variables (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY).
[[nodiscard]] OutputTargets targets_from(
    const util::Environment& env, std::optional<std::filesystem::path> report_file,
    std::optional<std::filesystem::path> results_dir,
    const std::filesystem::path& termination_log = default_termination_log);

// The short result fields CI reads: pipeline_id, version_id, version_name, run_id, run_state,
// exit_code, outcome (only those that are known).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> result_fields(const Report& report);

// The one-line summary ("publish created: pipeline x version y"), for logs and the termination log.
[[nodiscard]] std::string summary_line(const Report& report);

// The GitHub step summary in Markdown.
[[nodiscard]] std::string markdown_summary(const Report& report);

// Writes every target. Returns the failures (each names the path); the caller decides the exit code.
[[nodiscard]] std::vector<util::Failure> write_outputs(const Report& report, const OutputTargets& targets);

}  // namespace kfp::report
