#pragma once
// YAML parsing with guards for hostile input: a byte scan before yaml-cpp sees anything, and a
// YAML-to-JSON conversion that resolves scalars as the server's decoder (yaml.v3) does, with a
// node budget so alias bombs fail cleanly instead of exploding.

#include "util/error.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>
#include <boost/json/value.hpp>

#include <cstddef>
#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::package {

// Deepest nesting (block levels plus flow brackets) accepted before calling yaml-cpp.
inline constexpr std::size_t max_nesting_depth = 512;
// Most YAML nodes scanned, or visited while converting to JSON (aliases count every time).
inline constexpr std::size_t max_yaml_nodes = 2'000'000;
// yaml-cpp's own count of documents in one stream; packages have one or two. Bounds inputs on
// which yaml-cpp 0.7 returns empty documents without end (found by fuzzing).
inline constexpr std::size_t max_yaml_documents = 1000;

// "origin:line:column" (1-based) for a yaml-cpp mark; just `origin` when the mark is unknown.
[[nodiscard]] std::string location(const std::string& origin, const YAML::Mark& mark);

// Refuses, before any parsing, bytes that are not UTF-8 text, that nest deeper than
// max_nesting_depth, or that hold more than max_yaml_nodes structural tokens.
[[nodiscard]] util::Result<void> check_yaml_shape(std::string_view bytes, const std::string& origin);

// The same checks on a document read from `input` in line-aligned chunks, so memory does not grow
// with its size; every byte read is handed to `consume` (the digest) in order.
[[nodiscard]] util::Result<void> check_yaml_shape(std::istream& input, const std::string& origin,
                                                  const std::function<void(std::string_view)>& consume);

// All documents of a YAML stream read from `input` (check_yaml_shape first).
[[nodiscard]] util::Result<std::vector<YAML::Node>> parse_yaml_documents(std::istream& input,
                                                                         const std::string& origin);

// All documents of a YAML stream (check_yaml_shape first). Fails with "origin:line:col: invalid
// YAML: ..." on a syntax error.
[[nodiscard]] util::Result<std::vector<YAML::Node>> parse_yaml_documents(std::string_view bytes,
                                                                         const std::string& origin);

// Counts nodes visited across conversions; shared by all documents of one package.
class NodeBudget {
 public:
  explicit NodeBudget(std::size_t max_nodes = max_yaml_nodes) : remaining_(max_nodes) {}
  [[nodiscard]] bool take() noexcept {
    if (remaining_ == 0) return false;
    --remaining_;
    return true;
  }

 private:
  std::size_t remaining_;
};

// Converts a node to JSON as yaml.v3 + encoding/json would: quoted scalars are strings, plain ones
// resolve to null/bool/int/float/string. Fails on duplicate or non-string mapping keys, values JSON
// cannot hold (.inf, .nan), nesting past max_nesting_depth, or an exhausted budget.
[[nodiscard]] util::Result<boost::json::value> to_json(const YAML::Node& node, NodeBudget& budget,
                                                       const std::string& origin);

}  // namespace kfp::package
