#include "cli/app.hpp"

#include "unit/temp_dir.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

using namespace kfp;

namespace {

struct Outcome {
  int code = 0;
  std::string out;
  std::string err;
};

std::string read_all(std::FILE* file) {
  std::string text;
  std::rewind(file);
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, n);
  return text;
}

// Runs the whole CLI in-process with stdout and stderr captured in temporary files.
Outcome run(std::vector<std::string> args, util::MapEnvironment env = {}, std::FILE* out = nullptr) {
  args.insert(args.begin(), "kfp-publish");
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  std::FILE* captured_out = out != nullptr ? out : std::tmpfile();
  std::FILE* captured_err = std::tmpfile();
  Outcome outcome;
  outcome.code = cli::run_cli(static_cast<int>(argv.size()), argv.data(), env, {captured_out, captured_err});
  if (out == nullptr) {
    outcome.out = read_all(captured_out);
    std::fclose(captured_out);
  }
  outcome.err = read_all(captured_err);
  std::fclose(captured_err);
  return outcome;
}

// Exactly one JSON object, on one line.
boost::json::object one_object(const std::string& text) {
  REQUIRE_MESSAGE(!text.empty(), "nothing on stdout");
  CHECK(text.back() == '\n');
  CHECK(text.find('\n') == text.size() - 1);
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  REQUIRE_MESSAGE(!ec, text);
  REQUIRE(value.is_object());
  return value.as_object();
}

}  // namespace

TEST_CASE("-o json prints one JSON object with no command, for --version and for --help") {
  auto none = run({"-o", "json"});
  CHECK(none.code == 2);
  auto report = one_object(none.out);
  CHECK(report.at("exit_code").as_int64() == 2);
  CHECK(report.at("error").at("kind").as_string() == "usage");
  CHECK(std::string(report.at("error").at("message").as_string()).find("no command") != std::string::npos);

  auto version = run({"--version", "--output=json"});
  CHECK(version.code == 0);
  CHECK(one_object(version.out).at("version").as_string() == KFP_PUBLISH_VERSION);

  util::MapEnvironment json_env;
  json_env.set("KFP_OUTPUT", "json");
  auto help = run({"--help"}, json_env);
  CHECK(help.code == 0);
  CHECK(std::string(one_object(help.out).at("help").as_string()).find("--termination-log") !=
        std::string::npos);

  auto unknown = run({"frobnicate", "-ojson"});
  CHECK(unknown.code == 2);
  CHECK(one_object(unknown.out).at("error").at("kind").as_string() == "usage");

  // The last -o wins.
  CHECK(run({"-o", "json", "--version", "-o", "text"}).out.find('{') == std::string::npos);
}

TEST_CASE("publish refuses run options without --run instead of ignoring them") {
  for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
           {"--param", "epochs=3"}, {"--experiment", "ci"}, {"--wait"}, {"--params-file", "p.yaml"}}) {
    std::vector<std::string> args{"publish", "pipeline.yaml", "--pipeline", "p", "-o", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto result = run(args);
    CHECK(result.code == 2);
    auto message = std::string(one_object(result.out).at("error").at("message").as_string());
    CHECK_MESSAGE(message == extra[0] + " needs --run", message);
  }
}

TEST_CASE("a parameter given twice is an error before any request, not the last one silently winning") {
  const std::string package = std::string(KFP_SOURCE_DIR) + "/pipelines-examples/hello-world.yaml";
  // Nothing listens on port 9: a request would end in exit 7.
  auto result =
      run({"publish", package, "--pipeline", "p", "--run", "--experiment", "e", "--param", "message=a",
           "--param", "message=b", "-o", "json", "--host", "http://127.0.0.1:9", "--retries", "0"});
  CHECK(result.code == 3);
  auto message = std::string(one_object(result.out).at("error").at("message").as_string());
  CHECK(message == "--param message is given more than once");
}

TEST_CASE("a stdout that cannot be written ends non-zero") {
  std::FILE* full = std::fopen("/dev/full", "w");
  REQUIRE(full != nullptr);
  auto result = run({"version"}, {}, full);
  std::fclose(full);
  CHECK(result.code == 2);
  CHECK(result.err.find("cannot write to stdout") != std::string::npos);

  kfp::test::TempDir dir("kfp-app");
  const auto path = dir.path / "read-only";
  std::FILE* create = std::fopen(path.c_str(), "w");
  std::fclose(create);
  std::FILE* read_only = std::fopen(path.c_str(), "r");
  auto closed = run({"version", "-o", "json"}, {}, read_only);
  std::fclose(read_only);
  CHECK(closed.code == 2);
  CHECK(closed.err.find("stdout is closed or not open for writing") != std::string::npos);
}

TEST_CASE("an output destination that cannot be written stops the command before it starts") {
  kfp::test::TempDir dir("kfp-app");
  auto result = run({"validate", "no-such-package.yaml", "-o", "json", "--report",
                     (dir.path / "missing-dir" / "report.json").string()});
  CHECK(result.code == 2);
  auto report = one_object(result.out);
  CHECK(std::string(report.at("error").at("message").as_string()).find("--report") == 0);
  CHECK_FALSE(report.contains("packages"));  // validate never ran
}

TEST_CASE("credentials in a URL on the command line reach no output") {
  const std::string secret = "pa55-w0rd-xyz";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"version", "--host", "http://ci:" + secret + "@kfp:8888", "-o", "json"},
           {"http://ci:" + secret + "@kfp:8888", "-o", "json"},
           {"validate", "--host=http://ci:" + secret + "@kfp:8888/?q", "x.yaml"}}) {
    auto result =
        run(args, util::MapEnvironment(std::map<std::string, std::string>{{"GITHUB_ACTIONS", "true"}}));
    CHECK(result.code == 2);
    CHECK_MESSAGE(result.out.find(secret) == std::string::npos, result.out);
    CHECK_MESSAGE(result.err.find(secret) == std::string::npos, result.err);
  }
}
