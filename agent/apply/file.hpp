#pragma once
// The declarative apply file (apiVersion kfp-publish/v1, kind Apply): pipelines with their packages,
// experiments, runs to start once and recurring runs. Everything is checked offline, packages and
// run parameters included, before any request; problems are reported as "file:line:col: ...".

#include "package/package.hpp"
#include "util/error.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kfp::apply {

inline constexpr const char* api_version = "kfp-publish/v1";
inline constexpr const char* file_kind = "Apply";
inline constexpr std::int64_t max_concurrency_limit = 10;  // the server's bound (NOTES B.7)

// Where an entry was written, for messages: "apply.yaml:12:5".
struct Location {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  [[nodiscard]] std::string str() const;
};

struct PipelineEntry {
  Location where;
  std::string name;
  std::filesystem::path package_path;  // resolved against the file's directory
  std::string description;
  std::vector<std::pair<std::string, std::string>> tags;
  std::optional<std::string> version;  // else named by the content digest
  // true: published without a namespace (publish::PipelineScope::shared); else --shared-pipeline says.
  std::optional<bool> shared;
  package::Package package;  // loaded and validated
};

struct ExperimentEntry {
  Location where;
  std::string name;
  std::string description;
};

struct RunEntry {
  Location where;
  std::string name;
  std::string pipeline;
  std::optional<std::string> version;  // else the version this apply publishes
  std::string experiment;
  std::vector<std::string> parameters;  // "name=value" assignments, typed as --param values are
  std::optional<std::string> run_key;   // else "apply:<name>" plus the CI's run identity
  bool wait = false;
  std::optional<std::chrono::milliseconds> wait_timeout;
};

struct RecurringRunEntry {
  Location where;
  std::string name;
  std::string pipeline;
  std::optional<std::string> version;
  std::string experiment;
  std::string cron;  // as sent to the server (apply/cron.hpp schedule_for_server); empty with interval
  std::optional<std::int64_t> interval_seconds;
  std::int64_t max_concurrency = 1;
  bool enabled = true;
  std::vector<std::string> assignments;  // "name=value", typed as --param values are
  boost::json::object parameters;        // typed against the pipeline's declared inputs
};

struct ApplyFile {
  std::filesystem::path path;
  std::vector<PipelineEntry> pipelines;
  std::vector<ExperimentEntry> experiments;
  std::vector<RunEntry> runs;
  std::vector<RecurringRunEntry> recurring_runs;

  [[nodiscard]] const PipelineEntry* pipeline(const std::string& name) const;
};

enum class PackageLoading { load, skip };

// Reads and checks the file: unknown keys, types, duplicates, references to undeclared pipelines or
// experiments, schedules, tags; with PackageLoading::load also every package and every run's
// parameters. Fails with kind invalid_package (exit 3), listing every problem with its location; a
// file the guarded YAML loader refuses (yaml/load.hpp: not UTF-8, too deep, an alias bomb, a second
// document, a syntax error) fails on that alone, with its file:line:col.
[[nodiscard]] util::Result<ApplyFile> load_file(const std::filesystem::path& path,
                                                PackageLoading loading = PackageLoading::load);

// The same from text already in memory; `origin` names it and package paths are relative to `base`.
[[nodiscard]] util::Result<ApplyFile> parse_file(const std::string& text, const std::string& origin,
                                                 const std::filesystem::path& base, PackageLoading loading);

}  // namespace kfp::apply
