#pragma once
// The machine-readable report ("kfp-publish/report/v1"): one JSON object per invocation, printed
// on stdout with -o json and written to --report FILE. Fields absent when not relevant.

#include "util/error.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kfp::report {

inline constexpr const char* schema_id = "kfp-publish/report/v1";

enum class Outcome { none, created, updated, unchanged, planned, failed };

struct ServerInfo {
  std::string host;
  std::string api;      // "v2beta1" | "v1beta1"
  std::string version;  // tag_name from healthz
  std::optional<bool> multi_user;
};

// How far a run's tasks are (run.tasks): the pipeline's own tasks, counted by state
// (publish/tasks.hpp says which nodes count).
struct TaskCounts {
  int total = 0;
  int succeeded = 0;
  int running = 0;
  int failed = 0;
  int pending = 0;
  int skipped = 0;
  int canceled = 0;
  std::vector<std::string> running_tasks;  // paths of the tasks running now
  [[nodiscard]] int done() const { return succeeded + failed + skipped + canceled; }
};

// A task that failed (run.failed_tasks[]), innermost first.
struct FailedTask {
  std::string name;  // display name
  std::string path;  // display names from the root's child down, "/"-joined
  std::string state;
  std::string error;
  std::string started_at;
  std::string finished_at;
  std::string pod;
  std::string node_id;  // what the log endpoint was asked for
  std::string url;
  std::string log_tail;
  std::optional<std::string> log_error;  // why the log could not be read
};

// The run's graph for the step summary's picture: the tasks and the groups (sub-DAGs, loop
// iterations) they sit in, dependencies between them. Not part of the JSON report.
struct GraphNode {
  std::string id;  // the server's node id, unsanitised
  std::string label;
  std::string state;
  bool group = false;
  std::string parent;  // the enclosing group's id, empty at the top
  bool on_failed_path = false;
};
struct RunGraph {
  std::vector<GraphNode> nodes;
  std::vector<std::pair<std::string, std::string>> edges;  // dependencies: from, to
};

// A pipeline, version, experiment or run the command touched.
struct ObjectInfo {
  std::string id;
  std::string name;
  std::optional<bool> created;
  std::string digest;  // versions
  std::string state;   // runs
  std::string url;     // runs
  // Runs: their tasks when the server reported them; the failed ones when the run ended FAILED or
  // CANCELED; the graph for the step summary. (Initialised so that ObjectInfo{id, name, ...} stays
  // valid where it is written so.)
  std::optional<TaskCounts> tasks = {};
  std::optional<std::vector<FailedTask>> failed_tasks = {};
  std::optional<RunGraph> graph = {};
};

struct ErrorInfo {
  util::ErrorKind kind = util::ErrorKind::internal;
  std::string message;
  std::string hint;
  std::optional<int> http_status;
};

struct Report {
  std::string command;
  int exit_code = 0;
  Outcome outcome = Outcome::none;
  std::optional<ServerInfo> server;
  std::string namespace_name;
  std::optional<ObjectInfo> pipeline;
  std::optional<ObjectInfo> version;
  std::optional<ObjectInfo> experiment;
  std::optional<ObjectInfo> run;
  std::optional<ErrorInfo> error;
  boost::json::object details;  // command-specific members (validate's packages, doctor's checks, ...)

  // Records a failure: sets error, outcome failed and the exit code mapped from its kind.
  void set_failure(const util::Failure& failure);
};

[[nodiscard]] std::string_view to_string(Outcome outcome);
[[nodiscard]] boost::json::object to_json(const Report& report);
// One object as the report writes it (report.run, apply's runs): tasks and failed_tasks included.
[[nodiscard]] boost::json::object to_json(const ObjectInfo& info);

}  // namespace kfp::report
