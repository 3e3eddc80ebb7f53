#include "package/validate.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using kfp::package::is_valid_pipeline_name;
using kfp::package::Kind;
using kfp::package::load;
using kfp::package::ParameterType;
using kfp::util::ErrorKind;

namespace {

const fs::path fixtures = fs::path(KFP_SOURCE_DIR) / "tests" / "fixtures" / "packages";

struct Refused {
  const char* file;
  const char* message_fragment;
};

}  // namespace

TEST_CASE("good fixtures load with their name and kind") {
  struct Accepted {
    const char* file;
    const char* name;
    Kind kind;
    bool platform;
  };
  for (const Accepted& good : {
           Accepted{"minimal_pipeline.yaml", "minimal-pipeline", Kind::pipeline_spec, false},
           Accepted{"minimal_pipeline.json", "json-pipeline", Kind::pipeline_spec, false},
           Accepted{"with_platform_spec.yaml", "with-platform", Kind::pipeline_spec, true},
           Accepted{"snake_case_fields.yaml", "snake-case", Kind::pipeline_spec, false},
           Accepted{"legacy_primitive_types.yaml", "legacy-types", Kind::pipeline_spec, false},
           Accepted{"ignored_extra_document.yaml", "extra-document", Kind::pipeline_spec, false},
           Accepted{"argo_workflow.yaml", "argo-hello", Kind::argo_workflow, false},
       }) {
    CAPTURE(std::string(good.file));
    auto package = load(fixtures / good.file);
    REQUIRE_MESSAGE(package.has_value(), (package.has_value() ? std::string() : package.error().message));
    CHECK(package->pipeline_name == good.name);
    CHECK(package->kind == good.kind);
    CHECK(package->has_platform_spec == good.platform);
  }
}

TEST_CASE("bad fixtures fail with a message naming the problem and where") {
  for (const Refused& bad : {
           Refused{"bad_schema_version.yaml",
                   "bad_schema_version.yaml:23:16: schemaVersion is \"2.0.0\"; the server accepts only "
                   "\"2.1.0\""},
           Refused{"bad_pipeline_name.yaml",
                   "bad_pipeline_name.yaml:14:9: pipelineInfo.name \"My_Pipeline\" does "
                   "not match"},
           Refused{"empty_pipeline_name.yaml", "unknown template format"},
           Refused{"two_pipeline_specs.yaml", "documents 1 and 2 are both PipelineSpecs"},
           Refused{"two_platform_specs.yaml", "documents 2 and 3 are both PlatformSpecs"},
           Refused{"unknown_top_level_field.yaml",
                   "unknown field \"pipelineSpecVersion\" in the PipelineSpec"},
           Refused{"bad_parameter_type.yaml",
                   "root.inputDefinitions.parameters.ratio.parameterType has unknown "
                   "value \"FLOAT\""},
           Refused{"missing_root.yaml", "root is missing"},
           Refused{"duplicate_key.yaml",
                   "duplicate_key.yaml:24:1: invalid YAML: mapping key \"schemaVersion\" "
                   "already defined"},
           Refused{"comments_only.yaml", "no YAML document"},
           Refused{"argo_wrong_api_version.yaml", "Argo apiVersion is \"argoproj.io/v1beta1\""},
       }) {
    CAPTURE(std::string(bad.file));
    auto package = load(fixtures / bad.file);
    REQUIRE_FALSE(package.has_value());
    CHECK(package.error().kind == ErrorKind::invalid_package);
    CHECK_MESSAGE(package.error().message.find(bad.message_fragment) != std::string::npos,
                  package.error().message);
    CHECK(package.error().message.rfind((fixtures / bad.file).string(), 0) == 0);
  }
}

