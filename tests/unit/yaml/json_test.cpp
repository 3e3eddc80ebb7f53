// The one YAML-to-JSON converter: what yaml.v3 + encoding/json make of a document on the KFP
// server, merges, limits, and what files people write may not leave ambiguous.

#include "yaml/json.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <string>

using namespace kfp;

namespace {

const yaml::Source package = yaml::package_source("t.yaml");
const yaml::Source params = yaml::file_source("params.yaml", util::ErrorKind::invalid_parameters);

// The JSON of the single document in `text`, or "error: " and the failure message.
std::string json_of(const std::string& text, const yaml::Source& source = package,
                    yaml::TopLevelScalars top_level = yaml::TopLevelScalars::resolve) {
  auto documents = yaml::load_documents(text, source);
  if (!documents) return "error: " + documents.error().message;
  REQUIRE(documents->size() == 1);
  auto value = yaml::to_json(documents->front(), source, top_level);
  if (!value) return "error: " + value.error().message;
  return boost::json::serialize(*value);
}

std::string json_with_budget(const std::string& text, std::size_t budget) {
  auto documents = yaml::load_documents(text, package);
  REQUIRE(documents.has_value());
  yaml::NodeBudget nodes(budget);
  auto value = yaml::to_json(documents->front(), nodes, package);
  if (!value) return "error: " + value.error().message;
  return boost::json::serialize(*value);
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

}  // namespace

TEST_CASE("plain scalars resolve as yaml.v3 does; quoted and block ones stay strings") {
  CHECK(json_of("a: 10") == R"({"a":10})");
  CHECK(json_of("a: '10'") == R"({"a":"10"})");
  CHECK(json_of("a: \"true\"") == R"({"a":"true"})");
  CHECK(json_of("a: 1_000") == R"({"a":1000})");
  CHECK(json_of("a: 0x1F") == R"({"a":31})");
  CHECK(json_of("a: 0o17") == R"({"a":15})");
  CHECK(json_of("a: 017") == R"({"a":15})");
  CHECK(json_of("a: -3") == R"({"a":-3})");
  CHECK(json_of("a: 18446744073709551615") == R"({"a":18446744073709551615})");
  CHECK(json_of("a: 2.5e3") == R"({"a":2.5E3})");
  CHECK(json_of("a: .5") == R"({"a":5E-1})");
  CHECK(json_of("a: 10.0") == R"({"a":1E1})");
  CHECK(json_of("a: True") == R"({"a":true})");
  CHECK(json_of("a: yes") == R"({"a":"yes"})");  // YAML 1.2: yes is a string
  CHECK(json_of("a: ~") == R"({"a":null})");
  CHECK(json_of("a:") == R"({"a":null})");
  CHECK(json_of("a: 2001-12-14") == R"({"a":"2001-12-14T00:00:00Z"})");
  CHECK(json_of("a: 1e400") == R"({"a":"1e400"})");  // ParseFloat overflows: yaml.v3 keeps the text
  CHECK(json_of("a: 1.2.3") == R"({"a":"1.2.3"})");
  CHECK(json_of("a: |\n  line\n") == R"({"a":"line\n"})");
  CHECK(json_of("a: [1, {b: x}]") == R"({"a":[1,{"b":"x"}]})");
}

TEST_CASE("explicit tags are applied as yaml.v3 applies them") {
  CHECK(json_of("a: !!str 5") == R"({"a":"5"})");
  CHECK(json_of("a: !!int \"5\"") == R"({"a":5})");
  CHECK(json_of("a: !!float 5") == R"({"a":5E0})");
  CHECK(json_of("a: ! 5") == R"({"a":"5"})");
  CHECK(json_of("a: !custom 5") == R"({"a":"5"})");
  CHECK(json_of("a: !!binary aGk=") == R"({"a":"hi"})");
  CHECK(json_of("a: !!binary /w==") == "{\"a\":\"\xef\xbf\xbd\"}");  // 0xff: encoding/json writes U+FFFD
  CHECK(contains(json_of("a: !!int abc"), "t.yaml:1:4: cannot decode !!str `abc` as a !!int"));
  CHECK(contains(json_of("a: !!bool yes"), "cannot decode !!str `yes` as a !!bool"));
  CHECK(contains(json_of("a: !!binary '*'"), "invalid base64"));
}

TEST_CASE("YAML that JSON cannot hold is refused with its location") {
  CHECK(contains(json_of("a: .inf"), "t.yaml:1:4: the value .inf cannot be represented in JSON"));
  CHECK(contains(json_of("a: 1\nb: 2\na: 3"), "t.yaml:3:1: invalid YAML: mapping key \"a\" already defined"));
  CHECK(contains(json_of("b:\n  1: x"), "t.yaml:2:3: mapping key 1 is not a string"));
  CHECK(contains(json_of("b:\n  ? [a]\n  : x"), "JSON keys must be strings"));
  CHECK(contains(json_of("b: {~: x}"), "a mapping key is null"));
}

TEST_CASE("a document's own keys keep their text, as yaml.v3 decoding into map[string]interface{}") {
  CHECK(json_of("1: x\ntrue: y") == R"({"1":"x","true":"y"})");
  CHECK(contains(json_of("1: x\n\"1\": y"), "mapping key \"1\" already defined"));
}

TEST_CASE("merge keys bring in what the mapping lacks, its own keys first, then each source in order") {
  const std::string anchors = "base: &base {a: 1, b: 2}\nmore: &more {b: 3, c: 4}\n";
  CHECK(json_of(anchors + "x:\n  <<: *base\n  b: 9\n") ==
        R"({"base":{"a":1,"b":2},"more":{"b":3,"c":4},"x":{"b":9,"a":1}})");
  CHECK(json_of(anchors + "x:\n  <<: [*more, *base]\n") ==
        R"({"base":{"a":1,"b":2},"more":{"b":3,"c":4},"x":{"b":3,"c":4,"a":1}})");
  CHECK(json_of(anchors + "x: {\"<<\": *base}") ==
        R"({"base":{"a":1,"b":2},"more":{"b":3,"c":4},"x":{"<<":{"a":1,"b":2}}})");
  CHECK(contains(json_of("x:\n  <<: 1\n"), "t.yaml:2:7: map merge requires map or sequence of maps"));
  CHECK(contains(json_of("x:\n  <<: [{a: 1}, 2]\n"), "map merge requires map or sequence of maps"));
}

TEST_CASE("the node budget stops alias expansion, and recursive aliases end") {
  std::string bomb =
      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
  CHECK(contains(json_with_budget(bomb, 100), "alias bomb"));
  CHECK_FALSE(contains(json_of(bomb), "error"));  // 1,000 leaves fit the package budget

  // Merges expand too, and count.
  std::string merges = "a: &a {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x, k9: x}\n";
  merges += "b: &b {<<: *a, m: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n";
  merges += "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
  CHECK(contains(json_with_budget(merges, 500), "alias bomb"));

  CHECK(contains(json_of("a: &a [*a]\n"), "error"));  // a cycle, or yaml-cpp refusing the alias
}

TEST_CASE("files people write refuse plain scalars that YAML 1.1 and 1.2 read differently") {
  CHECK(contains(
      json_of("a: [010]", params),
      "params.yaml:1:5: 010 reads as 8 in YAML 1.1 and in yaml.v3 (the KFP server's YAML library) but "
      "as 10 in YAML 1.2"));
  CHECK(contains(json_of("a: [2024-01-01]", params),
                 "reads as the time 2024-01-01T00:00:00Z in YAML 1.1 and in yaml.v3 (the KFP server's YAML "
                 "library) but as the text \"2024-01-01\" in YAML 1.2"));
  CHECK(contains(json_of("a: [1_000]", params), "but as the text \"1_000\" in YAML 1.2"));
  CHECK(contains(json_of("a: [0b11]", params), "0b11 reads as 3"));
  CHECK(contains(json_of("a: [+0x10]", params), "+0x10 reads as 16"));
  CHECK(contains(json_of("a: [1e400]", params), "but as infinity in YAML 1.2"));
  // Forms both read alike pass; quoting always does.
  CHECK(json_of("a: [10, 0o17, 0x1f, 08, -3, 1.5, .5, 1e3, '010', \"2024-01-01\", yes]", params) ==
        R"({"a":[10,15,31,8E0,-3,1.5E0,5E-1,1E3,"010","2024-01-01","yes"]})");
  // A package means what the server reads.
  CHECK(json_of("a: [010, 2024-01-01]") == R"({"a":[8,"2024-01-01T00:00:00Z"]})");
}

TEST_CASE("keep_text keeps the text of the mapping's own scalars (and merged ones), resolves deeper") {
  const std::string text = "d: &d {x: 1.0}\nmessage: 1.10\nepochs: 010\nlist: [1.10]\nnothing:\n<<: *d\n";
  CHECK(json_of(text, params, yaml::TopLevelScalars::keep_text) ==
        R"({"d":{"x":1E0},"message":"1.10","epochs":"010","list":[1.1E0],"nothing":null,"x":"1.0"})");
}

TEST_CASE("nesting past the source's depth is refused while converting too") {
  std::string nested = "a: ";
  for (int i = 0; i < 70; ++i) nested += "{k: ";
  nested += "1";
  for (int i = 0; i < 70; ++i) nested += "}";
  CHECK(contains(json_of(nested, params), "nests deeper than 64"));
  CHECK_FALSE(contains(json_of(nested, package), "error"));
}

TEST_CASE("a byte-order mark and CRLF line ends are fine") {
  CHECK(json_of("\xef\xbb\xbf"
                "a: 1\r\nb: [x]\r\n") == R"({"a":1,"b":["x"]})");
}
