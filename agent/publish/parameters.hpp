#pragma once
// Run parameters from --param k=v and --params-file, converted to the types the pipeline declares
// and checked as the server would (unknown name, wrong type, missing required) before anything is
// created. Failures have kind invalid_parameters (exit 3).

#include "package/package.hpp"
#include "util/error.hpp"

#include <boost/json/object.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kfp::publish {

struct ParameterInput {
  std::vector<std::string> assignments;              // "name=value", as given with --param
  std::optional<std::filesystem::path> params_file;  // YAML or JSON mapping; --param wins over it
};

// The runtime_config.parameters object for a run, typed per the declared inputs.
[[nodiscard]] util::Result<boost::json::object> resolve_parameters(
    const ParameterInput& input, const std::vector<package::InputParameter>& declared);

// Converts one textual value to the declared type ("3" → 3 for NUMBER_INTEGER, "[1,2]" → [1,2] for LIST).
[[nodiscard]] util::Result<boost::json::value> convert_text(const std::string& name, const std::string& text,
                                                            package::ParameterType type);

}  // namespace kfp::publish
