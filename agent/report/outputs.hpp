#pragma once
// Where the report goes besides stdout: --report FILE, --results-dir DIR (Tekton/Argo), GitHub
// Actions' GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, and the Kubernetes termination-message file.
// Every destination is checked before the first request, and redacted where it is written.

#include "report/report.hpp"
#include "util/environment.hpp"
#include "util/log.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kfp::report {

inline constexpr const char* default_termination_log = "/dev/termination-log";
inline constexpr const char* termination_log_variable = "KFP_TERMINATION_LOG";

// What the command line asked for.
struct OutputRequest {
  std::optional<std::filesystem::path> report_file;
  std::optional<std::filesystem::path> results_dir;
  std::optional<std::filesystem::path> termination_log;  // --termination-log
};

struct OutputTargets {
  std::optional<std::filesystem::path> report_file;
  std::optional<std::filesystem::path> results_dir;
  std::optional<std::filesystem::path> github_output;
  std::optional<std::filesystem::path> github_step_summary;
  std::optional<std::filesystem::path> termination_log;
};

// The targets: the request's, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, and the termination-message file
// (--termination-log, else KFP_TERMINATION_LOG, else `default_log` only when it exists and is
// writable: a pod's kubelet provides it, nothing else should get one created).
[[nodiscard]] OutputTargets targets_from(const util::Environment& env, const OutputRequest& request,
                                         const std::filesystem::path& default_log = default_termination_log);

// Checks, before anything is sent, that every target can be written (creating the results directory).
// Returns the failures, each naming the path; nothing is written.
[[nodiscard]] std::vector<util::Failure> check_outputs(const OutputTargets& targets);

// The short result fields CI reads: pipeline_id, version_id, version_name, run_id, run_state,
// exit_code, outcome (only those that are known).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> result_fields(const Report& report);

// The one-line summary ("kfp-publish publish created: pipeline x version y (exit 0)"), for -o text.
[[nodiscard]] std::string summary_line(const Report& report);

// The GitHub step summary in Markdown: the result fields, the error, and for a run that reported
// its tasks a table of the failed ones (each log tail folded in <details>) and a Mermaid picture of
// the run's graph (mermaid_graph).
[[nodiscard]] std::string markdown_summary(const Report& report);

// The most nodes the picture draws: GitHub's Mermaid refuses large diagrams (maxTextSize, maxEdges),
// and a picture of thousands of loop iterations says nothing. The failed path is kept first.
inline constexpr std::size_t max_graph_nodes = 150;

// A Mermaid flowchart of the run's graph: the run at the top, groups (sub-DAGs, loop iterations) as
// subroutine boxes, tasks coloured by final state (classDef per state), nesting as solid arrows,
// dependencies as dotted ones, the path from the run to each failed task drawn thick and red.
// Node ids are n0, n1, ... and labels are entity-encoded (Mermaid's #NNN;) beyond letters, digits and
// " -_./:", so no name (quotes, brackets, backticks, newlines, any Unicode) can end a label, the
// diagram or the Markdown fence. Empty when the graph has no nodes.
[[nodiscard]] std::string mermaid_graph(const RunGraph& graph, const std::string& run_label);

// The text block stderr shows for a run's failed tasks (state, error, times, pod, link, then the
// log tail indented); empty when there are none.
[[nodiscard]] std::string failed_tasks_text(const Report& report);

// GITHUB_OUTPUT lines for `fields`, each in the heredoc form `name<<DELIMITER` with a fresh random
// delimiter (as @actions/core's prepareKeyValueMessage writes them), so no value can end its block
// or inject another output. Fails (kind internal) on a name that is empty or holds a line break,
// '=' or "<<", which the runner would split.
[[nodiscard]] util::Result<std::string> github_output_text(
    const std::vector<std::pair<std::string, std::string>>& fields);

// Writes every target, each redacted of `secrets`: the report file gets the full report, the
// termination log the termination message (report/serialize.hpp; when --report names the same file, it
// gets that message only). Returns the failures (each names the path); the caller decides the exit code.
[[nodiscard]] std::vector<util::Failure> write_outputs(const Report& report, const OutputTargets& targets,
                                                       const util::Secrets& secrets);

}  // namespace kfp::report
