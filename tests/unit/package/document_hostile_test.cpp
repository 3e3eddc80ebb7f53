// Inputs found by fuzzing (tests/fuzz/fuzz_package) that made yaml-cpp run without end: the shape
// scan refuses them before the parser sees them.

#include "package/document.hpp"
#include "package/package.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace kfp;

TEST_CASE("a ',' after a top-level flow collection is refused before yaml-cpp loops on it") {
  // yaml-cpp 0.7 turns each of these into an endless stream of documents (unbounded memory).
  for (const std::string text : {"{},", "[],", "[1]\n,", "{a: [1, 2]}  ,", "---\n{}\n# note\n,\n"}) {
    CAPTURE(text);
    auto shape = package::check_yaml_shape(text, "p.yaml");
    REQUIRE(shape.has_error());
    CHECK(shape.error().kind == util::ErrorKind::invalid_package);
    CHECK(shape.error().message.find("a ',' after a flow collection") != std::string::npos);
    auto parsed = package::parse(text, "p.yaml");
    CHECK(parsed.has_error());
  }
}

TEST_CASE("commas that YAML allows still pass the shape scan") {
  for (const std::string text : {"a: [1, 2]\nb: {c: 1, d: 2}\n", "a: x, y\n", "- [1, 2]\n- {a: 1}\n",
                                 "a: {b: [1, {c: 2}], d: 3}\n", "{\"a\": [1, 2], \"b\": {\"c\": 3}}\n"}) {
    CAPTURE(text);
    CHECK(package::check_yaml_shape(text, "p.yaml").has_value());
  }
}

TEST_CASE("a stream yaml-cpp would read as documents without end is refused with a bounded count") {
  // Found by fuzz_package: a top-level ',' after comment lines, not after a flow collection.
  const std::filesystem::path finding =
      std::filesystem::path(KFP_SOURCE_DIR) / "tests/fuzz/seeds/package/yaml-cpp-endless-documents-2.yaml";
  REQUIRE(std::filesystem::exists(finding));
  auto loaded = package::load(finding);
  REQUIRE(loaded.has_error());
  CHECK(loaded.error().kind == util::ErrorKind::invalid_package);
  CHECK(loaded.error().message.find("YAML documents") != std::string::npos);

  std::string many;
  for (std::size_t i = 0; i <= package::max_yaml_documents; ++i) many += "--- a\n";
  auto parsed = package::parse_yaml_documents(many, "many.yaml");
  REQUIRE(parsed.has_error());
  CHECK(parsed.error().message.find("more than") != std::string::npos);

  auto two = package::parse_yaml_documents(std::string("a: 1\n---\nb: 2\n"), "two.yaml");
  REQUIRE(two.has_value());
  CHECK(two->size() == 2);
}
