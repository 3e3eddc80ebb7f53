// Inputs found by fuzzing (tests/fuzz/fuzz_package) that made yaml-cpp run without end: the shape
// scan refuses them before the parser sees them.

#include "package/document.hpp"
#include "package/package.hpp"

#include <doctest/doctest.h>

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
