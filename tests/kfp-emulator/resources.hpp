#pragma once
// Operations shared by the v2beta1 and v1beta1 handlers, as the real server shares them between
// its API versions: the upload endpoints, storing pipelines, versions and experiments, and
// creating runs (runs.hpp).

#include "app.hpp"
#include "columns.hpp"
#include "upload.hpp"

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace kfp::emulator {

// Which API a request came through.
enum class ApiFlavor { v2beta1, v1beta1 };

// Name limits (validation/length.go, 2.15+) and tag limits (model/pipeline_tags.go, 2.17).
inline constexpr std::size_t max_pipeline_name = 128;
inline constexpr std::size_t max_version_name = 127;
inline constexpr std::size_t max_namespace = 63;
inline constexpr std::size_t max_tag_length = 63;
inline constexpr std::size_t max_tags = 20;

// POST .../pipelines/upload and .../upload_version: plain Go handlers that write their own
// replies (uploads.cpp).
[[nodiscard]] Reply upload_pipeline(Context& context, ApiFlavor flavor);
[[nodiscard]] Reply upload_pipeline_version(Context& context, ApiFlavor flavor);

// Stores a pipeline with its first version (one transaction); throws ApiFailure AlreadyExists with
// the release's store message when (name, namespace) is taken.
const Pipeline& store_pipeline(App& app, Pipeline pipeline, std::optional<PipelineVersion> first);
// Stores a version; AlreadyExists when (pipeline, name) is taken.
const PipelineVersion& store_version(App& app, PipelineVersion version);

// Stores a new experiment; AlreadyExists when (name, namespace) is taken, a MySQL error (500)
// when a value is over its column.
const Experiment& store_experiment(App& app, const std::string& name, const std::string& description,
                                   const std::string& ns);

// The "Default" experiment of single-user servers, created at start-up (main.go).
void create_default_experiment(App& app);

// The ResourceNotFoundError of a missing object.
[[noreturn]] void not_found(std::string_view what, const std::string& id);

// model/pipeline_tags.go ValidateTags: the reason tags are refused (values must be strings).
[[nodiscard]] std::optional<std::string> tags_problem(const boost::json::object& tags);

}  // namespace kfp::emulator
