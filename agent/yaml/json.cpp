#include "yaml/json.hpp"

#include "util/base64.hpp"
#include "yaml/scalar.hpp"
#include "yaml/utf8.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <cmath>
#include <vector>

namespace kfp::yaml {

namespace {

namespace json = boost::json;

constexpr std::string_view plain_tag = "?";
constexpr std::string_view nonspecific_tag = "!";  // quoted and block scalars, and a bare "!"
constexpr std::string_view binary_tag = "tag:yaml.org,2002:binary";
constexpr std::string_view merge_tag = "tag:yaml.org,2002:merge";

// A resolved value in words, for messages: 8, the text "1_000", the time 2024-01-01T00:00:00Z.
std::string describe(const json::value& value, Scalar::Kind kind) {
  if (kind == Scalar::Kind::timestamp)
    return fmt::format("the time {}", std::string_view(value.get_string()));
  if (value.is_string()) return fmt::format("the text \"{}\"", std::string_view(value.get_string()));
  if (value.is_int64()) return fmt::format("{}", value.get_int64());
  if (value.is_uint64()) return fmt::format("{}", value.get_uint64());
  if (value.is_double()) {
    const double number = value.get_double();
    if (std::isinf(number)) return number < 0 ? "minus infinity" : "infinity";
    return fmt::format("{}", number);
  }
  return json::serialize(value);
}

class Converter {
 public:
  Converter(NodeBudget& budget, const Source& source, TopLevelScalars top_level = TopLevelScalars::resolve)
      : budget_(budget), source_(source), top_level_(top_level) {}

  util::Result<json::value> convert(const YAML::Node& node, std::size_t depth) {
    if (auto checked = visit(node, depth); !checked) return checked.error();
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: return json::value(nullptr);
      case YAML::NodeType::Scalar: return scalar(node);
      case YAML::NodeType::Sequence: {
        json::array array;
        array.reserve(node.size());
        for (const auto& child : node) {
          auto value = convert(child, depth + 1);
          if (!value) return value.error();
          array.push_back(std::move(*value));
        }
        return json::value(std::move(array));
      }
      case YAML::NodeType::Map: {
        auto object = mapping(node, depth);
        if (!object) return object.error();
        return json::value(std::move(*object));
      }
    }
    return json::value(nullptr);
  }

  util::Result<json::value> scalar(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    const std::string& text = node.Scalar();
    if (tag == nonspecific_tag) return json::value(json::string(text));
    if (tag == binary_tag) return binary(node);
    Scalar resolved;
    if (tag.empty() || tag == plain_tag) {
      resolved = resolve_plain(text);
      if (resolved.yaml_1_2 && source_.author == Author::person) return ambiguous(node, resolved);
    } else {
      auto tagged = resolve_tagged(tag, text);
      if (!tagged) return fail(node, tagged.error().message);
      resolved = std::move(*tagged);
    }
    if (!resolved.finite) return fail(node, fmt::format("the value {} cannot be represented in JSON", text));
    return std::move(resolved.value);
  }

 private:
  util::Failure fail(const YAML::Node& node, std::string_view message, std::string hint = {}) const {
    return util::fail(source_.kind, fmt::format("{}: {}", location(source_.origin, node.Mark()), message),
                      std::move(hint));
  }

  util::Result<void> visit(const YAML::Node& node, std::size_t depth) {
    if (depth > source_.limits.max_depth) {
      return fail(node, fmt::format("YAML nests deeper than {} levels (a recursive alias?)",
                                    source_.limits.max_depth));
    }
    if (!budget_.take()) {
      return fail(node, fmt::format("YAML expands to more than {} nodes (an alias bomb?); refusing it",
                                    source_.limits.max_nodes));
    }
    return {};
  }

  util::Failure ambiguous(const YAML::Node& node, const Scalar& resolved) const {
    return fail(
        node,
        fmt::format("{} reads as {} in YAML 1.1 and in yaml.v3 (the KFP server's YAML library) but as "
                    "{} in YAML 1.2",
                    node.Scalar(), describe(resolved.value, resolved.kind),
                    describe(*resolved.yaml_1_2, Scalar::Kind::string)),
        "quote it to mean the text; write numbers as 10, 0o17, 0x1f or 1000, and dates in quotes");
  }

  // yaml.v3 decodes !!binary as base64 (line breaks ignored); encoding/json writes the bytes as a
  // string, invalid UTF-8 replaced.
  util::Result<json::value> binary(const YAML::Node& node) {
    std::string encoded;
    for (char c : node.Scalar()) {
      if (c != '\n' && c != '\r') encoded += c;
    }
    auto decoded = util::base64_decode(encoded);
    if (!decoded) return fail(node, "!!binary value contains invalid base64 data");
    return json::value(json::string(coerce_utf8(*decoded)));
  }

  util::Result<std::string> key_text(const YAML::Node& key, std::size_t depth) {
    if (auto checked = visit(key, depth + 1); !checked) return checked.error();
    if (key.IsScalar()) {
      // A document is decoded into map[string]interface{}: its own keys become their text.
      if (depth == 0) return key.Scalar();
      auto value = scalar(key);
      if (!value) return value.error();
      if (value->is_string()) return std::string(value->get_string());
      return fail(key, fmt::format("mapping key {} is not a string; JSON cannot hold it", key.Scalar()));
    }
    return fail(key, fmt::format("a mapping key is {}; JSON keys must be strings",
                                 key.IsNull() ? "null" : "a collection"));
  }

