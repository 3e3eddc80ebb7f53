#pragma once
// The machine-readable report ("kfp-publish/report/v1"): one JSON object per invocation, printed
// on stdout with -o json and written to --report FILE. Fields absent when not relevant.

#include "util/error.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace kfp::report {

inline constexpr const char* schema_id = "kfp-publish/report/v1";

enum class Outcome { none, created, updated, unchanged, planned, failed };

struct ServerInfo {
  std::string host;
  std::string api;      // "v2beta1" | "v1beta1"
  std::string version;  // tag_name from healthz
  std::optional<bool> multi_user;
};

// A pipeline, version, experiment or run the command touched.
struct ObjectInfo {
  std::string id;
  std::string name;
  std::optional<bool> created;
  std::string digest;  // versions
  std::string state;   // runs
  std::string url;     // runs
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

}  // namespace kfp::report