TEST_CASE("inputs: legacy types map, snake_case defaults are read, Argo values are string defaults") {
  auto legacy = load(fixtures / "legacy_primitive_types.yaml");
  REQUIRE(legacy.has_value());
  REQUIRE(legacy->inputs.size() == 3);
  CHECK(legacy->inputs[0].name == "count");
  CHECK(legacy->inputs[0].type == ParameterType::number_integer);
  CHECK(legacy->inputs[1].type == ParameterType::number_double);
  CHECK(legacy->inputs[2].type == ParameterType::string);
  CHECK_FALSE(legacy->inputs[0].optional);

  auto snake = load(fixtures / "snake_case_fields.yaml");
  REQUIRE(snake.has_value());
  REQUIRE(snake->inputs.size() == 1);
  CHECK(snake->inputs[0].optional);
  CHECK(*snake->inputs[0].default_value == boost::json::value(3));

  auto argo = load(fixtures / "argo_workflow.yaml");
  REQUIRE(argo.has_value());
  REQUIRE(argo->inputs.size() == 2);
  CHECK(argo->inputs[0].name == "message");
  CHECK_FALSE(argo->inputs[0].optional);
  CHECK(argo->inputs[1].name == "repeat");
  CHECK(argo->inputs[1].type == ParameterType::string);
  CHECK(*argo->inputs[1].default_value == boost::json::value("3"));
  CHECK(argo->inputs[1].optional);
}

TEST_CASE("documents the server ignores are reported as warnings") {
  auto package = load(fixtures / "ignored_extra_document.yaml");
  REQUIRE(package.has_value());
  REQUIRE(package->warnings.size() == 1);
  CHECK(package->warnings[0].find("document 2") != std::string::npos);
  auto clean = load(fixtures / "minimal_pipeline.yaml");
  REQUIRE(clean.has_value());
  CHECK(clean->warnings.empty());
}

TEST_CASE("a root input of type TASK_FINAL_STATUS is accepted but not offered as an input") {
  std::string spec = R"(pipelineInfo: {name: final-status}
root:
  dag: {tasks: {}}
  inputDefinitions:
    parameters:
      status: {isOptional: true, parameterType: TASK_FINAL_STATUS}
      other: {parameterType: STRING}
schemaVersion: 2.1.0
)";
  auto package = kfp::package::parse(spec, "final.yaml");
  REQUIRE(package.has_value());
  REQUIRE(package->inputs.size() == 1);
  CHECK(package->inputs[0].name == "other");
  REQUIRE(package->warnings.size() == 1);
  CHECK(package->warnings[0].find("\"status\"") != std::string::npos);
}

TEST_CASE("oneof and value types are checked as protojson would") {
  auto both = kfp::package::parse(
      "pipelineInfo: {name: x}\nroot: {dag: {}, executorLabel: e}\nschemaVersion: 2.1.0\n", "both.yaml");
  REQUIRE_FALSE(both.has_value());
  CHECK(both.error().message.find("both dag and executorLabel") != std::string::npos);

  auto number_name =
      kfp::package::parse("pipelineInfo: {name: 12}\nroot: {dag: {}}\nschemaVersion: 2.1.0\n", "n.yaml");
  REQUIRE_FALSE(number_name.has_value());
  CHECK(number_name.error().message.find("pipelineInfo.name is not a string") != std::string::npos);

  auto quoted_name =
      kfp::package::parse("pipelineInfo: {name: '12'}\nroot: {dag: {}}\nschemaVersion: 2.1.0\n", "q.yaml");
  REQUIRE(quoted_name.has_value());
  CHECK(quoted_name->pipeline_name == "12");

  auto numeric_version =
      kfp::package::parse("pipelineInfo: {name: x}\nroot: {dag: {}}\nschemaVersion: 2.1\n", "v.yaml");
  REQUIRE_FALSE(numeric_version.has_value());
  CHECK(numeric_version.error().message.find("schemaVersion is not a string") != std::string::npos);
}

TEST_CASE("is_valid_pipeline_name follows ^[a-z0-9][a-z0-9-]{0,127}$") {
  CHECK(is_valid_pipeline_name("a"));
  CHECK(is_valid_pipeline_name("0-training-pipeline-"));
  CHECK(is_valid_pipeline_name(std::string(128, 'a')));
  CHECK_FALSE(is_valid_pipeline_name(std::string(129, 'a')));
  CHECK_FALSE(is_valid_pipeline_name(""));
  CHECK_FALSE(is_valid_pipeline_name("-lead"));
  CHECK_FALSE(is_valid_pipeline_name("Upper"));
  CHECK_FALSE(is_valid_pipeline_name("dots.not.allowed"));
  CHECK_FALSE(is_valid_pipeline_name("under_score"));
}
