#include "apply/file.hpp"

#include "apply/cron.hpp"
#include "publish/parameters.hpp"
#include "util/duration.hpp"
#include "util/file.hpp"
#include "yaml/json.hpp"
#include "yaml/load.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <boost/json/serialize.hpp>

#include <map>
#include <set>

namespace kfp::apply {

namespace {

constexpr std::size_t max_file_bytes = std::size_t{4} << 20;
constexpr std::size_t max_name_chars = 128;
constexpr std::size_t max_tag_chars = 63;
constexpr std::size_t max_problems = 50;

// Collects every problem with its location, so one run of the check shows them all.
class Checker {
 public:
  explicit Checker(const yaml::Source& source) : source_(source), origin_(source.origin) {}

  [[nodiscard]] const yaml::Source& source() const { return source_; }

  Location at(const YAML::Node& node) const {
    const auto mark = node.Mark();
    return Location{origin_, mark.line + 1, mark.column + 1};
  }

  template <class... Args>
  void problem(const YAML::Node& node, fmt::format_string<Args...> format, Args&&... args) {
    problems_.push_back(
        fmt::format("{}: {}", at(node).str(), fmt::format(format, std::forward<Args>(args)...)));
  }
  void problem_at(const Location& where, std::string message) {
    problems_.push_back(fmt::format("{}: {}", where.str(), message));
  }
  // A failure whose message already starts with its location (from yaml/).
  void problem_from(const util::Failure& failure) { problems_.push_back(failure.message); }

  // The key and value nodes of a mapping with merge keys ("<<: *defaults") expanded as the
  // converter expands them: the mapping's own keys, then each merged mapping's keys it lacks.
  std::vector<std::pair<YAML::Node, YAML::Node>> pairs(const YAML::Node& node) {
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    std::set<std::string> seen;
    std::optional<YAML::Node> merge;
    for (const auto& item : node) {
      if (yaml::is_merge_key(item.first)) {
        if (merge) problem(item.first, "invalid YAML: mapping key \"<<\" already defined");
        merge = item.second;
        continue;
      }
      const std::string key = item.first.IsScalar() ? item.first.Scalar() : std::string();
      if (!seen.insert(key).second) {
        problem(item.first, "invalid YAML: mapping key \"{}\" already defined", key);
        continue;
      }
      out.emplace_back(item.first, item.second);
    }
    if (!merge) return out;
    std::vector<YAML::Node> sources;
    if (merge->IsMap()) sources.push_back(*merge);
    if (merge->IsSequence()) {
      for (const auto& item : *merge) sources.push_back(item);
    }
    for (const YAML::Node& source : sources) {
      if (!source.IsMap()) {
        problem(source, "map merge requires map or sequence of maps as the value");
        continue;
      }
      for (auto& [key, value] : pairs(source)) {
        if (seen.insert(key.IsScalar() ? key.Scalar() : std::string()).second) out.emplace_back(key, value);
      }
    }
    if (!merge->IsMap() && !merge->IsSequence()) {
      problem(*merge, "map merge requires map or sequence of maps as the value");
    }
    return out;
  }

  // The entries of a mapping (merges expanded), rejecting keys not in `allowed` and keys given twice.
  std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& node, std::string_view what,
                                                          const std::set<std::string>& allowed) {
    std::vector<std::pair<std::string, YAML::Node>> out;
    if (!node.IsMap()) {
      problem(node, "{} must be a mapping", what);
      return out;
    }
    std::set<std::string> seen;
    for (const auto& item : pairs(node)) {
      const std::string key = item.first.IsScalar() ? item.first.Scalar() : std::string();
      if (!allowed.contains(key)) {
        std::string names;
        for (const auto& name : allowed) names += fmt::format("{}{}", names.empty() ? "" : ", ", name);
        problem(item.first, "unknown key '{}' in {} (allowed: {})", key, what, names);
        continue;
      }
      if (!seen.insert(key).second) {
        problem(item.first, "key '{}' is given twice in {}", key, what);
        continue;
      }
      out.emplace_back(key, item.second);
    }
    return out;
  }

