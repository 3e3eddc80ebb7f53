#include "report/outputs.hpp"

#include "report/serialize.hpp"
#include "unit/temp_dir.hpp"
#include "util/file.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using namespace kfp;
using kfp::test::TempDir;

namespace {

report::Report sample_report() {
  report::Report report;
  report.command = "publish";
  report.outcome = report::Outcome::created;
  report.pipeline = report::ObjectInfo{"pid-1", "hello", true, "", "", ""};
  report.version = report::ObjectInfo{"vid-1", "v-abc", true, "sha256:abc", "", ""};
  report.run = report::ObjectInfo{"rid-1", "ci-1", true, "", "SUCCEEDED", "http://ui/#/runs/details/rid-1"};
  return report;
}

std::string slurp(const fs::path& path) {
  return util::read_file(path, 1 << 20, util::ErrorKind::internal).value();
}

// GITHUB_OUTPUT as the runner reads it (actions/runner FileCommandManager: `name=value` lines, and
// `name<<DELIMITER` blocks ended by a line that is exactly DELIMITER).
std::multimap<std::string, std::string> parse_github_output(const std::string& text) {
  std::multimap<std::string, std::string> outputs;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto heredoc = line.find("<<");
    const auto equals = line.find('=');
    if (heredoc != std::string::npos && (equals == std::string::npos || heredoc < equals)) {
      const std::string name = line.substr(0, heredoc);
      const std::string delimiter = line.substr(heredoc + 2);
      std::string value;
      bool first = true;
      while (std::getline(in, line) && line != delimiter) {
        value += (first ? "" : "\n") + line;
        first = false;
      }
      outputs.emplace(name, value);
    } else if (equals != std::string::npos) {
      outputs.emplace(line.substr(0, equals), line.substr(equals + 1));
    }
  }
  return outputs;
}

}  // namespace

TEST_CASE("every target gets its form of the report") {
  TempDir dir("kfp-outputs");
  util::MapEnvironment env({{"GITHUB_OUTPUT", (dir.path / "gh_output").string()},
                            {"GITHUB_STEP_SUMMARY", (dir.path / "gh_summary").string()}});
  auto targets = report::targets_from(env, {dir.path / "report.json", dir.path / "results", std::nullopt},
                                      dir.path / "termination-log-absent");
  CHECK_FALSE(targets.termination_log);  // absent default: not written, not created
  CHECK(report::check_outputs(targets).empty());
  util::Secrets secrets;
  CHECK(report::write_outputs(sample_report(), targets, secrets).empty());

  auto json = boost::json::parse(slurp(dir.path / "report.json"));
  CHECK(json.at("version").at("digest").as_string() == "sha256:abc");
  CHECK(slurp(dir.path / "results" / "run_id") == "rid-1");
  CHECK(slurp(dir.path / "results" / "run_state") == "SUCCEEDED");
  CHECK(slurp(dir.path / "results" / "exit_code") == "0");
  auto outputs = parse_github_output(slurp(dir.path / "gh_output"));
  CHECK(outputs.find("pipeline_id")->second == "pid-1");
  CHECK(outputs.find("version_name")->second == "v-abc");
  CHECK(outputs.find("exit_code")->second == "0");
  CHECK(slurp(dir.path / "gh_summary").find("| run_state | `SUCCEEDED` |") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "termination-log-absent"));
}

TEST_CASE("a value cannot end its GITHUB_OUTPUT block or inject another output") {
  // The old fixed delimiter: a server-chosen run state could close the block and add outputs.
  const std::string hostile = "FAILED\nKFP_PUBLISH_EOF\nexit_code=0\nghadelimiter_x\nrun_id=evil";
  auto text = report::github_output_text({{"run_state", hostile}, {"exit_code", "1"}});
  REQUIRE(text.has_value());
  auto outputs = parse_github_output(*text);
  CHECK(outputs.size() == 2);
  CHECK(outputs.count("run_id") == 0);
  CHECK(outputs.find("run_state")->second == hostile);
  CHECK(outputs.find("exit_code")->second == "1");
  // Fresh delimiters each time.
  CHECK(*report::github_output_text({{"a", "b"}}) != *report::github_output_text({{"a", "b"}}));
}

TEST_CASE("an output name with a line break, '=' or '<<' is refused") {
  for (const char* name : {"run\nid", "run\rid", "a=b", "a<<b", ""}) {
    CHECK_FALSE_MESSAGE(report::github_output_text({{name, "v"}}).has_value(), name);
  }
}

