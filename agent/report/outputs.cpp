#include "report/outputs.hpp"

#include "report/serialize.hpp"
#include "util/file.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <boost/locale/utf.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <array>
#include <map>
#include <set>

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

// The longest label the picture shows, in code points.
constexpr std::size_t max_label_chars = 60;

// Text for an HTML context inside a Markdown table cell: escaped, one line.
std::string html_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '|': out += "&#124;"; break;
      case '`': out += "&#96;"; break;
      case '\r': break;
      case '\n': out += "<br>"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// A label Mermaid reads as text whatever it holds: letters, digits and " -_./:" as they are,
// everything else as an entity code (#NNN;), which Mermaid turns back into the character.
std::string mermaid_label(std::string_view text) {
  using utf = boost::locale::utf::utf_traits<char>;
  std::string out;
  std::size_t chars = 0;
  auto position = text.begin();
  while (position != text.end()) {
    if (chars == max_label_chars) {
      out += "#8230;";  // …
      break;
    }
    const auto start = position;
    auto code_point = utf::decode(position, text.end());
    if (code_point == boost::locale::utf::illegal || code_point == boost::locale::utf::incomplete) {
      code_point = 0xFFFD;
      position = start + 1;
    }
    ++chars;
    const bool plain = (code_point >= 'a' && code_point <= 'z') || (code_point >= 'A' && code_point <= 'Z') ||
                       (code_point >= '0' && code_point <= '9') || code_point == ' ' || code_point == '-' ||
                       code_point == '_' || code_point == '.' || code_point == '/' || code_point == ':';
    if (plain)
      out.push_back(static_cast<char>(code_point));
    else
      out += fmt::format("#{};", static_cast<std::uint32_t>(code_point));
  }
  return out;
}

std::string state_class(const std::string& state) {
  if (state == "SUCCEEDED") return "succeeded";
  if (state == "FAILED") return "failed";
  if (state == "RUNNING") return "running";
  if (state == "SKIPPED") return "skipped";
  if (state == "CANCELED" || state == "CANCELING") return "canceled";
  return "pending";
}