  std::optional<std::string> text(const YAML::Node& node, std::string_view key) {
    if (!node.IsScalar() || node.Tag() == "!!null" || (node.Tag() == "?" && node.Scalar() == "~")) {
      problem(node, "'{}' must be a string", key);
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<std::string> name(const YAML::Node& node, std::string_view key) {
    auto value = text(node, key);
    if (!value) return std::nullopt;
    if (value->empty() || value->size() > max_name_chars) {
      problem(node, "'{}' must be 1 to {} characters", key, max_name_chars);
      return std::nullopt;
    }
    return value;
  }

  // A scalar as the one resolution (yaml/scalar.hpp) reads it: yes/no/on/off are not booleans.
  std::optional<bool> boolean(const YAML::Node& node, std::string_view key) {
    auto value = resolved(node);
    if (!value || !value->is_bool()) {
      if (value) problem(node, "'{}' must be true or false", key);
      return std::nullopt;
    }
    return value->get_bool();
  }

  std::optional<std::int64_t> integer(const YAML::Node& node, std::string_view key) {
    auto value = resolved(node);
    if (!value || !value->is_int64()) {
      if (value) problem(node, "'{}' must be an integer", key);
      return std::nullopt;
    }
    return value->get_int64();
  }

  [[nodiscard]] bool ok() const { return problems_.empty(); }

  util::Failure failure() const {
    std::string message =
        fmt::format("{}: {} problem{}", origin_, problems_.size(), problems_.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < problems_.size() && i < max_problems; ++i) message += "\n  " + problems_[i];
    if (problems_.size() > max_problems)
      message += fmt::format("\n  ... and {} more", problems_.size() - max_problems);
    return util::fail(util::ErrorKind::invalid_package, std::move(message),
                      "fix the apply file; its format is in the README (section apply); nothing was sent");
  }

 private:
  // The node's value, null for a collection; nullopt after reporting a scalar the file may not hold.
  std::optional<boost::json::value> resolved(const YAML::Node& node) {
    if (!node.IsScalar()) return boost::json::value(nullptr);
    auto value = yaml::scalar_to_json(node, source_);
    if (!value) {
      problem_from(value.error());
      return std::nullopt;
    }
    return std::move(*value);
  }

  const yaml::Source& source_;
  std::string origin_;
  std::vector<std::string> problems_;
};

// Run parameters as "name=value" assignments, typed later against the pipeline's declared inputs
// exactly as --param values are (and as a --params-file's): a scalar keeps the text written, a
// list or mapping is JSON from the one converter.
std::vector<std::string> parameter_assignments(Checker& check, const YAML::Node& node) {
  std::vector<std::string> out;
  if (!node.IsMap()) {
    check.problem(node, "'parameters' must be a mapping of name: value");
    return out;
  }
  auto values = yaml::to_json(node, check.source(), yaml::TopLevelScalars::keep_text);
  if (!values) {
    check.problem_from(values.error());
    return out;
  }
  for (const auto& [name, value] : values->as_object()) {
    if (value.is_null()) {
      check.problem(node, "parameter '{}' has no value; give one or leave the parameter out",
                    std::string_view(name));
    } else if (value.is_string()) {
      out.push_back(fmt::format("{}={}", std::string_view(name), std::string_view(value.get_string())));
    } else {
      out.push_back(fmt::format("{}={}", std::string_view(name), boost::json::serialize(value)));
    }
  }
  return out;
}

template <class Entry>
void check_unique(Checker& check, const std::vector<Entry>& entries, std::string_view what) {
  std::map<std::string, Location> seen;
  for (const auto& entry : entries) {
    auto [it, inserted] = seen.emplace(entry.name, entry.where);
    if (!inserted)
      check.problem_at(entry.where, fmt::format("{} '{}' is declared twice (first at {})", what, entry.name,
                                                it->second.str()));
  }
}

class Reader {
 public:
  Reader(Checker& check, std::filesystem::path base) : check_(check), base_(std::move(base)) {}

  void read(const YAML::Node& root, ApplyFile& file) {
    bool saw_version = false;
    bool saw_kind = false;
    for (const auto& [key, value] :
         check_.entries(root, "the apply file",
                        {"apiVersion", "kind", "pipelines", "experiments", "runs", "recurringRuns"})) {
      if (key == "apiVersion") {
        saw_version = true;
        if (auto text = check_.text(value, key); text && *text != api_version) {
          check_.problem(value, "apiVersion must be {} (found '{}')", api_version, *text);
        }
      } else if (key == "kind") {
        saw_kind = true;
        if (auto text = check_.text(value, key); text && *text != file_kind) {
          check_.problem(value, "kind must be {} (found '{}')", file_kind, *text);
        }
      } else {
        if (value.IsNull()) continue;
        if (!value.IsSequence()) {
          check_.problem(value, "'{}' must be a list", key);
          continue;
        }
        for (const auto& item : value) {
          if (key == "pipelines") read_pipeline(item, file);
          if (key == "experiments") read_experiment(item, file);
          if (key == "runs") read_run(item, file);
          if (key == "recurringRuns") read_recurring_run(item, file);
        }
      }
    }
    if (root.IsMap()) {
      if (!saw_version) check_.problem(root, "apiVersion: {} is missing", api_version);
      if (!saw_kind) check_.problem(root, "kind: {} is missing", file_kind);
    }
  }

 private:
  template <class Entry>
  void require(const YAML::Node& node, const Entry& entry, bool present, std::string_view key,
               std::string_view what) {
    if (!present) check_.problem(node, "{} '{}' needs '{}'", what, entry.name, key);
  }

  void read_pipeline(const YAML::Node& node, ApplyFile& file) {
    PipelineEntry entry;
    entry.where = check_.at(node);
    bool has_package = false;
    for (const auto& [key, value] : check_.entries(
             node, "a pipeline", {"name", "package", "description", "tags", "version", "shared"})) {
      if (key == "name") {
        entry.name = check_.name(value, key).value_or("");
      } else if (key == "package") {
        if (auto text = check_.text(value, key)) {
          std::filesystem::path path(*text);
          entry.package_path = path.is_absolute() ? path : base_ / path;
          has_package = true;
        }
      } else if (key == "description") {
        entry.description = check_.text(value, key).value_or("");
      } else if (key == "version") {
        entry.version = check_.name(value, key);
      } else if (key == "tags") {
        read_tags(value, entry);
      } else if (key == "shared") {
        entry.shared = check_.boolean(value, key);
      }
    }
    if (!node.IsMap()) return;
    if (entry.name.empty()) check_.problem(node, "a pipeline needs 'name'");
    require(node, entry, has_package, "package", "pipeline");
    file.pipelines.push_back(std::move(entry));
  }

  void read_tags(const YAML::Node& node, PipelineEntry& entry) {
    if (!node.IsMap()) {
      check_.problem(node, "'tags' must be a mapping of key: value");
      return;
    }
    for (const auto& item : check_.pairs(node)) {
      const std::string key = item.first.Scalar();
      const std::string value = item.second.IsScalar() ? item.second.Scalar() : std::string();
      if (!item.second.IsScalar()) {
        check_.problem(item.second, "tag '{}' must have a string value", key);
      } else if (key.empty() || key.size() > max_tag_chars || value.size() > max_tag_chars) {
        check_.problem(item.first, "tag '{}': keys and values are 1 to {} characters", key, max_tag_chars);
      } else if (key.find('.') != std::string::npos) {
        check_.problem(item.first, "tag '{}': keys may not contain '.'", key);
      } else {
        entry.tags.emplace_back(key, value);
      }
    }
  }

  void read_experiment(const YAML::Node& node, ApplyFile& file) {
    ExperimentEntry entry;
    entry.where = check_.at(node);
    for (const auto& [key, value] : check_.entries(node, "an experiment", {"name", "description"})) {
      if (key == "name") entry.name = check_.name(value, key).value_or("");
      if (key == "description") entry.description = check_.text(value, key).value_or("");
    }
    if (!node.IsMap()) return;
    if (entry.name.empty()) check_.problem(node, "an experiment needs 'name'");
    file.experiments.push_back(std::move(entry));
  }

  void read_run(const YAML::Node& node, ApplyFile& file) {
    RunEntry entry;
    entry.where = check_.at(node);
    for (const auto& [key, value] : check_.entries(
             node, "a run",
             {"name", "pipeline", "version", "experiment", "parameters", "runKey", "wait", "waitTimeout"})) {
      if (key == "name") entry.name = check_.name(value, key).value_or("");
      if (key == "pipeline") entry.pipeline = check_.name(value, key).value_or("");
      if (key == "version") entry.version = check_.name(value, key);
      if (key == "experiment") entry.experiment = check_.name(value, key).value_or("");
      if (key == "parameters") entry.parameters = parameter_assignments(check_, value);
      if (key == "runKey") entry.run_key = check_.name(value, key);
      if (key == "wait") entry.wait = check_.boolean(value, key).value_or(false);
      if (key == "waitTimeout") {
        if (auto text = check_.text(value, key)) {
          auto duration = util::parse_duration(*text);
          if (duration) {
            entry.wait_timeout = *duration;
          } else {
            check_.problem(value, "waitTimeout: {}", duration.error().message);
          }
        }
      }
    }
    if (!node.IsMap()) return;
    if (entry.name.empty()) check_.problem(node, "a run needs 'name'");
    require(node, entry, !entry.pipeline.empty(), "pipeline", "run");
    require(node, entry, !entry.experiment.empty(), "experiment", "run");
    if (entry.wait_timeout && !entry.wait)
      check_.problem(node, "run '{}': waitTimeout needs wait: true", entry.name);
    file.runs.push_back(std::move(entry));
  }

  void read_recurring_run(const YAML::Node& node, ApplyFile& file) {
    RecurringRunEntry entry;
    entry.where = check_.at(node);
    bool has_cron = false;
    for (const auto& [key, value] : check_.entries(node, "a recurring run",
                                                   {"name", "pipeline", "version", "experiment", "cron",
                                                    "interval", "maxConcurrency", "enabled", "parameters"})) {
      if (key == "name") entry.name = check_.name(value, key).value_or("");
      if (key == "pipeline") entry.pipeline = check_.name(value, key).value_or("");
      if (key == "version") entry.version = check_.name(value, key);
      if (key == "experiment") entry.experiment = check_.name(value, key).value_or("");
      if (key == "enabled") entry.enabled = check_.boolean(value, key).value_or(true);
      if (key == "parameters") entry.assignments = parameter_assignments(check_, value);
      if (key == "cron") {
        has_cron = true;
        if (auto text = check_.text(value, key)) {
          if (auto cron = schedule_for_server(*text)) {
            entry.cron = std::move(*cron);
          } else {
            check_.problem(value,
                           "cron '{}' is not a schedule the server accepts ({}); give 6 fields with leading "
                           "seconds (\"0 0 2 * * *\"), 5 crontab fields (seconds 0 are prepended) or a "
                           "descriptor such as @daily or @every 1h",
                           *text, cron.error().message);
          }
        }
      }
      if (key == "interval") {
        if (auto text = check_.text(value, key)) {
          auto duration = util::parse_duration(*text);
          if (!duration) {
            check_.problem(value, "interval: {}", duration.error().message);
          } else if (duration->count() < 1000 || duration->count() % 1000 != 0) {
            check_.problem(value, "interval must be a whole number of seconds, at least 1s");
          } else {
            entry.interval_seconds = duration->count() / 1000;
          }
        }
      }
      if (key == "maxConcurrency") {
        if (auto number = check_.integer(value, key)) {
          if (*number < 1 || *number > max_concurrency_limit) {
            check_.problem(value, "maxConcurrency must be between 1 and {}", max_concurrency_limit);
          } else {
            entry.max_concurrency = *number;
          }
        }
      }
    }
    if (!node.IsMap()) return;
    if (entry.name.empty()) check_.problem(node, "a recurring run needs 'name'");
    require(node, entry, !entry.pipeline.empty(), "pipeline", "recurring run");
    require(node, entry, !entry.experiment.empty(), "experiment", "recurring run");
    if (has_cron == entry.interval_seconds.has_value() && (has_cron || !entry.interval_seconds)) {
      if (has_cron) {
        check_.problem(node, "recurring run '{}': give either 'cron' or 'interval', not both", entry.name);
      } else {
        check_.problem(node, "recurring run '{}' needs 'cron' or 'interval'", entry.name);
      }
    }
    file.recurring_runs.push_back(std::move(entry));
  }

 private:
  Checker& check_;
  std::filesystem::path base_;
};

util::Failure with_hint(util::Failure failure) {
  failure.hint = "fix the apply file; its format is in the README (section apply); nothing was sent";
  return failure;
}

}  // namespace

std::string Location::str() const {
  return line > 0 ? fmt::format("{}:{}:{}", file, line, column) : file;
}

const PipelineEntry* ApplyFile::pipeline(const std::string& name) const {
  for (const auto& entry : pipelines) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

util::Result<ApplyFile> parse_file(const std::string& text, const std::string& origin,
                                   const std::filesystem::path& base, PackageLoading loading) {
  const yaml::Source source = yaml::file_source(origin, util::ErrorKind::invalid_package);
  auto root = yaml::load_document(text, source);
  if (!root) return with_hint(root.error());
  // What reading the file may cost (aliases, depth) is bounded before it is read; its scalars are
  // judged where each field is read (a description may well be ".inf").
  if (auto size = yaml::check_size(*root, source); !size) return with_hint(size.error());
  Checker check(source);
  ApplyFile file;
  file.path = origin;
  Reader reader(check, base);
  reader.read(*root, file);

  check_unique(check, file.pipelines, "pipeline");
  check_unique(check, file.experiments, "experiment");
  check_unique(check, file.runs, "run");
  check_unique(check, file.recurring_runs, "recurring run");
  std::set<std::string> experiments;
  for (const auto& entry : file.experiments) experiments.insert(entry.name);
  auto check_refs = [&](const auto& entry, std::string_view what) {
    if (!entry.pipeline.empty() && file.pipeline(entry.pipeline) == nullptr) {
      check.problem_at(entry.where,
                       fmt::format("{} '{}' names pipeline '{}', which is not declared under pipelines", what,
                                   entry.name, entry.pipeline));
    }
    if (!entry.experiment.empty() && !experiments.contains(entry.experiment)) {
      check.problem_at(entry.where,
                       fmt::format("{} '{}' names experiment '{}', which is not declared under experiments",
                                   what, entry.name, entry.experiment));
    }
  };
  for (const auto& entry : file.runs) check_refs(entry, "run");
  for (const auto& entry : file.recurring_runs) check_refs(entry, "recurring run");

  if (check.ok() && loading == PackageLoading::load) {
    for (auto& entry : file.pipelines) {
      auto loaded = package::load(entry.package_path);
      if (!loaded) {
        check.problem_at(entry.where, fmt::format("pipeline '{}': {}", entry.name, loaded.error().message));
      } else {
        entry.package = std::move(*loaded);
      }
    }
  }
  if (check.ok() && loading == PackageLoading::load) {
    // Parameters are typed against the package in this file, so a wrong one stops everything here.
    for (const auto& entry : file.runs) {
      auto resolved = publish::resolve_parameters({entry.parameters, std::nullopt},
                                                  file.pipeline(entry.pipeline)->package.inputs);
      if (!resolved)
        check.problem_at(entry.where, fmt::format("run '{}': {}", entry.name, resolved.error().message));
    }
    for (auto& entry : file.recurring_runs) {
      auto resolved = publish::resolve_parameters({entry.assignments, std::nullopt},
                                                  file.pipeline(entry.pipeline)->package.inputs);
      if (!resolved) {
        check.problem_at(entry.where,
                         fmt::format("recurring run '{}': {}", entry.name, resolved.error().message));
      } else {
        entry.parameters = std::move(*resolved);
      }
    }
  }
  if (!check.ok()) return check.failure();
  return file;
}

util::Result<ApplyFile> load_file(const std::filesystem::path& path, PackageLoading loading) {
  auto text = util::read_file(path, max_file_bytes, util::ErrorKind::usage);
  if (!text) return text.error();
  return parse_file(*text, path.string(), path.parent_path(), loading);
}

}  // namespace kfp::apply
