#include "resources.hpp"

#include <fmt/format.h>

namespace kfp::emulator {

namespace json = boost::json;

void not_found(std::string_view what, const std::string& id) {
  throw ApiFailure(resource_not_found(what, id));
}

std::optional<std::string> tags_problem(const json::object& tags) {
  if (tags.size() > max_tags)
    return fmt::format("number of tags ({}) exceeds maximum of {} per entity", tags.size(), max_tags);
  for (const auto& [key, value] : tags) {
    std::string k(key);
    if (!value.is_string()) return fmt::format("tag value for key \"{}\" must be a string", k);
    std::string v(value.as_string());
    if (k.empty()) return std::string("tag key cannot be empty");
    if (k.find('.') != std::string::npos)
      return fmt::format("tag key \"{}\" must not contain '.' character", k);
    if (utf8_length(k) > max_tag_length)
      return fmt::format("tag key \"{}\" exceeds maximum length of {} characters", k, max_tag_length);
    if (utf8_length(v) > max_tag_length)
      return fmt::format("tag value \"{}\" for key \"{}\" exceeds maximum length of {} characters", v, k,
                         max_tag_length);
  }
  return std::nullopt;
}

namespace {

[[noreturn]] void database_error(App& app, const std::string& mysql_error, const std::string& message) {
  (void)app;
  throw ApiFailure(internal_server(mysql_error, message));
}

}  // namespace

const Pipeline& store_pipeline(App& app, Pipeline pipeline, std::optional<PipelineVersion> first) {
  const auto version = app.version();
  if (app.store().find_pipeline_by_name(pipeline.name, pipeline.ns) != nullptr) {
    // storage/pipeline_store.go: the 2.x wording, and 1.8's ("already exist", a final period).
    if (is_v1_server(version))
      throw ApiFailure(already_exist(fmt::format(
          "Failed to create a new pipeline. The name {} already exist. Please specify a new name.",
          pipeline.name)));
    throw ApiFailure(already_exist(
        fmt::format("Failed to create a new pipeline. The name {} already exists. Please specify a new name",
                    pipeline.name)));
  }
  std::vector<std::pair<std::string_view, std::string>> columns = {
      {"Name", pipeline.name}, {"DisplayName", pipeline.display_name}, {"Namespace", pipeline.ns}};
  if (auto error = insert_error(version, "pipelines", columns))
    database_error(app, *error, "Failed to insert a new pipeline");
  if (first) {
    if (auto error = insert_error(version, "pipeline_versions",
                                  {{"Name", first->name},
                                   {"DisplayName", first->display_name},
                                   {"CodeSourceUrl", first->code_source_url}}))
      database_error(app, *error, "Failed to insert a new pipeline version");
    app.store().versions.emplace(first->id, std::move(*first));
  }
  auto id = pipeline.id;
  return app.store().pipelines.emplace(id, std::move(pipeline)).first->second;
}

const PipelineVersion& store_version(App& app, PipelineVersion pipeline_version) {
  const auto version = app.version();
  if (app.store().find_version_by_name(pipeline_version.pipeline_id, pipeline_version.name) != nullptr) {
    if (is_v1_server(version))
      throw ApiFailure(already_exist(fmt::format(
          "Failed to create a new pipeline version. The name {} already exist. Please specify a new name.",
          pipeline_version.name)));
    throw ApiFailure(already_exist(
        fmt::format("Failed to create a new pipeline version. The name {} already exist. Specify a new name",
                    pipeline_version.name)));
  }
  if (auto error = insert_error(version, "pipeline_versions",
                                {{"Name", pipeline_version.name},
                                 {"DisplayName", pipeline_version.display_name},
                                 {"CodeSourceUrl", pipeline_version.code_source_url}}))
    database_error(app, *error, "Failed to insert a new pipeline version");
  auto id = pipeline_version.id;
  return app.store().versions.emplace(id, std::move(pipeline_version)).first->second;
}

const Experiment& store_experiment(App& app, const std::string& name, const std::string& description,
                                   const std::string& ns) {
  const auto version = app.version();
  if (app.store().find_experiment_by_name(name, ns) != nullptr)
    throw ApiFailure(already_exist(fmt::format(
        "Failed to create a new experiment. The name {} already exists. Please specify a new name{}", name,
        is_v1_server(version) ? "." : "")));
  if (auto error = insert_error(version, "experiments",
                                {{"Name", name}, {"Description", description}, {"Namespace", ns}}))
    database_error(app, *error, fmt::format("Failed to add experiment to experiment table: {}", name));
  Experiment experiment;
  experiment.id = new_uuid();
  experiment.display_name = name;
  experiment.description = description;
  experiment.ns = ns;
  experiment.created_at = app.now();
  experiment.seq = app.store().next_seq();
  auto id = experiment.id;
  return app.store().experiments.emplace(id, std::move(experiment)).first->second;
}

void create_default_experiment(App& app) {
  if (app.store().find_experiment_by_name("Default", "") != nullptr) return;
  const auto& experiment = store_experiment(
      app, "Default", "All runs created without specifying an experiment will be grouped here.", "");
  app.store().default_experiment_id = experiment.id;
}

}  // namespace kfp::emulator
