#include "columns.hpp"

#include <array>

namespace kfp::emulator {

namespace {

struct Size {
  std::string_view table, column;
  std::size_t gorm_v1;  // 1.8.5 - 2.5.0 (github.com/jinzhu/gorm: VARCHAR(255) unless sized)
  std::size_t gorm_v2;  // 2.15.0+ (gorm.io with DefaultStringSize 255, client_manager.go)
};

// 0: a TEXT column. Sources: model/{experiment,run,job,pipeline,pipeline_version}.go gorm tags.
constexpr std::array<Size, 17> sizes = {{
    {"experiments", "Name", 255, 128},
    {"experiments", "Description", 255, 255},
    {"experiments", "Namespace", 255, 63},
    {"run_details", "DisplayName", 255, 255},
    {"run_details", "Description", 255, 255},
    {"run_details", "Namespace", 255, 63},
    {"run_details", "ServiceAccount", 255, 255},
    {"jobs", "DisplayName", 255, 255},
    {"jobs", "Description", 255, 255},
    {"jobs", "Namespace", 255, 255},
    {"jobs", "ServiceAccount", 255, 255},
    {"pipelines", "Name", 255, 128},
    {"pipelines", "DisplayName", 255, 255},
    {"pipelines", "Namespace", 63, 63},
    {"pipeline_versions", "Name", 255, 127},
    {"pipeline_versions", "DisplayName", 255, 255},
    {"pipeline_versions", "CodeSourceUrl", 255, 255},
}};

struct ModelLimit {
  std::string_view model, field;
  std::size_t max;
};

// validation/length.go LengthSpecs (the fields a client can set).
constexpr std::array<ModelLimit, 8> model_limits = {{
    {"Experiment", "Name", 128},
    {"Experiment", "Namespace", 63},
    {"PipelineVersion", "Name", 127},
    {"Pipeline", "Name", 128},
    {"Pipeline", "Namespace", 63},
    {"Run", "Namespace", 63},
    {"Run", "ExperimentId", 64},
    {"Job", "UUID", 191},
}};

}  // namespace

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++count;
  return count;
}

std::optional<std::size_t> column_size(ServerVersion version, Column column) {
  for (const auto& size : sizes) {
    if (size.table != column.table || size.column != column.name) continue;
    auto value = at_least(version, ServerVersion::v2_15_0) ? size.gorm_v2 : size.gorm_v1;
    if (value == 0) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::optional<std::string> insert_error(ServerVersion version, std::string_view table,
                                        const std::vector<std::pair<std::string_view, std::string>>& values) {
  for (const auto& [name, value] : values) {
    auto size = column_size(version, Column{table, name});
    if (!size || utf8_length(value) <= *size) continue;
    // go-sql-driver/mysql adds the SQLSTATE from v1.7 (the 2.x releases); 1.8 used an older one.
    std::string code = is_v1_server(version) ? "Error 1406" : "Error 1406 (22001)";
    return code + ": Data too long for column '" + std::string(name) + "' at row 1";
  }
  return std::nullopt;
}

std::optional<ApiError> model_length_error(
    ServerVersion version, std::string_view model,
    const std::vector<std::pair<std::string_view, std::string>>& fields) {
  if (!checks_name_length(version)) return std::nullopt;
  for (const auto& [name, value] : fields)
    for (const auto& limit : model_limits)
      if (limit.model == model && limit.field == name && value.size() > limit.max)
        return invalid_input(std::string(model) + "." + std::string(name) + " length cannot exceed " +
                             std::to_string(limit.max));
  return std::nullopt;
}

}  // namespace kfp::emulator
