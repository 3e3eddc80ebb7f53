// The guarded loader: the byte scan before yaml-cpp, the document bound, the file kinds' limits.
// Inputs found by fuzzing (tests/fuzz) that made yaml-cpp run without end are here too.

#include "yaml/load.hpp"

#include "unit/yaml/fuzz_seed.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace kfp;

namespace {

const yaml::Source package = yaml::package_source("t.yaml");
const yaml::Source params = yaml::file_source("params.yaml", util::ErrorKind::invalid_parameters);

bool refused_as_too_deep(const std::string& text, const yaml::Source& source = package) {
  auto shape = yaml::check_shape(text, source);
  return !shape && shape.error().message.find("nests deeper than " +
                                              std::to_string(source.limits.max_depth)) != std::string::npos;
}

}  // namespace

TEST_CASE("the shape scan refuses deep nesting in every form, before yaml-cpp recurses") {
  CHECK(refused_as_too_deep(std::string(600, '[')));
  CHECK(refused_as_too_deep(std::string(600, '{')));
  std::string block;
  for (int i = 0; i < 600; ++i) block += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  CHECK(refused_as_too_deep(block));
  std::string compact;
  for (int i = 0; i < 600; ++i) compact += "- ";
  CHECK(refused_as_too_deep(compact + "x"));
  std::string multiline;  // brackets split over many lines still count
  for (int i = 0; i < 600; ++i) multiline += "[\n";
  CHECK(refused_as_too_deep(multiline));
  // Files people write stop far earlier than packages.
  CHECK(refused_as_too_deep("a: " + std::string(65, '[') + std::string(65, ']') + "\n", params));
  CHECK_FALSE(refused_as_too_deep("a: " + std::string(65, '[') + std::string(65, ']') + "\n", package));
}

TEST_CASE("the shape scan ignores brackets in quotes, comments and block scalars") {
  std::string brackets(2000, '[');
  CHECK(yaml::check_shape("a: \"" + brackets + "\"\n", package).has_value());
  CHECK(yaml::check_shape("a: '" + brackets + "'\n", package).has_value());
  CHECK(yaml::check_shape("a: 1 # " + brackets + "\n", package).has_value());
  CHECK(yaml::check_shape("a: |\n  " + brackets + "\n  more\nb: 2\n", package).has_value());
  CHECK(yaml::check_shape("- - |\n    " + brackets + "\n", package).has_value());
  CHECK(yaml::check_shape("a: x" + brackets + "\n", package).has_value());  // inside a plain scalar
  CHECK(yaml::check_shape("a: \"multi\n  line " + brackets + "\"\n", package).has_value());
  // ...but brackets after a block scalar ends count again.
  CHECK_FALSE(yaml::check_shape("a: |\n  text\nb: " + std::string(600, '[') + "\n", package).has_value());
}

TEST_CASE("the shape scan bounds the number of nodes and document markers before parsing") {
  std::string flat = "[";
  for (std::size_t i = 0; i <= yaml::package_limits.max_nodes; ++i) flat += "1,";
  flat += "1]";
  auto refused = yaml::check_shape(flat, package);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("more than 2000000 nodes") != std::string::npos);

  std::string documents;
  for (std::size_t i = 0; i <= yaml::package_limits.max_nodes; ++i) documents += "---\n";
  CHECK_FALSE(yaml::check_shape(documents, package).has_value());

  std::string list;
  for (std::size_t i = 0; i <= yaml::file_limits.max_nodes; ++i) list += "- 1\n";
  auto params_list = yaml::check_shape(list, params);
  REQUIRE_FALSE(params_list.has_value());
  CHECK(params_list.error().kind == util::ErrorKind::invalid_parameters);
  CHECK(params_list.error().message.find("params.yaml:50001:") == 0);
  CHECK(params_list.error().message.find("YAML holds more than 100000 nodes") != std::string::npos);
}

