#pragma once
// The one guarded way into yaml-cpp. Every YAML text the tool reads (pipeline packages,
// --params-file, apply files, doctor's manifests) passes a byte scan before the parser sees it
// (UTF-8 text, nesting depth, node count, the inputs on which yaml-cpp 0.7 loops without end), then
// a parse under yaml-cpp's recursion guard with a bounded number of documents. yaml/json.hpp turns
// the nodes into JSON under the same limits.

#include "util/error.hpp"

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::yaml {

struct Limits {
  // Deepest nesting (block levels plus flow brackets), before parsing and while converting.
  std::size_t max_depth = 0;
  // Most structural tokens scanned before parsing, and most nodes visited while converting
  // (an alias counts every time it is expanded).
  std::size_t max_nodes = 0;
  // Most documents in one stream.
  std::size_t max_documents = 0;
};

// Pipeline packages: what the SDK compiles can be large and deep (the first round's limits).
inline constexpr Limits package_limits{512, 2'000'000, 1000};
// Files people write (a --params-file, an apply file, a manifest): one document, small.
inline constexpr Limits file_limits{64, 100'000, 1};

// Who wrote a YAML text decides how plain scalars that YAML 1.1 and YAML 1.2 read differently
// (010, 0b11, 1_000, +0x10, 2024-01-01, 1e400) are taken; see yaml/scalar.hpp.
enum class Author {
  compiler,  // a package: read exactly as the KFP server reads it
  person,    // a params or apply file: such scalars are refused, with a hint to quote them
};

// A YAML text as the loader sees it: its name in messages ("origin:line:col: ..."), the kind of its
// failures (so the exit code follows the file), its limits and its author.
struct Source {
  std::string origin;
  util::ErrorKind kind = util::ErrorKind::invalid_package;
  Limits limits = package_limits;
  Author author = Author::compiler;
};

// A pipeline package (or a member of one): failures are invalid_package (exit 3).
[[nodiscard]] Source package_source(std::string origin);
// A file a person wrote; failures have kind `kind` (invalid_parameters, invalid_package, ...).
[[nodiscard]] Source file_source(std::string origin, util::ErrorKind kind);

// "origin:line:column" (1-based) for a yaml-cpp mark; just `origin` when the mark is unknown.
[[nodiscard]] std::string location(const std::string& origin, const YAML::Mark& mark);

// Refuses, before any parsing, bytes that are not UTF-8 text, that nest deeper than
// limits.max_depth, or that hold more than limits.max_nodes structural tokens, with
// "origin:line:col".
[[nodiscard]] util::Result<void> check_shape(std::string_view bytes, const Source& source);

// The same checks on a text read from `input` in line-aligned chunks, so memory does not grow
// with its size; every byte read is handed to `consume` (the digest) in order.
[[nodiscard]] util::Result<void> check_shape(std::istream& input, const Source& source,
                                             const std::function<void(std::string_view)>& consume);

// check_shape, then every document of the stream. Fails with "origin:line:col: invalid YAML: ..."
// on a syntax error and when the stream holds more than limits.max_documents documents.
[[nodiscard]] util::Result<std::vector<YAML::Node>> load_documents(std::string_view bytes,
                                                                   const Source& source);

// Every document of a stream whose bytes the caller has already passed through check_shape (a file
// too large to hold: checked while it was digested, parsed from the file).
[[nodiscard]] util::Result<std::vector<YAML::Node>> load_checked_documents(std::istream& input,
                                                                           const Source& source);

// load_documents for a text that holds one document; a Null node when it holds none.
[[nodiscard]] util::Result<YAML::Node> load_document(std::string_view bytes, const Source& source);

}  // namespace kfp::yaml
