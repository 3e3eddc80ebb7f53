// Every kind of YAML file the tool reads (a pipeline package, a --params-file, an apply file) meets
// the same hostile inputs: alias bombs by depth and by fan-out, deep nesting, huge scalars, endless
// documents (the yaml-cpp inputs fuzzing found), bytes that are not UTF-8. Each is refused with
// exit 3 and a message naming the file (file:line:col where there is a place), or, for a huge but
// valid scalar, read in bounded time and memory. No timing is asserted: the budgets and limits are.

#include "apply/file.hpp"
#include "package/package.hpp"
#include "publish/parameters.hpp"
#include "unit/temp_dir.hpp"
#include "util/exit_code.hpp"
#include "util/file.hpp"

#include "unit/yaml/fuzz_seed.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace kfp;

namespace {

struct Hostile {
  std::string name;
  std::string text;
  std::string fragment;  // in the message of every file kind
};

// Levels of anchors, each a list of `width` aliases to the one before: width^levels leaves.
std::string alias_bomb(int levels, int width) {
  std::string text = "a0: &a0 [";
  for (int i = 0; i < width; ++i) text += std::string(i ? ", " : "") + "x";
  text += "]\n";
  for (int level = 1; level < levels; ++level) {
    const std::string name = "a" + std::to_string(level);
    text += name + ": &" + name + " [";
    for (int i = 0; i < width; ++i) text += std::string(i ? ", " : "") + "*a" + std::to_string(level - 1);
    text += "]\n";
  }
  return text;
}

// The same through merge keys: each level a mapping merging `width` copies of the one before.
std::string merge_bomb(int levels, int width) {
  std::string text = "m0: &m0 {k: x}\n";
  for (int level = 1; level < levels; ++level) {
    const std::string name = "m" + std::to_string(level);
    text += name + ": &" + name + " {";
    for (int i = 0; i < width; ++i)
      text += "k" + std::to_string(i) + ": *m" + std::to_string(level - 1) + ", ";
    text += "<<: *m" + std::to_string(level - 1) + "}\n";
  }
  return text;
}

std::vector<Hostile> hostile_inputs() {
  std::string block_nesting;
  for (int i = 0; i < 100'000; ++i) block_nesting += "- ";
  std::string mapping_nesting;
  for (int i = 0; i < 600; ++i) mapping_nesting += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  std::string documents;
  for (int i = 0; i < 5000; ++i) documents += "--- a\n";
  return {
      {"alias bomb, 9 levels deep", alias_bomb(9, 10), "(an alias bomb?)"},
      {"alias bomb, 100 wide", alias_bomb(4, 100), "(an alias bomb?)"},
      {"merge-key bomb", merge_bomb(8, 10), "(an alias bomb?)"},
      {"100,000 flow brackets", "a: " + std::string(100'000, '[') + std::string(100'000, ']') + "\n",
       "YAML nests deeper than"},
      {"100,000 block sequences", block_nesting + "x\n", "YAML nests deeper than"},
      {"600 nested mappings", mapping_nesting, "YAML nests deeper than"},
      {"a top-level ',' after a flow mapping", test::fuzz_seed("regression-comma-after-flow-mapping"),
       "a ',' after a flow collection"},
      {"a top-level ',' after a JSON package", test::fuzz_seed("regression-comma-after-flow-collection.json"),
       "a ',' after a flow collection"},
      {"a ',' after comment lines (yaml-cpp's endless documents)",
       test::fuzz_seed("yaml-cpp-endless-documents-2.yaml"), "YAML document"},
      {"5,000 documents", documents, "YAML document"},
      {"a Latin-1 byte", "message: caf\xe9\n", "not UTF-8 text (byte 0xe9"},
      {"a NUL byte", std::string("message: a\0b\n", 13), "not UTF-8 text (byte 0x00"},
      {"an overlong sequence", "message: \xc0\xaf\n", "not UTF-8 text (byte 0xc0"},
  };
}

struct Refusal {
  util::ErrorKind kind;
  std::string message;
};

std::string at(const std::filesystem::path& path) {
  return path.string() + ":";
}

}  // namespace

TEST_CASE("a package, a params file and an apply file refuse every hostile input with exit 3") {
  test::TempDir dir("kfp-hostile");
  for (const Hostile& input : hostile_inputs()) {
    CAPTURE(input.name);
    const auto package_path = dir.path / "package.yaml";
    const auto params_path = dir.path / "params.yaml";
    const auto apply_path = dir.path / "apply.yaml";
    for (const auto& path : {package_path, params_path, apply_path}) {
      REQUIRE(util::write_file(path, input.text, util::WriteMode::replace).has_value());
    }

    auto package = package::load(package_path);
    REQUIRE(package.has_error());
    CHECK(package.error().kind == util::ErrorKind::invalid_package);
    CHECK_MESSAGE(package.error().message.find(input.fragment) != std::string::npos, package.error().message);
    CHECK(package.error().message.find(at(package_path)) == 0);

    publish::ParameterInput parameters;
    parameters.params_file = params_path;
    auto params = publish::resolve_parameters(parameters, {});
    REQUIRE(params.has_error());
    CHECK(params.error().kind == util::ErrorKind::invalid_parameters);
    CHECK_MESSAGE(params.error().message.find(input.fragment) != std::string::npos, params.error().message);
    CHECK(params.error().message.find(at(params_path)) == 0);

    auto apply = apply::load_file(apply_path, apply::PackageLoading::skip);
    REQUIRE(apply.has_error());
    CHECK(apply.error().kind == util::ErrorKind::invalid_package);
    CHECK_MESSAGE(apply.error().message.find(input.fragment) != std::string::npos, apply.error().message);
    // file:line:col, as every apply problem is reported
    const std::string& message = apply.error().message;
    REQUIRE(message.find(at(apply_path)) == 0);
    const std::size_t line = at(apply_path).size();
    const std::size_t colon = message.find(':', line);
    REQUIRE(colon != std::string::npos);
    CHECK(std::all_of(message.begin() + static_cast<std::ptrdiff_t>(line),
                      message.begin() + static_cast<std::ptrdiff_t>(colon), ::isdigit));
    CHECK(colon > line);

    for (auto kind : {package.error().kind, params.error().kind, apply.error().kind}) {
      CHECK(util::exit_code_for(kind) == util::ExitCode::invalid_input);
    }
  }
}

TEST_CASE("a huge scalar is read whole where the file kind allows its size, and refused past it") {
  test::TempDir dir("kfp-hostile");
  const std::string huge(std::size_t{1} << 20, 'x');

  auto package_path = dir.path / "package.yaml";
  REQUIRE(util::write_file(package_path, "a: " + huge + "\n", util::WriteMode::replace).has_value());
  auto package = package::load(package_path);
  REQUIRE(package.has_error());
  CHECK(package.error().message.find("unknown template format") != std::string::npos);

  package::InputParameter message;
  message.name = "message";
  message.type = package::ParameterType::string;
  auto params_path = dir.path / "params.yaml";
  REQUIRE(util::write_file(params_path, "message: " + huge + "\n", util::WriteMode::replace).has_value());
  publish::ParameterInput parameters;
  parameters.params_file = params_path;
  auto params = publish::resolve_parameters(parameters, {message});
  REQUIRE(params.has_value());
  CHECK(params->at("message").as_string().size() == huge.size());

  const std::string over_the_limit(std::size_t{5} << 20, 'x');  // params files are read up to 4 MiB
  REQUIRE(util::write_file(params_path, "message: " + over_the_limit, util::WriteMode::replace).has_value());
  auto too_big = publish::resolve_parameters(parameters, {message});
  REQUIRE(too_big.has_error());
  CHECK(too_big.error().kind == util::ErrorKind::invalid_parameters);

  auto apply_path = dir.path / "apply.yaml";
  REQUIRE(util::write_file(apply_path, "apiVersion: kfp-publish/v1\nkind: Apply\nx: " + huge + "\n",
                           util::WriteMode::replace)
              .has_value());
  auto apply = apply::load_file(apply_path, apply::PackageLoading::skip);
  REQUIRE(apply.has_error());
  CHECK(apply.error().message.find(at(apply_path) + "3:1: unknown key 'x'") != std::string::npos);
}