TEST_CASE("the termination log gets the compact JSON report, in place") {
  TempDir dir("kfp-termlog");
  auto log = dir.path / "termination-log";
  REQUIRE(
      util::write_file(log, "stale content that is longer than the report will be", util::WriteMode::replace)
          .has_value());
  util::MapEnvironment env;
  auto targets = report::targets_from(env, {}, log);
  REQUIRE(targets.termination_log);
  auto report = sample_report();
  report.set_failure(util::fail(util::ErrorKind::run_failed, "run ended FAILED\nsecond line"));
  util::Secrets secrets;
  CHECK(report::write_outputs(report, targets, secrets).empty());
  auto text = slurp(log);
  CHECK(text.size() <= report::max_termination_message_bytes);
  auto json = boost::json::parse(text).as_object();
  CHECK(json.at("error").at("kind").as_string() == "run_failed");
  CHECK(json.at("exit_code").as_int64() == 1);
}

TEST_CASE("the termination log comes from the flag, else KFP_TERMINATION_LOG, else the default") {
  TempDir dir("kfp-termlog");
  auto present = dir.path / "present";
  REQUIRE(util::write_file(present, "", util::WriteMode::replace).has_value());
  util::MapEnvironment env;
  CHECK(report::targets_from(env, {}, present).termination_log == present);
  env.set(report::termination_log_variable, (dir.path / "from-env").string());
  CHECK(report::targets_from(env, {}, present).termination_log == dir.path / "from-env");
  report::OutputRequest request;
  request.termination_log = dir.path / "from-flag";
  CHECK(report::targets_from(env, request, present).termination_log == dir.path / "from-flag");
}

TEST_CASE("--report naming the termination-message file gets the termination message only") {
  TempDir dir("kfp-termlog");
  auto log = dir.path / "report.json";
  REQUIRE(util::write_file(log, "", util::WriteMode::replace).has_value());
  util::MapEnvironment env;
  auto targets = report::targets_from(env, {log, std::nullopt, log}, "");
  auto report = sample_report();
  report.details["objects"] = boost::json::array(500, boost::json::object{{"name", std::string(40, 'n')}});
  util::Secrets secrets;
  CHECK(report::write_outputs(report, targets, secrets).empty());
  auto text = slurp(log);
  CHECK(text.size() <= report::max_termination_message_bytes);
  CHECK(boost::json::parse(text).as_object().at("truncated").as_bool());
}

TEST_CASE("every destination is checked before the run, each failure naming it") {
  TempDir dir("kfp-outputs");
  util::MapEnvironment env({{"GITHUB_OUTPUT", (dir.path / "missing" / "out").string()},
                            {"GITHUB_STEP_SUMMARY", dir.path.string()}});
  report::OutputRequest request;
  request.report_file = dir.path / "nope" / "report.json";
  request.termination_log = dir.path / "gone" / "termination-log";
  auto failures = report::check_outputs(report::targets_from(env, request, ""));
  REQUIRE(failures.size() == 4);
  CHECK(failures[0].message.find("--report") == 0);
  CHECK(failures[1].message.find("GITHUB_OUTPUT") == 0);
  CHECK(failures[2].message.find("GITHUB_STEP_SUMMARY") == 0);
  CHECK(failures[3].message.find("termination log") != std::string::npos);
  for (const auto& failure : failures) CHECK(failure.kind == util::ErrorKind::usage);
  CHECK_FALSE(fs::exists(dir.path / "nope"));
}

TEST_CASE("an unwritable report is a failure the caller sees") {
  util::MapEnvironment env;
  auto targets =
      report::targets_from(env, {fs::path("/nonexistent-dir/report.json"), std::nullopt, std::nullopt}, "");
  util::Secrets secrets;
  auto failures = report::write_outputs(sample_report(), targets, secrets);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].message.find("/nonexistent-dir/report.json") != std::string::npos);
}

