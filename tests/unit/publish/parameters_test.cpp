#include "publish/parameters.hpp"

#include "util/file.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>

using namespace kfp;
using package::InputParameter;
using package::ParameterType;

namespace {

std::vector<InputParameter> training_inputs() {
  std::vector<InputParameter> inputs;
  auto add = [&](std::string name, ParameterType type, bool optional) {
    InputParameter p;
    p.name = std::move(name);
    p.type = type;
    p.optional = optional;
    inputs.push_back(p);
  };
  add("epochs", ParameterType::number_integer, false);
  add("lr", ParameterType::number_double, true);
  add("shuffle", ParameterType::boolean, true);
  add("name", ParameterType::string, false);
  add("ids", ParameterType::list, true);
  add("cfg", ParameterType::structure, true);
  return inputs;
}

std::filesystem::path write_temp(const std::string& name, const std::string& content) {
  auto path = std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-" + name);
  REQUIRE(util::write_file(path, content, util::WriteMode::replace).has_value());
  return path;
}

}  // namespace

TEST_CASE("--param values are converted to the declared types") {
  publish::ParameterInput input;
  input.assignments = {"epochs=3", "lr=0.01", "shuffle=true", "name=a=b", "ids=[1,2]", R"(cfg={"k":"v"})"};
  auto params = publish::resolve_parameters(input, training_inputs());
  REQUIRE(params.has_value());
  CHECK(params->at("epochs").as_int64() == 3);
  CHECK(params->at("lr").as_double() == doctest::Approx(0.01));
  CHECK(params->at("shuffle").as_bool());
  CHECK(params->at("name").as_string() == "a=b");
  CHECK(params->at("ids").as_array().size() == 2);
  CHECK(params->at("cfg").at("k").as_string() == "v");
}

TEST_CASE("wrong type, unknown name and missing required parameters are invalid_parameters") {
  auto expect = [](std::vector<std::string> assignments, std::string_view words) {
    publish::ParameterInput input;
    input.assignments = std::move(assignments);
    auto params = publish::resolve_parameters(input, training_inputs());
    REQUIRE_FALSE(params.has_value());
    CHECK(params.error().kind == util::ErrorKind::invalid_parameters);
    CHECK_MESSAGE(params.error().message.find(words) != std::string::npos, params.error().message);
  };
  expect({"epochs=three", "name=x"}, "epochs must be NUMBER_INTEGER");
  expect({"epochs=1.5", "name=x"}, "epochs must be NUMBER_INTEGER");
  expect({"epochs=1", "name=x", "shuffle=maybe"}, "shuffle must be BOOLEAN");
  expect({"epochs=1", "name=x", "ids={}"}, "ids must be LIST");
  expect({"epochs=1", "name=x", "colour=red"}, "unknown parameter colour");
  expect({"name=x"}, "missing required parameter epochs");
  expect({"epochs"}, "is not name=value");
}

TEST_CASE("a params file gives typed values, and --param wins over it") {
  auto yaml = write_temp("params.yaml", "epochs: 5\nname: run\nlr: 1\nids: [1, 2, 3]\ncfg:\n  depth: 2\n");
  publish::ParameterInput input;
  input.params_file = yaml;
  input.assignments = {"epochs=7"};
  auto params = publish::resolve_parameters(input, training_inputs());
  REQUIRE(params.has_value());
  CHECK(params->at("epochs").as_int64() == 7);
  CHECK(params->at("name").as_string() == "run");
  CHECK(params->at("lr").is_number());
  CHECK(params->at("ids").as_array().size() == 3);
  CHECK(params->at("cfg").at("depth").as_int64() == 2);
  std::filesystem::remove(yaml);

  auto json = write_temp("params.json", R"({"epochs": "x", "name": "run"})");
  input = {};
  input.params_file = json;
  auto bad = publish::resolve_parameters(input, training_inputs());
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("epochs") != std::string::npos);
  std::filesystem::remove(json);

  auto broken = write_temp("broken.yaml", "epochs: [1,\n");
  input = {};
  input.params_file = broken;
  auto unreadable = publish::resolve_parameters(input, training_inputs());
  REQUIRE_FALSE(unreadable.has_value());
  CHECK(unreadable.error().kind == util::ErrorKind::invalid_parameters);
  std::filesystem::remove(broken);
}

TEST_CASE("numbers out of range (1e999) are refused, in --param and in lists") {
  std::vector<InputParameter> declared = training_inputs();
  for (const char* assignment : {"lr=1e999", "lr=-1e999", "ids=[1,1e999]", R"(cfg={"k":1e999})"}) {
    CAPTURE(assignment);
    publish::ParameterInput input;
    input.assignments = {"epochs=1", "name=n", assignment};
    auto params = publish::resolve_parameters(input, declared);
    REQUIRE_FALSE(params.has_value());
    CHECK(params.error().kind == util::ErrorKind::invalid_parameters);
    CHECK(params.error().message.find("out of range") != std::string::npos);
  }
  publish::ParameterInput fine;
  fine.assignments = {"epochs=1", "name=n", "lr=1e300"};
  CHECK(publish::resolve_parameters(fine, declared).has_value());
}

TEST_CASE("a parameter given twice with --param is an error, not the last one silently") {
  publish::ParameterInput input;
  input.assignments = {"epochs=1", "name=n", "epochs=2"};
  auto params = publish::resolve_parameters(input, training_inputs());
  REQUIRE_FALSE(params.has_value());
  CHECK(params.error().kind == util::ErrorKind::invalid_parameters);
  CHECK(params.error().message.find("epochs") != std::string::npos);
}
