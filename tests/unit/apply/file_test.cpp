#include "apply/file.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace kfp;

namespace {

const std::filesystem::path examples = std::filesystem::path(KFP_SOURCE_DIR) / "pipelines-examples";

util::Result<apply::ApplyFile> parse(const std::string& text,
                                     apply::PackageLoading loading = apply::PackageLoading::skip) {
  return apply::parse_file(text, "apply.yaml", examples, loading);
}

std::string problems(const std::string& text) {
  auto file = parse(text);
  REQUIRE_FALSE(file.has_value());
  CHECK(file.error().kind == util::ErrorKind::invalid_package);
  return file.error().message;
}

const std::string header = "apiVersion: kfp-publish/v1\nkind: Apply\n";
// A header, pipeline a (hello-world) and experiment e: what runs and recurring runs refer to.
const std::string declared = header +
                             "pipelines: [{name: a, package: hello-world.yaml}]\n"
                             "experiments: [{name: e}]\n";

}  // namespace

TEST_CASE("the example apply file loads with its packages and typed parameters") {
  auto file = apply::load_file(examples / "apply" / "apply.yaml");
  REQUIRE(file.has_value());
  CHECK(file->pipelines.size() == 3);
  CHECK(file->experiments.size() == 2);
  CHECK(file->runs.size() == 1);
  REQUIRE(file->recurring_runs.size() == 2);
  CHECK(file->pipeline("training")->package.pipeline_name == "training-pipeline");
  CHECK(file->pipeline("reports")->version == std::optional<std::string>("v1"));
  const auto& nightly = file->recurring_runs[0];
  CHECK(nightly.cron == "0 0 2 * * *");
  CHECK(nightly.enabled);
  CHECK(nightly.parameters.at("epochs").as_int64() == 10);
  CHECK(nightly.parameters.at("validation_split").as_double() == doctest::Approx(0.2));
  CHECK(nightly.parameters.at("hidden_layers").as_array().size() == 2);
  const auto& hourly = file->recurring_runs[1];
  CHECK(hourly.interval_seconds == std::optional<std::int64_t>(3600));
  CHECK_FALSE(hourly.enabled);
  CHECK(hourly.cron.empty());
}

TEST_CASE("header, unknown keys and types are reported with line and column") {
  CHECK(problems("kind: Apply\n").find("apply.yaml:1:1: apiVersion: kfp-publish/v1 is missing") !=
        std::string::npos);
  CHECK(problems("apiVersion: kfp-publish/v2\nkind: Apply\n").find("apply.yaml:1:13: apiVersion must be") !=
        std::string::npos);
  const auto message = problems(header +
                                "pipelines:\n"
                                "  - name: a\n"
                                "    package: hello-world.yaml\n"
                                "    colour: blue\n"
                                "    tags: [x]\n");
  CHECK(message.find("apply.yaml:6:5: unknown key 'colour' in a pipeline") != std::string::npos);
  CHECK(message.find("apply.yaml:7:11: 'tags' must be a mapping") != std::string::npos);
  CHECK(message.find("2 problems") != std::string::npos);
  CHECK(problems(header + "pipelines: {a: 1}\n").find("'pipelines' must be a list") != std::string::npos);
  CHECK(problems(header + "pipelines:\n  - {package: x.yaml}\n").find("a pipeline needs 'name'") !=
        std::string::npos);
  CHECK(problems("a: [\n").find("apply.yaml:2:1: invalid YAML") != std::string::npos);
}

TEST_CASE("duplicates and references to undeclared objects are refused") {
  const auto message = problems(header +
                                "pipelines:\n"
                                "  - {name: a, package: hello-world.yaml}\n"
                                "  - {name: a, package: hello-world.yaml}\n"
                                "experiments: [{name: e}]\n"
                                "runs:\n"
                                "  - {name: r, pipeline: b, experiment: e}\n"
                                "  - {name: s, pipeline: a, experiment: f}\n");
  CHECK(message.find("apply.yaml:5:5: pipeline 'a' is declared twice (first at apply.yaml:4:5)") !=
        std::string::npos);
  CHECK(message.find("run 'r' names pipeline 'b', which is not declared") != std::string::npos);
  CHECK(message.find("run 's' names experiment 'f', which is not declared") != std::string::npos);
}

