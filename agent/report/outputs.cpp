#include "report/outputs.hpp"

#include "report/serialize.hpp"
#include "util/file.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <sys/stat.h>
#include <unistd.h>
#include <array>

namespace kfp::report {

namespace {

constexpr std::size_t delimiter_random_bytes = 16;
// A results file checked before the run: the one every run writes.
constexpr const char* probe_field = "exit_code";

std::string random_delimiter() {
  std::array<unsigned char, delimiter_random_bytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw util::Error(util::ErrorKind::internal, "OpenSSL could not produce random bytes");
  }
  std::string out = "ghadelimiter_";
  for (unsigned char byte : bytes) out += fmt::format("{:02x}", byte);
  return out;
}

std::string markdown_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|' || c == '`') out.push_back('\\');
    out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  }
  return out;
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  struct stat first {};
  struct stat second {};
  return ::stat(a.c_str(), &first) == 0 && ::stat(b.c_str(), &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

}  // namespace

OutputTargets targets_from(const util::Environment& env, const OutputRequest& request,
                           const std::filesystem::path& default_log) {
  OutputTargets targets;
  targets.report_file = request.report_file;
  targets.results_dir = request.results_dir;
  if (auto value = env.get("GITHUB_OUTPUT")) targets.github_output = *value;
  if (auto value = env.get("GITHUB_STEP_SUMMARY")) targets.github_step_summary = *value;
  if (request.termination_log) {
    targets.termination_log = request.termination_log;
  } else if (auto value = env.get(termination_log_variable)) {
    targets.termination_log = *value;
  } else if (!default_log.empty() && ::access(default_log.c_str(), W_OK) == 0) {
    targets.termination_log = default_log;
  }
  return targets;
}

std::vector<util::Failure> check_outputs(const OutputTargets& targets) {
  std::vector<util::Failure> failures;
  auto check = [&](const util::Result<void>& result, std::string_view what) {
    if (result) return;
    util::Failure failure = result.error();
    failure.message = fmt::format("{}: {}", what, failure.message);
    if (failure.hint.empty()) failure.hint = "fix the path or its permissions; nothing was sent";
    failures.push_back(std::move(failure));
  };
  if (targets.report_file)
    check(util::check_writable(*targets.report_file, util::WriteMode::replace), "--report");
  if (targets.results_dir) {
    std::error_code ec;
    std::filesystem::create_directories(*targets.results_dir, ec);
    check(ec ? util::Result<void>(util::fail(util::ErrorKind::usage,
                                             fmt::format("cannot create the directory {}: {}",
                                                         targets.results_dir->string(), ec.message())))
             : util::check_writable(*targets.results_dir / probe_field, util::WriteMode::replace),
          "--results-dir");
  }
  if (targets.github_output) {
    check(util::check_writable(*targets.github_output, util::WriteMode::append), "GITHUB_OUTPUT");
  }
  if (targets.github_step_summary) {
    check(util::check_writable(*targets.github_step_summary, util::WriteMode::append), "GITHUB_STEP_SUMMARY");
  }
  if (targets.termination_log) {
    check(util::check_writable(*targets.termination_log, util::WriteMode::in_place), "the termination log");
  }
  return failures;
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
  // One line: CI annotations must not be split.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

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

util::Result<std::string> github_output_text(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (name.empty() || name.find_first_of("\r\n=") != std::string::npos ||
        name.find("<<") != std::string::npos) {
      return util::fail(util::ErrorKind::internal, fmt::format("GITHUB_OUTPUT: the output name '{}' is not a "
                                                               "single word",
                                                               name));
    }
    std::string delimiter = random_delimiter();
    // 128 random bits make a collision impossible in practice; a value holding one is still refused.
    while (value.find(delimiter) != std::string::npos) delimiter = random_delimiter();
    out += fmt::format("{}<<{}\n{}\n{}\n", name, delimiter, value, delimiter);
  }
  return out;
}

std::vector<util::Failure> write_outputs(const Report& report, const OutputTargets& targets,
                                         const util::Secrets& secrets) {
  std::vector<util::Failure> failures;
  auto check = [&](const util::Result<void>& result) {
    if (!result) failures.push_back(result.error());
  };
  auto fields = result_fields(report);
  for (auto& field : fields) field.second = secrets.redact(std::move(field.second));

  const bool report_is_termination_log = targets.report_file && targets.termination_log &&
                                         same_file(*targets.report_file, *targets.termination_log);
  if (targets.report_file && !report_is_termination_log) {
    check(util::write_file(*targets.report_file, to_json_text(report, secrets) + "\n",
                           util::WriteMode::replace));
  }
  if (targets.results_dir) {
    std::error_code ec;
    std::filesystem::create_directories(*targets.results_dir, ec);
    for (const auto& [key, value] : fields) {
      // Tekton results are read verbatim: no trailing newline.
      check(util::write_file(*targets.results_dir / key, value, util::WriteMode::replace));
    }
  }
  if (targets.github_output) {
    auto text = github_output_text(fields);
    check(text ? util::write_file(*targets.github_output, *text, util::WriteMode::append)
               : util::Result<void>(text.error()));
  }
  if (targets.github_step_summary) {
    check(util::write_file(*targets.github_step_summary, secrets.redact(markdown_summary(report)),
                           util::WriteMode::append));
  }
  if (targets.termination_log) {
    // No newline: the kubelet keeps the file's last 4096 bytes, all of them JSON.
    check(util::write_file(*targets.termination_log, termination_message(report, secrets),
                           util::WriteMode::in_place));
  }
  return failures;
}

}  // namespace kfp::report
