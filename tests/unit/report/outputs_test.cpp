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
