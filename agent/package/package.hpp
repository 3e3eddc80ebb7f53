#pragma once
// Loading and validating compiled pipeline packages offline, exactly as the KFP API server judges
// an upload (shared/kfp-api/NOTES.md section D).

#include "util/error.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::package {

// The server's MaxFileLength: a pipeline file (or archive member) above this is refused.
inline constexpr std::size_t max_package_bytes = std::size_t{32} << 20;

// A plain file above this is never held in memory: digested, checked and uploaded from disk.
inline constexpr std::size_t max_in_memory_document_bytes = std::size_t{1} << 20;

enum class Kind {
  pipeline_spec,  // KFP v2 IR (PipelineSpec), optionally followed by a PlatformSpec document
  argo_workflow,  // KFP v1: an Argo Workflow
};

// The server's parameterType names, plus Argo's untyped string parameters.
enum class ParameterType { string, number_integer, number_double, boolean, list, structure };

struct InputParameter {
  std::string name;
  ParameterType type = ParameterType::string;
  std::optional<boost::json::value> default_value;  // absent when the input has no default
  bool optional = false;                            // a run may omit it (has a default, or isOptional: true)
  std::string description;
};

struct Package {
  std::filesystem::path source;     // the path given by the user
  std::string member;               // archive member holding the document; empty for plain files
  std::string upload_filename;      // multipart filename to send `document` under; always ends in a
                                    // suffix the server takes as is (.yaml/.yml/.json)
  std::string document;             // the pipeline document bytes to upload (an archive's member);
                                    // empty for a plain file over max_in_memory_document_bytes, which
                                    // is checked and uploaded from `source` instead
  std::uint64_t document_size = 0;  // bytes of the document, held or not
  bool json_document = false;       // its first non-blank byte is '{'
  std::string digest;               // "sha256:<hex>" of the document
  Kind kind = Kind::pipeline_spec;
  std::string pipeline_name;  // pipelineInfo.name, or the workflow's metadata name
  std::string description;    // pipelineInfo.description when present
  std::vector<InputParameter> inputs;
  bool has_platform_spec = false;
  // Things the server accepts silently but a user probably did not mean (ignored documents,
  // root inputs no run can set); the CLI may print them.
  std::vector<std::string> warnings;
};

// Reads and validates a .yaml/.yml/.json file or a .zip/.tar.gz/.tgz archive (recognised by its
// magic bytes; other names are read as YAML, with a warning). Fails with ErrorKind::invalid_package
// and a message naming the problem and where it is ("file:line:col: ...", "file.zip!member: ...").
[[nodiscard]] util::Result<Package> load(const std::filesystem::path& path);

// Validates document bytes already in memory; `origin` names them in messages.
[[nodiscard]] util::Result<Package> parse(std::string document, const std::string& origin);

// Judges an upload exactly as the server's upload endpoint does (for the emulator): the multipart
// `filename` picks the format (case-sensitive .yaml/.yml/.json), else the magic bytes (zip, gzip
// tar), else "Unexpected pipeline file format". For archives `document` holds the extracted member
// and `upload_filename` stays `filename`.
[[nodiscard]] util::Result<Package> parse_upload(std::string bytes, const std::string& filename);

// Reads the `pipeline_spec` of a v2beta1 PipelineVersion as the server returns it: the spec itself,
// or {"pipeline_spec": {...}, "platform_spec": {...}} when a PlatformSpec was uploaded with it.
[[nodiscard]] util::Result<Package> parse_api_pipeline_spec(const boost::json::value& pipeline_spec,
                                                            const std::string& origin);

[[nodiscard]] std::string_view to_string(Kind kind);           // "PipelineSpec" / "Workflow"
[[nodiscard]] std::string_view to_string(ParameterType type);  // "STRING", "NUMBER_INTEGER", ...

}  // namespace kfp::package
