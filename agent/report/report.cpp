#include "report/report.hpp"

#include "util/exit_code.hpp"

#include <boost/json/array.hpp>

namespace kfp::report {

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::none: return "";
    case Outcome::created: return "created";
    case Outcome::updated: return "updated";
    case Outcome::unchanged: return "unchanged";
    case Outcome::planned: return "planned";
    case Outcome::failed: return "failed";
  }
  return "";
}

void Report::set_failure(const util::Failure& failure) {
  error = ErrorInfo{failure.kind, failure.message, failure.hint, failure.http_status};
  outcome = Outcome::failed;
  exit_code = util::to_int(util::exit_code_for(failure.kind));
}

namespace {

void put_if(boost::json::object& out, std::string_view key, const std::string& value) {
  if (!value.empty()) out[key] = value;
}

}  // namespace

boost::json::object to_json(const ObjectInfo& info) {
  boost::json::object out;
  put_if(out, "id", info.id);
  put_if(out, "name", info.name);
  put_if(out, "digest", info.digest);
  put_if(out, "state", info.state);
  if (info.created) out["created"] = *info.created;
  put_if(out, "url", info.url);
  if (info.tasks) {
    const auto& t = *info.tasks;
    boost::json::array running;
    for (const auto& name : t.running_tasks) running.emplace_back(name);
    out["tasks"] = {{"total", t.total},       {"succeeded", t.succeeded},
                    {"running", t.running},   {"failed", t.failed},
                    {"pending", t.pending},   {"skipped", t.skipped},
                    {"canceled", t.canceled}, {"running_tasks", std::move(running)}};
  }
  if (info.failed_tasks) {
    boost::json::array failed;
    for (const auto& task : *info.failed_tasks) {
      boost::json::object item;
      item["name"] = task.name;
      item["path"] = task.path;
      item["state"] = task.state;
      item["error"] = task.error;
      put_if(item, "started_at", task.started_at);
      put_if(item, "finished_at", task.finished_at);
      put_if(item, "pod", task.pod);
      put_if(item, "node_id", task.node_id);
      put_if(item, "url", task.url);
      item["log_tail"] = task.log_tail;
      if (task.log_error) item["log_error"] = *task.log_error;
      failed.emplace_back(std::move(item));
    }
    out["failed_tasks"] = std::move(failed);
  }
  return out;
}

boost::json::object to_json(const Report& report) {
  boost::json::object out;
  out["schema"] = schema_id;
  out["command"] = report.command;
  out["exit_code"] = report.exit_code;
  if (report.outcome != Outcome::none) out["outcome"] = to_string(report.outcome);
  if (report.server) {
    boost::json::object server;
    put_if(server, "host", report.server->host);
    put_if(server, "api", report.server->api);
    put_if(server, "version", report.server->version);
    if (report.server->multi_user) server["multi_user"] = *report.server->multi_user;
    out["server"] = std::move(server);
  }
  put_if(out, "namespace", report.namespace_name);
  if (report.pipeline) out["pipeline"] = to_json(*report.pipeline);
  if (report.version) out["version"] = to_json(*report.version);
  if (report.experiment) out["experiment"] = to_json(*report.experiment);
  if (report.run) out["run"] = to_json(*report.run);
  for (const auto& [key, value] : report.details) out[key] = value;
  if (report.error) {
    boost::json::object error;
    error["kind"] = util::to_string(report.error->kind);
    error["message"] = report.error->message;
    if (report.error->http_status) error["http_status"] = *report.error->http_status;
    put_if(error, "hint", report.error->hint);
    out["error"] = std::move(error);
  }
  return out;
}

}  // namespace kfp::report