TEST_CASE("recurring runs: schedule, concurrency and enabled are checked") {
  const std::string base = header +
                           "pipelines: [{name: a, package: hello-world.yaml}]\n"
                           "experiments: [{name: e}]\n"
                           "recurringRuns:\n"
                           "  - name: n\n"
                           "    pipeline: a\n"
                           "    experiment: e\n";
  CHECK(problems(base).find("needs 'cron' or 'interval'") != std::string::npos);
  CHECK(problems(base + "    cron: '0 * * * * *'\n    interval: 1h\n").find("not both") != std::string::npos);
  CHECK(
      problems(base + "    cron: nightly\n")
          .find(
              "apply.yaml:9:11: cron 'nightly' is not a schedule the server accepts (Expected 5 to 6 fields, "
              "found 1: nightly)") != std::string::npos);
  CHECK(problems(base + "    interval: 1500ms\n").find("whole number of seconds") != std::string::npos);
  CHECK(problems(base + "    cron: '@daily'\n    maxConcurrency: 0\n").find("between 1 and 10") !=
        std::string::npos);
  CHECK(problems(base + "    cron: '@daily'\n    enabled: maybe\n").find("'enabled' must be true or false") !=
        std::string::npos);
  auto ok = parse(base + "    cron: '*/5 * * * *'\n    maxConcurrency: 3\n");
  REQUIRE(ok.has_value());
  CHECK(ok->recurring_runs[0].cron == "0 */5 * * * *");
  CHECK(ok->recurring_runs[0].max_concurrency == 3);
  CHECK(ok->recurring_runs[0].enabled);
}

TEST_CASE("packages and parameters are judged before any request") {
  auto bad_param =
      apply::parse_file(header +
                            "pipelines: [{name: a, package: hello-world.yaml}]\n"
                            "experiments: [{name: e}]\n"
                            "runs: [{name: r, pipeline: a, experiment: e, parameters: {nope: 1}}]\n",
                        "apply.yaml", examples, apply::PackageLoading::load);
  REQUIRE_FALSE(bad_param.has_value());
  CHECK(bad_param.error().message.find("apply.yaml:5:8: run 'r'") != std::string::npos);
  auto missing = apply::parse_file(header + "pipelines: [{name: a, package: no-such.yaml}]\n", "apply.yaml",
                                   examples, apply::PackageLoading::load);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("pipeline 'a'") != std::string::npos);
  CHECK(missing.error().kind == util::ErrorKind::invalid_package);
}

TEST_CASE("true/false, integers and cron are read with the one scalar resolution") {
  const std::string base = declared +
                           "recurringRuns:\n"
                           "  - name: n\n"
                           "    pipeline: a\n"
                           "    experiment: e\n"
                           "    cron: '@daily'\n";
  // yaml-cpp's own conversion took yes/on/y as true; YAML 1.2 (and the server's yaml.v3) do not.
  CHECK(problems(base + "    enabled: yes\n").find("apply.yaml:10:14: 'enabled' must be true or false") !=
        std::string::npos);
  CHECK(problems(base + "    enabled: \"true\"\n").find("'enabled' must be true or false") !=
        std::string::npos);
  auto disabled = parse(base + "    enabled: False\n    maxConcurrency: 0x3\n");
  REQUIRE(disabled.has_value());
  CHECK_FALSE(disabled->recurring_runs[0].enabled);
  CHECK(disabled->recurring_runs[0].max_concurrency == 3);
  CHECK(problems(base + "    maxConcurrency: 010\n")
            .find("apply.yaml:10:21: 010 reads as 8 in YAML 1.1 and in yaml.v3") != std::string::npos);
  CHECK(problems(base + "    maxConcurrency: 2.0\n").find("'maxConcurrency' must be an integer") !=
        std::string::npos);
}

