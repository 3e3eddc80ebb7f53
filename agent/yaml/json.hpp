#pragma once
// The one YAML-to-JSON converter: a node from yaml/load.hpp becomes the JSON that yaml.v3 plus
// encoding/json make of it on the KFP server (scalars per yaml/scalar.hpp, merge keys "<<" with the
// mapping's own keys first), under a node budget and a depth limit so alias bombs and deep nesting
// fail cleanly instead of exhausting memory.

#include "util/error.hpp"
#include "yaml/load.hpp"

#include <yaml-cpp/yaml.h>
#include <boost/json/value.hpp>

#include <cstddef>

namespace kfp::yaml {

// Counts nodes visited across conversions (an alias expands, and counts, every time it is used);
// one budget serves every document of a package.
class NodeBudget {
 public:
  explicit NodeBudget(std::size_t max_nodes) : remaining_(max_nodes) {}
  [[nodiscard]] bool take() noexcept {
    if (remaining_ == 0) return false;
    --remaining_;
    return true;
  }

 private:
  std::size_t remaining_;
};

// How the scalar values of the converted mapping itself (not of deeper levels) are taken: resolved
// like every other scalar, or kept as the text written (run parameters: their values are typed by
// the pipeline's declared inputs, exactly as --param name=value is, so "1.10" stays "1.10" for a
// STRING input and 010 is 10 for an integer one).
enum class TopLevelScalars { resolve, keep_text };

// Converts `node`. Fails, with source.kind and "origin:line:col", on: duplicate mapping keys; keys
// that are not strings (below the top level, where yaml.v3 keeps such a key's text); values JSON
// cannot hold (.inf, .nan, !!binary that is not UTF-8 text); a tag the text does not fit
// (!!int abc); a malformed merge; nesting past source.limits.max_depth; an exhausted budget; and,
// when source.author is Author::person, plain scalars YAML 1.1 and 1.2 read differently.
[[nodiscard]] util::Result<boost::json::value> to_json(const YAML::Node& node, NodeBudget& budget,
                                                       const Source& source,
                                                       TopLevelScalars top_level = TopLevelScalars::resolve);

// The same with a budget of source.limits.max_nodes.
[[nodiscard]] util::Result<boost::json::value> to_json(const YAML::Node& node, const Source& source,
                                                       TopLevelScalars top_level = TopLevelScalars::resolve);

// Refuses what converting `node` would refuse for its size, building nothing: nesting past
// source.limits.max_depth or more than source.limits.max_nodes nodes visited (aliases counted every
// time). For readers that walk the nodes themselves and convert only parts (apply files).
[[nodiscard]] util::Result<void> check_size(const YAML::Node& node, const Source& source);

// True for a merge key: a plain "<<" (or one tagged !!merge), as yaml.v3's isMerge.
[[nodiscard]] bool is_merge_key(const YAML::Node& key);

// One scalar node resolved as to_json resolves it (tags, quoting, Author::person's refusals), for
// readers that walk the nodes themselves (apply files keep their locations that way).
[[nodiscard]] util::Result<boost::json::value> scalar_to_json(const YAML::Node& node, const Source& source);

}  // namespace kfp::yaml
