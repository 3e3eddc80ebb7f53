#include "package/document.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <string>

using kfp::package::check_yaml_shape;
using kfp::package::NodeBudget;
using kfp::package::parse_yaml_documents;
using kfp::package::to_json;

namespace {

// The JSON of the single document in `yaml`, or the failure message.
std::string json_of(const std::string& yaml, std::size_t budget = kfp::package::max_yaml_nodes) {
  if (auto shape = check_yaml_shape(yaml, "t.yaml"); !shape) return "error: " + shape.error().message;
  auto documents = parse_yaml_documents(yaml, "t.yaml");
  if (!documents) return "error: " + documents.error().message;
  REQUIRE(documents->size() == 1);
  NodeBudget nodes(budget);
  auto value = to_json(documents->front(), nodes, "t.yaml");
  if (!value) return "error: " + value.error().message;
  return boost::json::serialize(*value);
}

bool refused_as_too_deep(const std::string& yaml) {
  auto shape = check_yaml_shape(yaml, "deep.yaml");
  return !shape && shape.error().message.find("nests deeper than 512") != std::string::npos;
}

}  // namespace

TEST_CASE("plain scalars resolve as yaml.v3 does; quoted ones stay strings") {
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
  CHECK(json_of("a: !!str 5") == R"({"a":"5"})");
  CHECK(json_of("a: 1.2.3") == R"({"a":"1.2.3"})");
  CHECK(json_of("a: 2.1.0") == R"({"a":"2.1.0"})");
  CHECK(json_of("a: |\n  line\n") == R"({"a":"line\n"})");
  CHECK(json_of("a: [1, {b: x}]") == R"({"a":[1,{"b":"x"}]})");
}

TEST_CASE("YAML that JSON cannot hold is refused with its location") {
  CHECK(json_of("a: .inf").find("t.yaml:1:4: the value .inf cannot be represented in JSON") !=
        std::string::npos);
  CHECK(json_of("a: 1\nb: 2\na: 3").find("t.yaml:3:1: invalid YAML: mapping key \"a\" already defined") !=
        std::string::npos);
  CHECK(json_of("1: x").find("mapping key 1 is not a string") != std::string::npos);
  CHECK(json_of("? [a]\n: x").find("JSON keys must be strings") != std::string::npos);
}

TEST_CASE("the node budget stops alias expansion, and recursive aliases end") {
  std::string bomb =
      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
  CHECK(json_of(bomb, 100).find("alias bomb") != std::string::npos);
  CHECK(json_of(bomb).find("error") == std::string::npos);  // 1,000 leaves fit the default budget

  std::string looping = "a: &a [*a]\n";
  std::string result = json_of(looping);
  CHECK(result.find("error") != std::string::npos);  // a cycle, or yaml-cpp refusing the alias
}

TEST_CASE("syntax errors carry line and column") {
  std::string message = json_of("a: 1\nb: [1, 2\nc: 3\n");
  CHECK(message.find("t.yaml:") != std::string::npos);
  CHECK(message.find("invalid YAML") != std::string::npos);
  CHECK(json_of("a: \"unterminated").find("invalid YAML") != std::string::npos);
}

TEST_CASE("the shape scan refuses deep nesting in every form") {
  CHECK(refused_as_too_deep(std::string(600, '[')));
  CHECK(refused_as_too_deep(std::string(600, '{')));
  std::string block;
  for (int i = 0; i < 600; ++i) block += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  CHECK(refused_as_too_deep(block));
  std::string compact;
  for (int i = 0; i < 600; ++i) compact += "- ";
  CHECK(refused_as_too_deep(compact + "x"));
  // Brackets split over many lines still count.
  std::string multiline;
  for (int i = 0; i < 600; ++i) multiline += "[\n";
  CHECK(refused_as_too_deep(multiline));
}

TEST_CASE("the shape scan ignores brackets in quotes, comments and block scalars") {
  std::string brackets(2000, '[');
  CHECK(check_yaml_shape("a: \"" + brackets + "\"\n", "q").has_value());
  CHECK(check_yaml_shape("a: '" + brackets + "'\n", "q").has_value());
  CHECK(check_yaml_shape("a: 1 # " + brackets + "\n", "c").has_value());
  CHECK(check_yaml_shape("a: |\n  " + brackets + "\n  more\nb: 2\n", "b").has_value());
  CHECK(check_yaml_shape("- - |\n    " + brackets + "\n", "b").has_value());
  CHECK(check_yaml_shape("a: x" + brackets + "\n", "p").has_value());  // inside a plain scalar
  CHECK(check_yaml_shape("a: \"multi\n  line " + brackets + "\"\n", "m").has_value());
  // ...but brackets after a block scalar ends count again.
  CHECK_FALSE(check_yaml_shape("a: |\n  text\nb: " + std::string(600, '[') + "\n", "b").has_value());
}

TEST_CASE("the shape scan bounds the number of nodes and documents before parsing") {
  std::string flat = "[";
  for (std::size_t i = 0; i <= kfp::package::max_yaml_nodes; ++i) flat += "1,";
  flat += "1]";
  auto refused = check_yaml_shape(flat, "flat.yaml");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("more than 2000000 nodes") != std::string::npos);

  std::string documents;
  for (std::size_t i = 0; i <= kfp::package::max_yaml_nodes; ++i) documents += "---\n";
  CHECK_FALSE(check_yaml_shape(documents, "docs.yaml").has_value());
}

TEST_CASE("a byte-order mark and CRLF line ends are fine") {
  CHECK(json_of("\xef\xbb\xbf"
                "a: 1\r\nb: [x]\r\n") == R"({"a":1,"b":["x"]})");
}

TEST_CASE("the shape scan refuses bytes that are not UTF-8 text") {
  auto nul = check_yaml_shape(std::string("a: \0", 4), "n.yaml");
  REQUIRE_FALSE(nul.has_value());
  CHECK(nul.error().message ==
        "n.yaml: not UTF-8 text (byte 0x00 at offset 3); a pipeline package is YAML, JSON, "
        "or a .zip/.tar.gz archive");
  CHECK_FALSE(check_yaml_shape("a: \xc3", "t").has_value());          // truncated sequence
  CHECK_FALSE(check_yaml_shape("a: \xc0\xaf", "t").has_value());      // overlong
  CHECK_FALSE(check_yaml_shape("a: \xed\xa0\x80", "t").has_value());  // surrogate
  CHECK(check_yaml_shape("a: caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80\n", "t").has_value());
}