std::string failed_tasks_markdown(const std::vector<FailedTask>& tasks) {
  std::string out =
      "\n#### Failed tasks\n\n| task | state | error | pod | log |\n| --- | --- | --- | --- | --- |\n";
  for (const auto& task : tasks) {
    std::string log;
    if (!task.log_tail.empty()) {
      const auto lines =
          static_cast<std::size_t>(std::count(task.log_tail.begin(), task.log_tail.end(), '\n')) + 1;
      log = fmt::format("<details><summary>last {} line{}</summary><pre>{}</pre></details>", lines,
                        lines == 1 ? "" : "s", html_cell(task.log_tail));
    }
    if (task.log_error)
      log += fmt::format("{}log not read: {}", log.empty() ? "" : "<br>", html_cell(*task.log_error));
    const std::string name =
        task.url.empty() ? html_cell(task.path)
                         : fmt::format("<a href=\"{}\">{}</a>", html_cell(task.url), html_cell(task.path));
    out += fmt::format("| {} | {} | {} | {} | {} |\n", name, html_cell(task.state), html_cell(task.error),
                       html_cell(task.pod), log);
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
  if (report.run && report.run->failed_tasks && !report.run->failed_tasks->empty())
    out += failed_tasks_markdown(*report.run->failed_tasks);
  if (report.run && report.run->graph) {
    const std::string picture =
        mermaid_graph(*report.run->graph, report.run->name.empty() ? report.run->id : report.run->name);
    if (!picture.empty()) out += fmt::format("\n```mermaid\n{}```\n", picture);
  }
  return out + "\n";
}

std::string mermaid_graph(const RunGraph& graph, const std::string& run_label) {
  if (graph.nodes.empty()) return {};
  // Which nodes are drawn: the failed path first, then the rest in order, up to the cap.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].on_failed_path) order.push_back(i);
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    if (!graph.nodes[i].on_failed_path) order.push_back(i);
  if (order.size() > max_graph_nodes) order.resize(max_graph_nodes);
  std::sort(order.begin(), order.end());
  std::map<std::string, std::string> ids;  // server id -> n<i>
  for (std::size_t k = 0; k < order.size(); ++k) ids.emplace(graph.nodes[order[k]].id, fmt::format("n{}", k));

  std::string out = "flowchart TD\n";
  out += fmt::format("  run([\"{}\"])\n", mermaid_label(run_label));
  std::map<std::string, std::vector<std::string>> by_class;
  std::vector<std::size_t> red_links;
  std::size_t link = 0;
  std::string links;
  for (std::size_t index : order) {
    const auto& node = graph.nodes[index];
    const std::string& id = ids.at(node.id);
    const std::string label = mermaid_label(node.label);
    out += node.group ? fmt::format("  {}[[\"{}\"]]\n", id, label) : fmt::format("  {}[\"{}\"]\n", id, label);
    by_class[state_class(node.state)].push_back(id);
    auto parent = ids.find(node.parent);
    const std::string from = node.parent.empty() || parent == ids.end() ? "run" : parent->second;
    links += fmt::format("  {} --> {}\n", from, id);
    if (node.on_failed_path) red_links.push_back(link);
    ++link;
  }
  for (const auto& [from, to] : graph.edges) {
    auto a = ids.find(from);
    auto b = ids.find(to);
    if (a == ids.end() || b == ids.end()) continue;
    links += fmt::format("  {} -.-> {}\n", a->second, b->second);
    ++link;
  }
  out += links;
  out += "  classDef succeeded fill:#dafbe1,stroke:#1a7f37,color:#0d1117\n";
  out += "  classDef failed fill:#ffebe9,stroke:#cf222e,stroke-width:3px,color:#0d1117\n";
  out += "  classDef running fill:#ddf4ff,stroke:#0969da,color:#0d1117\n";
  out += "  classDef pending fill:#f6f8fa,stroke:#8c959f,color:#0d1117\n";
  out += "  classDef skipped fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:4 3,color:#57606a\n";
  out += "  classDef canceled fill:#fff8c5,stroke:#9a6700,color:#0d1117\n";
  for (const auto& [name, members] : by_class) {
    std::string list;
    for (const auto& member : members) list += (list.empty() ? "" : ",") + member;
    out += fmt::format("  class {} {}\n", list, name);
  }
  if (!red_links.empty()) {
    std::string list;
    for (std::size_t index : red_links) list += (list.empty() ? "" : ",") + std::to_string(index);
    out += fmt::format("  linkStyle {} stroke:#cf222e,stroke-width:3px\n", list);
  }
  if (order.size() < graph.nodes.size())
    out += fmt::format("  more[\"{} more not drawn\"]\n", graph.nodes.size() - order.size());
  return out;
}

std::string failed_tasks_text(const Report& report) {
  if (!report.run || !report.run->failed_tasks || report.run->failed_tasks->empty()) return {};
  std::string out;
  for (const auto& task : *report.run->failed_tasks) {
    out += fmt::format("failed task {}\n", task.path);
    out += fmt::format("  state:    {}\n", task.state);
    if (!task.error.empty()) out += fmt::format("  error:    {}\n", task.error);
    if (!task.started_at.empty() || !task.finished_at.empty())
      out += fmt::format("  time:     {} .. {}\n", task.started_at.empty() ? "?" : task.started_at,
                         task.finished_at.empty() ? "?" : task.finished_at);
    if (!task.pod.empty()) out += fmt::format("  pod:      {}\n", task.pod);
    if (!task.url.empty()) out += fmt::format("  url:      {}\n", task.url);
    if (!task.log_tail.empty()) {
      const auto lines =
          static_cast<std::size_t>(std::count(task.log_tail.begin(), task.log_tail.end(), '\n')) + 1;
      out += fmt::format("  log (last {} line{}):\n", lines, lines == 1 ? "" : "s");
      std::size_t start = 0;
      while (start <= task.log_tail.size()) {
        const auto end = task.log_tail.find('\n', start);
        out += fmt::format("    | {}\n",
                           task.log_tail.substr(start, end == std::string::npos ? end : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
      }
    }
    if (task.log_error) out += fmt::format("  log not read: {}\n", *task.log_error);
  }
  return out;
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