TEST_CASE("bytes that are not UTF-8 text are refused with their line, column and offset") {
  auto nul = yaml::check_shape(std::string("a: \0", 4), package);
  REQUIRE_FALSE(nul.has_value());
  CHECK(nul.error().message ==
        "t.yaml:1:4: not UTF-8 text (byte 0x00 at offset 3); YAML and JSON are UTF-8 text");
  auto latin1 = yaml::check_shape("a: 1\nmessage: caf\xe9\n", params);
  REQUIRE_FALSE(latin1.has_value());
  CHECK(latin1.error().kind == util::ErrorKind::invalid_parameters);
  CHECK(latin1.error().message.find("params.yaml:2:13: not UTF-8 text (byte 0xe9 at offset 17)") == 0);
  CHECK_FALSE(yaml::check_shape("a: \xc3", package).has_value());          // truncated sequence
  CHECK_FALSE(yaml::check_shape("a: \xc0\xaf", package).has_value());      // overlong
  CHECK_FALSE(yaml::check_shape("a: \xed\xa0\x80", package).has_value());  // surrogate
  CHECK(yaml::check_shape("a: caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80\n", package).has_value());

  // From a stream read in chunks, the line is counted across chunks.
  std::string big(300'000, '\n');
  big += "x: \xff\n";
  std::istringstream stream(big);
  auto streamed = yaml::check_shape(stream, package, [](std::string_view) {});
  REQUIRE_FALSE(streamed.has_value());
  CHECK(streamed.error().message.find("t.yaml:300001:4: not UTF-8 text (byte 0xff at offset 300003)") == 0);
}

TEST_CASE("a ',' after a top-level flow collection is refused before yaml-cpp loops on it") {
  // yaml-cpp 0.7 turns each of these into an endless stream of documents (unbounded memory).
  for (const std::string text : {"{},", "[],", "[1]\n,", "{a: [1, 2]}  ,", "---\n{}\n# note\n,\n"}) {
    CAPTURE(text);
    for (const auto& source : {package, params}) {
      auto loaded = yaml::load_documents(text, source);
      REQUIRE(loaded.has_error());
      CHECK(loaded.error().kind == source.kind);
      CHECK(loaded.error().message.find("a ',' after a flow collection") != std::string::npos);
    }
  }
}

TEST_CASE("commas that YAML allows still pass the shape scan") {
  for (const std::string text : {"a: [1, 2]\nb: {c: 1, d: 2}\n", "a: x, y\n", "- [1, 2]\n- {a: 1}\n",
                                 "a: {b: [1, {c: 2}], d: 3}\n", "{\"a\": [1, 2], \"b\": {\"c\": 3}}\n"}) {
    CAPTURE(text);
    CHECK(yaml::check_shape(text, package).has_value());
  }
}

TEST_CASE("a stream yaml-cpp would read as documents without end is refused with a bounded count") {
  // Found by fuzz_package: a top-level ',' after comment lines, not after a flow collection.
  const std::string finding = test::fuzz_seed("yaml-cpp-endless-documents-2.yaml");
  for (const auto& source : {package, params}) {
    auto loaded = yaml::load_documents(finding, source);
    REQUIRE(loaded.has_error());
    CHECK(loaded.error().kind == source.kind);
    CHECK(loaded.error().message.find("YAML document") != std::string::npos);
  }

  std::string many;
  for (std::size_t i = 0; i <= yaml::package_limits.max_documents; ++i) many += "--- a\n";
  auto parsed = yaml::load_documents(many, package);
  REQUIRE(parsed.has_error());
  CHECK(parsed.error().message.find("more than 1000 YAML documents") != std::string::npos);

  auto two = yaml::load_documents("a: 1\n---\nb: 2\n", package);
  REQUIRE(two.has_value());
  CHECK(two->size() == 2);
}

TEST_CASE("a file people write holds one document; a second is refused where it starts") {
  auto second = yaml::load_document("a: 1\n---\nb: 2\n", params);
  REQUIRE(second.has_error());
  CHECK(second.error().kind == util::ErrorKind::invalid_parameters);
  CHECK(second.error().message.find("params.yaml:2:1: a second YAML document; this file holds one") == 0);

  auto empty = yaml::load_document("# only a comment\n", params);
  REQUIRE(empty.has_value());
  CHECK(empty->IsNull());
}

TEST_CASE("syntax errors carry line and column and the source's kind") {
  auto flow = yaml::load_documents("a: 1\nb: [1, 2\nc: 3\n", params);
  REQUIRE(flow.has_error());
  CHECK(flow.error().kind == util::ErrorKind::invalid_parameters);
  CHECK(flow.error().message.find("params.yaml:") == 0);
  CHECK(flow.error().message.find("invalid YAML") != std::string::npos);
  auto quote = yaml::load_documents("a: \"unterminated", package);
  REQUIRE(quote.has_error());
  CHECK(quote.error().message.find("invalid YAML") != std::string::npos);
}