TEST_CASE("merge keys share settings between entries, the entry's own keys first") {
  auto file = parse(declared +
                    "recurringRuns:\n"
                    "  - &nightly {name: n1, pipeline: a, experiment: e, cron: '0 0 2 * * *',\n"
                    "              parameters: &params {message: hi, other: 1}}\n"
                    "  - <<: *nightly\n"
                    "    name: n2\n"
                    "    parameters: {<<: *params, message: bye}\n");
  REQUIRE_MESSAGE(file.has_value(), file.error().message);
  REQUIRE(file->recurring_runs.size() == 2);
  const auto& second = file->recurring_runs[1];
  CHECK(second.name == "n2");
  CHECK(second.pipeline == "a");
  CHECK(second.cron == "0 0 2 * * *");
  CHECK(second.assignments == std::vector<std::string>{"message=bye", "other=1"});

  CHECK(problems(header + "experiments:\n  - <<: {name: e, colour: red}\n")
            .find("apply.yaml:4:19: unknown key 'colour' in an experiment") != std::string::npos);
  CHECK(problems(header + "experiments:\n  - <<: [1]\n").find("map merge requires map or sequence of maps") !=
        std::string::npos);
}

TEST_CASE("parameters keep the text of scalars, as --param does; lists and mappings are YAML values") {
  auto file = parse(
      header +
      "pipelines: [{name: a, package: hello-world.yaml}]\n"
      "experiments: [{name: e}]\n"
      "runs:\n"
      "  - name: r\n"
      "    pipeline: a\n"
      "    experiment: e\n"
      "    parameters: {version: 1.10, count: 010, when: 2024-01-01, list: [1, 0x10], map: {k: True}}\n");
  REQUIRE_MESSAGE(file.has_value(), file.error().message);
  CHECK(file->runs[0].parameters == std::vector<std::string>{"version=1.10", "count=010", "when=2024-01-01",
                                                             "list=[1,16]", "map={\"k\":true}"});
  const std::string run = declared +
                          "runs:\n"
                          "  - {name: r, pipeline: a, experiment: e, parameters: ";
  CHECK(problems(run + "{message: }}\n").find("apply.yaml:6:55: parameter 'message' has no value") !=
        std::string::npos);
  CHECK(problems(run + "{list: [010]}}\n").find("apply.yaml:6:63: 010 reads as 8") != std::string::npos);
}

TEST_CASE("an apply file is one document of bounded size: hostile inputs stop before anything is read") {
  std::string bomb = header + "experiments: [{name: e}]\nx-bomb:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char level = 'b'; level <= 'h'; ++level) {
    const char previous = static_cast<char>(level - 1);
    bomb += std::string("  ") + level + ": &" + level + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", " : "") + "*" + previous;
    bomb += "]\n";
  }
  CHECK(problems(bomb).find("YAML expands to more than 100000 nodes (an alias bomb?)") != std::string::npos);
  CHECK(problems(header + "experiments: " + std::string(100, '[') + std::string(100, ']') + "\n")
            .find("apply.yaml:3:") == 0);
  CHECK(problems(header + "---\n" + header).find("apply.yaml:3:1: a second YAML document") == 0);
  CHECK(problems(header + "kind: Apply\n")
            .find("apply.yaml:3:1: invalid YAML: mapping key \"kind\" already defined") != std::string::npos);
  CHECK(problems(declared + "experiments: []\n")
            .find("apply.yaml:5:1: invalid YAML: mapping key \"experiments\" already") != std::string::npos);
  // Only size is judged for the whole file: a string field may hold what JSON numbers cannot.
  auto described = parse(header + "experiments: [{name: e, description: .inf}]\n");
  REQUIRE_MESSAGE(described.has_value(), described.error().message);
  CHECK(described->experiments[0].description == ".inf");
  CHECK(problems(header + "x: caf\xe9\n").find("apply.yaml:3:7: not UTF-8 text") == 0);
}
