#pragma once
// Operations shared by the v2beta1 and v1beta1 handlers: creating pipelines and versions from an
// upload, resolving the pipeline a run uses, and checking run parameters against its inputs.

#include "app.hpp"
#include "upload.hpp"

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace kfp::emulator {

// Which API an upload came through: v1beta1 has no display_name/tags and words limits differently.
enum class ApiFlavor { v2beta1, v1beta1 };

// POST .../pipelines/upload: judges the file, creates the pipeline and its first version.
// Throws ApiFailure with the upload endpoints' statuses.
const Pipeline& upload_pipeline(Context& context, ApiFlavor flavor);
// POST .../pipelines/upload_version.
const PipelineVersion& upload_pipeline_version(Context& context, ApiFlavor flavor);

// The pipeline and version a run uses: the given version, or the pipeline's latest.
struct RunTarget {
  std::string pipeline_id, pipeline_version_id;
  std::vector<package::InputParameter> inputs;
};
[[nodiscard]] RunTarget resolve_run_target(App& app, const std::string& pipeline_id,
                                           const std::string& version_id);

// Checks typed parameters (runtime_config.parameters) against the root inputs: undeclared names,
// wrong JSON types and missing required inputs are 400, as the server's v2 template check.
void check_parameters(const std::vector<package::InputParameter>& inputs,
                      const boost::json::object& parameters);

// Stores a new experiment; 409 "Please specify a new name" when (name, namespace) is taken.
const Experiment& store_experiment(App& app, const std::string& name, const std::string& description,
                                   const std::string& ns);

// The experiment a run goes to; creates "Default" in single-user mode when `experiment_id` is empty.
const Experiment& run_experiment(App& app, const std::string& experiment_id);

// 404 with the server's wording for a missing object.
[[noreturn]] void not_found(std::string_view what, const std::string& id);

}  // namespace kfp::emulator
