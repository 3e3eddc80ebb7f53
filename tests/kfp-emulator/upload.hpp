#pragma once
// The multipart upload as the server reads it (NOTES.md B.2 and D): the `uploadfile` part with a
// filename, format chosen by the filename suffix or the archive magic, and the package judged by
// the package module. Also turns the YAML document into the JSON the server returns.

#include "message.hpp"
#include "options.hpp"

#include "package/package.hpp"
#include "util/error.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace kfp::emulator {

struct UploadedFile {
  std::string filename;
  std::string content;
};

// The `uploadfile` part; nullopt when the body is not multipart or has no such part with a filename.
[[nodiscard]] std::optional<UploadedFile> read_upload_file(const Request& request);

struct JudgedPackage {
  package::Package package;
  boost::json::value pipeline_spec;
};

// server/util.go ReadPipelineFile: the size limit, the format by suffix or magic bytes and the
// archive member. Fails with the internal chain the release's ReadPipelineFile returns.
[[nodiscard]] util::Result<std::string> read_pipeline_file(const UploadedFile& file, ServerVersion version);

// template.New: the document as a pipeline template (Argo Workflow or v2 PipelineSpec). Fails
// with the reason; the caller frames it as the release does ("... : pipeline spec is invalid").
[[nodiscard]] util::Result<JudgedPackage> parse_template(const std::string& document,
                                                         const std::string& origin, ServerVersion version);

// All YAML documents of `document` as JSON (one document: itself; a PipelineSpec followed by a
// PlatformSpec: {"pipeline_spec":…, "platform_spec":…}). Throws on unparsable YAML.
[[nodiscard]] boost::json::value yaml_to_json(const std::string& document);

}  // namespace kfp::emulator
