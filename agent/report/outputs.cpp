#include "report/outputs.hpp"

#include "util/file.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <unistd.h>

namespace kfp::report {

OutputTargets targets_from(const util::Environment& env, std::optional<std::filesystem::path> report_file,
                           std::optional<std::filesystem::path> results_dir,
                           const std::filesystem::path& termination_log) {
  OutputTargets targets;
  targets.report_file = std::move(report_file);
  targets.results_dir = std::move(results_dir);
  if (auto value = env.get("GITHUB_OUTPUT")) targets.github_output = *value;
  if (auto value = env.get("GITHUB_STEP_SUMMARY")) targets.github_step_summary = *value;
  std::error_code ec;
  if (!termination_log.empty() && std::filesystem::exists(termination_log, ec) &&
      ::access(termination_log.c_str(), W_OK) == 0) {
    targets.termination_log = termination_log;
  }
  return targets;
}

std::vector<std::pair<std::string, std::string>> result_fields(const Report& report) {
  std::vector<std::pair<std::string, std::string>> fields;
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) fields.emplace_back(key, value);
  };
  if (report.pipeline) add("pipeline_id", report.pipeline->id);
  if (report.version) {
    add("version_id", report.version->id);
    add("version_name", report.version->name);
  }
  if (report.run) {
    add("run_id", report.run->id);
    add("run_state", report.run->state);
  }
  add("outcome", std::string(to_string(report.outcome)));
  fields.emplace_back("exit_code", std::to_string(report.exit_code));
  return fields;
}

std::string summary_line(const Report& report) {
  std::string line = fmt::format("kfp-publish {}", report.command);
  if (report.outcome != Outcome::none) line += fmt::format(" {}", to_string(report.outcome));
  if (report.pipeline && !report.pipeline->name.empty())
    line += fmt::format(": pipeline {}", report.pipeline->name);
  if (report.version && !report.version->name.empty())
    line += fmt::format(" version {}", report.version->name);
  if (report.run && !report.run->id.empty()) {
    line += fmt::format(" run {}", report.run->id);
    if (!report.run->state.empty()) line += fmt::format(" {}", report.run->state);
  }
  if (report.error)
    line += fmt::format(" — {}: {}", util::to_string(report.error->kind), report.error->message);
  line += fmt::format(" (exit {})", report.exit_code);
  // One line: the termination log and CI annotations must not be split.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

namespace {

std::string markdown_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|' || c == '`') out.push_back('\\');
    out.push_back(c == '\n' ? ' ' : c);
  }
  return out;
}

// GITHUB_OUTPUT lines: name=value, or the heredoc form when the value spans lines.
std::string github_output_lines(const Report& report) {
  std::string out;
  for (const auto& [key, value] : result_fields(report)) {
    if (value.find('\n') == std::string::npos) {
      out += fmt::format("{}={}\n", key, value);
    } else {
      out += fmt::format("{}<<KFP_PUBLISH_EOF\n{}\nKFP_PUBLISH_EOF\n", key, value);
    }
  }
  return out;
}

}  // namespace

std::string markdown_summary(const Report& report) {
  std::string out = fmt::format("### kfp-publish {}: {}\n\n", report.command,
                                report.error ? "failed" : std::string(to_string(report.outcome)));
  out += "| field | value |\n| --- | --- |\n";
  for (const auto& [key, value] : result_fields(report)) {
    out += fmt::format("| {} | `{}` |\n", key, markdown_escape(value));
  }
  if (report.run && !report.run->url.empty()) out += fmt::format("\n[Open the run]({})\n", report.run->url);
  if (report.error) {
    out += fmt::format("\n**{}**: {}\n", util::to_string(report.error->kind),
                       markdown_escape(report.error->message));
    if (!report.error->hint.empty()) out += fmt::format("\nHint: {}\n", markdown_escape(report.error->hint));
  }
  return out + "\n";
}

std::vector<util::Failure> write_outputs(const Report& report, const OutputTargets& targets) {
  std::vector<util::Failure> failures;
  auto check = [&](const util::Result<void>& result) {
    if (!result) failures.push_back(result.error());
  };
  if (targets.report_file) {
    check(util::write_file(*targets.report_file, boost::json::serialize(to_json(report)) + "\n",
                           util::WriteMode::replace));
  }
  if (targets.results_dir) {
    std::error_code ec;
    std::filesystem::create_directories(*targets.results_dir, ec);
    for (const auto& [key, value] : result_fields(report)) {
      // Tekton results are read verbatim: no trailing newline.
      check(util::write_file(*targets.results_dir / key, value, util::WriteMode::replace));
    }
  }
  if (targets.github_output) {
    check(util::write_file(*targets.github_output, github_output_lines(report), util::WriteMode::append));
  }
  if (targets.github_step_summary) {
    check(util::write_file(*targets.github_step_summary, markdown_summary(report), util::WriteMode::append));
  }
  if (targets.termination_log) {
    // Best effort by design: the termination log is a convenience, not a contract.
    (void)util::write_file(*targets.termination_log, summary_line(report) + "\n", util::WriteMode::append);
  }
  return failures;
}

}  // namespace kfp::report