TEST_CASE("every output file is redacted of the secrets") {
  TempDir dir("kfp-outputs");
  const std::string token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.SIGNATURE-abcdefghijklmnop";
  util::MapEnvironment env({{"GITHUB_OUTPUT", (dir.path / "gh_output").string()},
                            {"GITHUB_STEP_SUMMARY", (dir.path / "gh_summary").string()}});
  auto log = dir.path / "termination-log";
  REQUIRE(util::write_file(log, "", util::WriteMode::replace).has_value());
  auto targets = report::targets_from(env, {dir.path / "report.json", dir.path / "results", log}, "");
  auto report = sample_report();
  report.run->state = "echo " + token;  // a server that echoes the token where a state belongs
  report.run->url = "http://user:secret-pw@ui/#/runs/" + token;
  report.set_failure(
      util::fail(util::ErrorKind::server, "HTTP 500: Authorization: Bearer " + token, "hint " + token));
  util::Secrets secrets;
  secrets.add(token);
  secrets.add("user:secret-pw@", util::Secrets::Kind::credentials);
  CHECK(report::write_outputs(report, targets, secrets).empty());
  for (const auto& entry : fs::recursive_directory_iterator(dir.path)) {
    if (!entry.is_regular_file()) continue;
    const auto text = slurp(entry.path());
    CHECK_MESSAGE(text.find("SIGNATURE") == std::string::npos, entry.path());
    CHECK_MESSAGE(text.find("secret-pw") == std::string::npos, entry.path());
  }
  CHECK(slurp(dir.path / "results" / "run_state") == "echo [REDACTED]");
}

namespace {

report::Report failed_run_report() {
  report::Report report;
  report.command = "run";
  report.run = report::ObjectInfo{"rid-1", "ci-1", true, "", "FAILED", "http://ui/#/runs/details/rid-1"};
  report.run->tasks = report::TaskCounts{3, 1, 0, 1, 1, 0, 0, {}};
  report::FailedTask task;
  task.name = "train";
  task.path = "outer-dag/for-loop-2[1]/train";
  task.state = "FAILED";
  task.error = "Error (exit code 1) | see <log>";
  task.pod = "p-abc-system-container-impl-1";
  task.node_id = task.pod;
  task.url = "http://ui/#/runs/details/rid-1";
  task.log_tail = "loading\nTraceback: ```boom``` <b>\nValueError: bad";
  report.run->failed_tasks = std::vector<report::FailedTask>{task};
  report::FailedTask unread = task;
  unread.path = "eval";
  unread.log_tail.clear();
  unread.log_error = "pods \"p2\" not found";
  report.run->failed_tasks->push_back(unread);
  report.set_failure(util::fail(util::ErrorKind::run_failed,
                                "run rid-1 ended FAILED; failed task outer-dag/for-loop-2[1]/train"));
  return report;
}

}  // namespace

TEST_CASE("the report's run carries the task counts and the failed tasks as the interface names them") {
  auto json = report::to_json(failed_run_report());
  const auto& run = json.at("run").as_object();
  const auto& tasks = run.at("tasks").as_object();
  CHECK(tasks.at("total").as_int64() == 3);
  CHECK(tasks.at("failed").as_int64() == 1);
  CHECK(tasks.at("running_tasks").as_array().empty());
  const auto& failed = run.at("failed_tasks").as_array();
  REQUIRE(failed.size() == 2);
  const auto& first = failed[0].as_object();
  for (const char* key : {"name", "path", "state", "error", "pod", "node_id", "url", "log_tail"})
    CHECK_MESSAGE(first.contains(key), key);
  CHECK_FALSE(first.contains("log_error"));
  CHECK(failed[1].as_object().at("log_error").as_string() == "pods \"p2\" not found");
}

TEST_CASE("a token in a task's log is redacted in the report, the summary and the text block") {
  auto report = failed_run_report();
  const std::string token =
      "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
  (*report.run->failed_tasks)[0].log_tail += "\nAuthorization: Bearer " + token;
  util::Secrets secrets;
  secrets.add(token);
  CHECK(report::to_json_text(report, secrets).find(token) == std::string::npos);
  CHECK(report::to_json_text(report, secrets).find("[REDACTED]") != std::string::npos);
  CHECK(secrets.redact(report::markdown_summary(report)).find(token) == std::string::npos);
  CHECK(secrets.redact(report::failed_tasks_text(report)).find(token) == std::string::npos);
}

TEST_CASE("the step summary has a failed-task table with the log folded, one row per task") {
  const std::string md = report::markdown_summary(failed_run_report());
  CHECK(md.find("| task | state | error | pod | log |") != std::string::npos);
  CHECK(md.find("<details><summary>last 3 lines</summary><pre>loading<br>Traceback: "
                "&#96;&#96;&#96;boom&#96;&#96;&#96; "
                "&lt;b&gt;<br>ValueError: bad</pre></details>") != std::string::npos);
  CHECK(md.find("Error (exit code 1) &#124; see &lt;log&gt;") != std::string::npos);
  CHECK(md.find("log not read: pods &quot;p2&quot; not found") != std::string::npos);
  // Every row is one line: nothing in a cell ends it.
  std::size_t rows = 0;
  std::istringstream in(md);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| <a href=", 0) == 0) ++rows;
  }
  CHECK(rows == 2);
}

