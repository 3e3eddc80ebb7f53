#pragma once
// The server's template detection and checks (NOTES.md section D), applied to the document bytes
// of a Package: Argo Workflow (v1) or PipelineSpec (v2) with at most one PlatformSpec.

#include "package/package.hpp"

#include <istream>
#include <string>

namespace kfp::package {

// Reads `package.document` and fills kind, pipeline_name, description, inputs, has_platform_spec
// and warnings. Fails with invalid_package naming `origin` (and line:column where known).
[[nodiscard]] util::Result<void> inspect_document(Package& package, const std::string& origin);

// The same, reading the document from `document` rather than `package.document`, for files too
// large to hold; the caller has already run yaml::check_shape on the same bytes.
[[nodiscard]] util::Result<void> inspect_document(Package& package, std::istream& document,
                                                  const std::string& origin);

// True when `name` is a pipelineInfo.name the server accepts: ^[a-z0-9][a-z0-9-]{0,127}$.
[[nodiscard]] bool is_valid_pipeline_name(std::string_view name);

}  // namespace kfp::package
