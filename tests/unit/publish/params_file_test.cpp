// --params-file through the guarded loader and the one converter: values typed as --param values
// are, YAML lists and mappings as values, and hostile files refused (exit 3) before anything is sent.

#include "publish/parameters.hpp"
#include "unit/temp_dir.hpp"
#include "util/exit_code.hpp"
#include "util/file.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

using namespace kfp;
using package::InputParameter;
using package::ParameterType;

namespace {

std::vector<InputParameter> inputs() {
  std::vector<InputParameter> out;
  auto add = [&](std::string name, ParameterType type) {
    InputParameter p;
    p.name = std::move(name);
    p.type = type;
    p.optional = true;
    out.push_back(p);
  };
  add("version", ParameterType::string);
  add("epochs", ParameterType::number_integer);
  add("rate", ParameterType::number_double);
  add("shuffle", ParameterType::boolean);
  add("ids", ParameterType::list);
  add("cfg", ParameterType::structure);
  return out;
}

struct ParamsFile {
  test::TempDir dir{"kfp-params"};

  util::Result<boost::json::object> resolve(const std::string& content) const {
    const auto path = dir.path / "params.yaml";
    REQUIRE(util::write_file(path, content, util::WriteMode::replace).has_value());
    publish::ParameterInput input;
    input.params_file = path;
    return publish::resolve_parameters(input, inputs());
  }

  // The failure message, after checking it is invalid_parameters (exit 3), naming the file where
  // the YAML is at fault.
  enum class Names { file, parameter };
  std::string refused(const std::string& content, Names names = Names::file) const {
    auto result = resolve(content);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().kind == util::ErrorKind::invalid_parameters);
    CHECK(util::exit_code_for(result.error().kind) == util::ExitCode::invalid_input);
    if (names == Names::file) CHECK(result.error().message.find((dir.path / "params.yaml").string()) == 0);
    return result.error().message;
  }
};

}  // namespace

TEST_CASE("a scalar means what it means in --param name=value: the declared type decides") {
  ParamsFile file;
  auto values = file.resolve("version: 1.10\nepochs: 010\nrate: 1e3\nshuffle: True\n");
  REQUIRE_MESSAGE(values.has_value(), values.error().message);
  CHECK(values->at("version") == "1.10");  // not the float 1.1
  CHECK(values->at("epochs") == 10);       // decimal, as --param epochs=010
  CHECK(values->at("rate").as_double() == 1000.0);
  CHECK(values->at("shuffle") == true);
  auto quoted = file.resolve("version: \"2024-01-01\"\nepochs: '7'\n");
  REQUIRE(quoted.has_value());
  CHECK(quoted->at("version") == "2024-01-01");
  CHECK(quoted->at("epochs") == 7);
  CHECK(file.refused("shuffle: yes\n", ParamsFile::Names::parameter).find("must be BOOLEAN") !=
        std::string::npos);
  CHECK(file.refused("epochs: 0x10\n", ParamsFile::Names::parameter).find("must be NUMBER_INTEGER") !=
        std::string::npos);
}

TEST_CASE("lists and mappings are YAML values from the one converter, merges included") {
  ParamsFile file;
  auto values = file.resolve("ids: [1, 0x10, two]\ncfg: &c {depth: 2, name: x}\n");
  REQUIRE_MESSAGE(values.has_value(), values.error().message);
  CHECK(boost::json::serialize(values->at("ids")) == R"([1,16,"two"])");
  CHECK(boost::json::serialize(values->at("cfg")) == R"({"depth":2,"name":"x"})");
  auto merged = file.resolve("defaults: &d {epochs: 3, version: v1}\n");
  CHECK_FALSE(merged.has_value());  // "defaults" is no parameter
  auto json = file.resolve(R"({"epochs": 4, "ids": [1, 2], "cfg": {"a": null}})");
  REQUIRE(json.has_value());
  CHECK(json->at("epochs") == 4);
  CHECK(boost::json::serialize(json->at("cfg")) == R"({"a":null})");
  CHECK(file.refused("ids: [010]\n").find(":1:7: 010 reads as 8 in YAML 1.1") != std::string::npos);
  CHECK(file.refused("cfg: {a: 1, a: 2}\n").find(":1:13: invalid YAML: mapping key \"a\" already defined") !=
        std::string::npos);
}

TEST_CASE("a params file that is not one mapping is refused with its location") {
  ParamsFile file;
  CHECK(file.refused("- epochs\n").find(":1:1: the parameters file must be a mapping") != std::string::npos);
  CHECK(file.refused("").find("must be a mapping") != std::string::npos);
  CHECK(file.refused("epochs: 1\n---\nepochs: 2\n").find(":2:1: a second YAML document") !=
        std::string::npos);
  CHECK(file.refused("epochs: [1,\n").find("invalid YAML") != std::string::npos);
}