TEST_CASE("the Mermaid picture colours tasks by state and draws the failed path thick") {
  report::RunGraph graph;
  graph.nodes = {{"g", "outer-dag", "FAILED", true, "", true},
                 {"t1", "prep", "SUCCEEDED", false, "g", false},
                 {"t2", "train", "FAILED", false, "g", true},
                 {"t3", "later", "PENDING", false, "", false}};
  graph.edges = {{"t1", "t2"}};
  const std::string chart = report::mermaid_graph(graph, "my run");
  CHECK(chart.find("flowchart TD\n") == 0);
  CHECK(chart.find("  run([\"my run\"])\n") != std::string::npos);
  CHECK(chart.find("  n0[[\"outer-dag\"]]\n") != std::string::npos);
  CHECK(chart.find("  n2[\"train\"]\n") != std::string::npos);
  CHECK(chart.find("  run --> n0\n  n0 --> n1\n  n0 --> n2\n  run --> n3\n  n1 -.-> n2\n") !=
        std::string::npos);
  CHECK(chart.find("  class n0,n2 failed\n") != std::string::npos);
  CHECK(chart.find("  class n1 succeeded\n") != std::string::npos);
  CHECK(chart.find("  class n3 pending\n") != std::string::npos);
  CHECK(chart.find("  linkStyle 0,2 stroke:#cf222e,stroke-width:3px\n") != std::string::npos);
  CHECK(chart.find("classDef failed") != std::string::npos);
}

TEST_CASE("no task name can break the Mermaid picture or its Markdown fence") {
  report::RunGraph graph;
  const std::string hostile = "a\"] --> evil[\"x\n```\nend; click n0 call x() %% é ✓ #quot; <b>";
  graph.nodes = {{"id\"]", hostile, "FAILED", false, "", true}};
  const std::string chart = report::mermaid_graph(graph, "run`\"]");
  std::istringstream in(chart);
  int node_lines = 0;
  for (std::string line; std::getline(in, line);) {
    CHECK(line.find('`') == std::string::npos);
    if (line.rfind("  n0[\"", 0) == 0) {
      ++node_lines;
      // The label between the quotes holds no quote, bracket, newline or raw non-ASCII byte.
      const std::string label = line.substr(6, line.size() - 8);
      CHECK(line.substr(line.size() - 2) == "\"]");
      CHECK(label.find_first_of("\"[]()%<>`") == std::string::npos);  // ";" ends entity codes
      for (unsigned char c : label) CHECK(c < 0x80);
      CHECK(label.find("#233;") != std::string::npos);    // é
      CHECK(label.find("#10003;") != std::string::npos);  // ✓
    }
  }
  CHECK(node_lines == 1);
  CHECK(chart.find("evil") != std::string::npos);  // as text inside the label, not a node
  CHECK(chart.find("\n  evil") == std::string::npos);
  // Ids are ours, never the server's.
  CHECK(chart.find("id\"]") == std::string::npos);
}

TEST_CASE("a picture past the node cap keeps the failed path and says how many were left out") {
  report::RunGraph graph;
  for (std::size_t i = 0; i < report::max_graph_nodes + 20; ++i)
    graph.nodes.push_back({"t" + std::to_string(i), "task", "SUCCEEDED", false, "", false});
  graph.nodes.back().state = "FAILED";
  graph.nodes.back().on_failed_path = true;
  const std::string chart = report::mermaid_graph(graph, "r");
  CHECK(chart.find("class n" + std::to_string(report::max_graph_nodes - 1) + " failed") != std::string::npos);
  CHECK(chart.find("20 more not drawn") != std::string::npos);
}

TEST_CASE("stderr's block for failed tasks gives state, error, pod, link and the indented log tail") {
  const std::string text = report::failed_tasks_text(failed_run_report());
  CHECK(
      text.find(
          "failed task outer-dag/for-loop-2[1]/train\n  state:    FAILED\n  error:    Error (exit code 1)") ==
      0);
  CHECK(text.find("  pod:      p-abc-system-container-impl-1\n") != std::string::npos);
  CHECK(
      text.find(
          "  log (last 3 lines):\n    | loading\n    | Traceback: ```boom``` <b>\n    | ValueError: bad\n") !=
      std::string::npos);
  CHECK(text.find("failed task eval\n") != std::string::npos);
  CHECK(text.find("  log not read: pods \"p2\" not found\n") != std::string::npos);
  CHECK(report::failed_tasks_text(sample_report()).empty());
}
