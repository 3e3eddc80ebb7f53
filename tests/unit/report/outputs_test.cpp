#include "report/outputs.hpp"

#include "util/file.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include <unistd.h>
#include <filesystem>

namespace fs = std::filesystem;
using namespace kfp;

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

}  // namespace

TEST_CASE("every target gets its form of the report") {
  auto dir = fs::temp_directory_path() / ("kfp-outputs-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  util::MapEnvironment env({{"GITHUB_OUTPUT", (dir / "gh_output").string()},
                            {"GITHUB_STEP_SUMMARY", (dir / "gh_summary").string()}});
  auto targets =
      report::targets_from(env, dir / "report.json", dir / "results", dir / "termination-log-absent");
  CHECK_FALSE(targets.termination_log);  // absent file: not written
  auto failures = report::write_outputs(sample_report(), targets);
  CHECK(failures.empty());

  auto json = boost::json::parse(slurp(dir / "report.json"));
  CHECK(json.at("version").at("digest").as_string() == "sha256:abc");
  CHECK(slurp(dir / "results" / "run_id") == "rid-1");
  CHECK(slurp(dir / "results" / "run_state") == "SUCCEEDED");
  CHECK(slurp(dir / "results" / "exit_code") == "0");
  const auto output = slurp(dir / "gh_output");
  CHECK(output.find("pipeline_id=pid-1\n") != std::string::npos);
  CHECK(output.find("version_name=v-abc\n") != std::string::npos);
  CHECK(output.find("exit_code=0\n") != std::string::npos);
  CHECK(slurp(dir / "gh_summary").find("| run_state | `SUCCEEDED` |") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("the termination log gets one line when it exists") {
  auto dir = fs::temp_directory_path() / ("kfp-termlog-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  REQUIRE(util::write_file(dir / "termination-log", "", util::WriteMode::replace).has_value());
  util::MapEnvironment env;
  auto targets = report::targets_from(env, std::nullopt, std::nullopt, dir / "termination-log");
  REQUIRE(targets.termination_log);
  auto report = sample_report();
  report.set_failure(util::fail(util::ErrorKind::run_failed, "run ended FAILED\nsecond line"));
  CHECK(report::write_outputs(report, targets).empty());
  auto line = slurp(dir / "termination-log");
  CHECK(line.find("run_failed") != std::string::npos);
  CHECK(line.find('\n') == line.size() - 1);
  fs::remove_all(dir);
}

TEST_CASE("an unwritable report is a failure the caller sees") {
  util::MapEnvironment env;
  auto targets = report::targets_from(env, fs::path("/nonexistent-dir/report.json"), std::nullopt, "");
  auto failures = report::write_outputs(sample_report(), targets);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].message.find("/nonexistent-dir/report.json") != std::string::npos);
}