  util::Result<json::object> mapping(const YAML::Node& node, std::size_t depth) {
    json::object object;
    std::optional<YAML::Node> merge;
    for (const auto& entry : node) {
      if (is_merge_key(entry.first)) {
        if (merge) return fail(entry.first, "invalid YAML: mapping key \"<<\" already defined");
        merge = entry.second;
        continue;
      }
      auto key = key_text(entry.first, depth);
      if (!key) return key.error();
      if (object.contains(*key)) {
        return fail(entry.first, fmt::format("invalid YAML: mapping key \"{}\" already defined", *key));
      }
      auto value =
          keeps_text(entry.second, depth) ? kept_text(entry.second, depth) : convert(entry.second, depth + 1);
      if (!value) return value.error();
      object.emplace(*key, std::move(*value));
    }
    if (merge) {
      if (auto merged = merge_into(object, *merge, depth); !merged) return merged.error();
    }
    return object;
  }

  // A value of the converted mapping itself (or of what it merges) under TopLevelScalars::keep_text.
  [[nodiscard]] bool keeps_text(const YAML::Node& value, std::size_t depth) const {
    return top_level_ == TopLevelScalars::keep_text && depth <= merge_depth_ && value.IsScalar();
  }
  util::Result<json::value> kept_text(const YAML::Node& value, std::size_t depth) {
    if (auto checked = visit(value, depth + 1); !checked) return checked.error();
    return json::value(json::string(value.Scalar()));
  }

  // "<<: *defaults" or "<<: [*a, *b]": keys the mapping lacks, taken from each source in order
  // (its own keys win, then the first source), as yaml.v3 merges.
  util::Result<void> merge_into(json::object& object, const YAML::Node& merge, std::size_t depth) {
    std::vector<YAML::Node> sources;
    if (merge.IsMap()) {
      sources.push_back(merge);
    } else if (merge.IsSequence()) {
      for (const auto& item : merge) {
        if (!item.IsMap()) return fail(item, "map merge requires map or sequence of maps as the value");
        sources.push_back(item);
      }
    } else {
      return fail(merge, "map merge requires map or sequence of maps as the value");
    }
    for (const YAML::Node& source : sources) {
      if (auto checked = visit(source, depth + 1); !checked) return checked.error();
      // What a top-level mapping merges is top-level too.
      const std::size_t saved = merge_depth_;
      if (depth <= merge_depth_) merge_depth_ = depth + 1;
      auto merged = mapping(source, depth + 1);
      merge_depth_ = saved;
      if (!merged) return merged.error();
      for (auto& entry : *merged) {
        if (!object.contains(entry.key())) object.emplace(entry.key(), std::move(entry.value()));
      }
    }
    return {};
  }

  NodeBudget& budget_;
  const Source& source_;
  TopLevelScalars top_level_;
  std::size_t merge_depth_ = 0;  // deepest level whose mapping values count as top-level
};

}  // namespace

bool is_merge_key(const YAML::Node& key) {
  return key.IsScalar() && key.Scalar() == "<<" && (key.Tag() == plain_tag || key.Tag() == merge_tag);
}

// Walks what converting `node` would visit, building nothing: an alias bomb runs out of `budget`
// here, in a fraction of the time and memory that building its JSON would take.
util::Result<void> count_nodes(const YAML::Node& node, NodeBudget& budget, const Source& source,
                               std::size_t depth) {
  auto refuse = [&](std::string message) {
    return util::fail(source.kind, fmt::format("{}: {}", location(source.origin, node.Mark()), message));
  };
  if (depth > source.limits.max_depth) {
    return refuse(
        fmt::format("YAML nests deeper than {} levels (a recursive alias?)", source.limits.max_depth));
  }
  if (!budget.take()) {
    return refuse(fmt::format("YAML expands to more than {} nodes (an alias bomb?); refusing it",
                              source.limits.max_nodes));
  }
  if (node.IsSequence()) {
    for (const auto& child : node) {
      if (auto counted = count_nodes(child, budget, source, depth + 1); !counted) return counted;
    }
  } else if (node.IsMap()) {
    for (const auto& entry : node) {
      if (auto counted = count_nodes(entry.first, budget, source, depth + 1); !counted) return counted;
      if (auto counted = count_nodes(entry.second, budget, source, depth + 1); !counted) return counted;
    }
  }
  return {};
}

util::Result<json::value> to_json(const YAML::Node& node, NodeBudget& budget, const Source& source,
                                  TopLevelScalars top_level) {
  // Counting first costs a second walk of a normal document and spares building a bomb's JSON.
  NodeBudget trial = budget;
  if (auto counted = count_nodes(node, trial, source, 0); !counted) return counted.error();
  return Converter(budget, source, top_level).convert(node, 0);
}

util::Result<void> check_size(const YAML::Node& node, const Source& source) {
  NodeBudget budget(source.limits.max_nodes);
  return count_nodes(node, budget, source, 0);
}

util::Result<json::value> to_json(const YAML::Node& node, const Source& source, TopLevelScalars top_level) {
  NodeBudget budget(source.limits.max_nodes);
  return to_json(node, budget, source, top_level);
}

util::Result<json::value> scalar_to_json(const YAML::Node& node, const Source& source) {
  if (node.IsNull()) return json::value(nullptr);
  if (!node.IsScalar()) {
    return util::fail(source.kind, fmt::format("{}: not a scalar", location(source.origin, node.Mark())));
  }
  NodeBudget budget(1);
  return Converter(budget, source).scalar(node);
}

}  // namespace kfp::yaml
