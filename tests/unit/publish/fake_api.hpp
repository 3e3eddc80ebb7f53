#pragma once
// An in-memory KFP for the flows' unit tests (publish, run, apply): enough behaviour for their
// decisions, and a record of every write.

#include "api/kfp_api.hpp"
#include "http/retry.hpp"
#include "package/package.hpp"

#include <doctest/doctest.h>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace kfp::test {

// Names are unique per namespace ("" for shared pipelines), as on the server.
class FakeApi final : public api::KfpApi {
 public:
  explicit FakeApi(bool tags) {
    info_.api = "v2beta1";
    info_.version = tags ? "2.17.0" : "2.5.0";
    info_.supports_tags = tags;
  }
  [[nodiscard]] const api::ServerInfo& server() const override { return info_; }

  util::Result<std::optional<api::Pipeline>> find_pipeline(const std::string& name,
                                                           const std::string& ns) override {
    for (const auto& p : pipelines)
      if (p.name == name && p.namespace_name == ns) return std::optional<api::Pipeline>(p);
    return std::optional<api::Pipeline>();
  }
  util::Result<api::Pipeline> create_pipeline(const std::string& name, const std::string&,
                                              const std::string& ns) override {
    writes.push_back("create_pipeline " + name);
    pipelines.push_back({"p" + std::to_string(pipelines.size() + 1), name, ns});
    return pipelines.back();
  }
  util::Result<std::optional<api::PipelineVersion>> find_version_by_name(const std::string& pid,
                                                                         const std::string& name) override {
    for (const auto& v : versions)
      if (!hide_versions && v.pipeline_id == pid && v.name == name)
        return std::optional<api::PipelineVersion>(v);
    return std::optional<api::PipelineVersion>();
  }
  util::Result<std::optional<api::PipelineVersion>> find_version_by_digest(
      const std::string& pid, const std::string& digest) override {
    for (const auto& v : versions) {
      if (hide_versions || v.pipeline_id != pid) continue;
      if (info_.supports_tags ? v.tags.count(api::digest_tag_key) &&
                                    v.tags.at(api::digest_tag_key) == api::digest_tag_value(digest)
                              : v.description.find(digest) != std::string::npos) {
        return std::optional<api::PipelineVersion>(v);
      }
    }
    return std::optional<api::PipelineVersion>();
  }
  util::Result<std::optional<api::PipelineVersion>> latest_version(const std::string& pid) override {
    for (auto it = versions.rbegin(); it != versions.rend(); ++it)
      if (it->pipeline_id == pid) return std::optional<api::PipelineVersion>(*it);
    return std::optional<api::PipelineVersion>();
  }
  util::Result<api::PipelineVersion> get_version(const std::string&, const std::string& vid) override {
    for (const auto& v : versions)
      if (v.id == vid) return v;
    return util::fail(util::ErrorKind::not_found, "no version");
  }
  util::Result<api::PipelineVersion> upload_version(const api::UploadVersion& upload) override {
    writes.push_back("upload_version " + upload.name);
    // The server keeps one version per name: a racing upload's answer is a 409, and the client
    // adopts what its look-up finds (create_object).
    for (const auto& existing : versions) {
      if (existing.pipeline_id == upload.pipeline_id && existing.name == upload.name) {
        auto found = existing;
        found.found_existing = true;
        return found;
      }
    }
    api::PipelineVersion v;
    v.id = "v" + std::to_string(versions.size() + 1);
    v.name = upload.name;
    v.pipeline_id = upload.pipeline_id;
    v.description = upload.description;
    if (info_.supports_tags) v.tags = upload.tags;
    versions.push_back(v);
    return v;
  }
  util::Result<std::optional<api::Experiment>> find_experiment(const std::string& name,
                                                               const std::string&) override {
    for (const auto& e : experiments)
      if (e.name == name) return std::optional<api::Experiment>(e);
    return std::optional<api::Experiment>();
  }
  util::Result<api::Experiment> create_experiment(const std::string& name, const std::string& ns) override {
    writes.push_back("create_experiment " + name);
    experiments.push_back({"e" + std::to_string(experiments.size() + 1), name, ns});
    return experiments.back();
  }
  util::Result<std::optional<api::Run>> find_run(const std::string& experiment_id, const std::string& ns,
                                                 const std::string& marker) override {
    auto listed = list_runs_with_marker(experiment_id, ns, marker, std::nullopt);
    if (listed->empty()) return std::optional<api::Run>();
    return std::optional<api::Run>(listed->front());
  }
  util::Result<std::vector<api::Run>> list_runs_with_marker(
      const std::string&, const std::string&, const std::string& marker,
      std::optional<util::Milliseconds> within) override {
    listed_within.push_back(within);
    listings.push_back({marker, clock != nullptr ? clock->now() : http::Clock::TimePoint{}});
    std::vector<api::Run> found;
    for (const auto& run : runs) {
      auto late = visible_at.find(run.id);
      if (late != visible_at.end() && clock != nullptr && clock->now() < late->second) continue;
      if (run.description.find(marker) != std::string::npos) found.push_back(run);
    }
    api::order_oldest_first(found);
    return found;
  }
  util::Result<api::Run> create_run(const api::CreateRun& create, const std::string&,
                                    const std::string& marker) override {
    writes.push_back("create_run " + create.name);
    CHECK(create.description.find(marker) != std::string::npos);
    CHECK(create.description.size() <= 255);
    last_parameters = create.parameters;
    api::Run run{"r" + std::to_string(runs.size() + 1), create.name, "PENDING", {}, stamp()};
    run.description = create.description;
    run.parameters = create.parameters;
    runs.push_back(run);
    if (on_create_run) on_create_run(run);
    return run;
  }
  util::Result<api::Run> get_run(const std::string& id, std::optional<util::Milliseconds> within) override {
    polled_within.push_back(within);
    if (clock != nullptr) polled_at.push_back(clock->now());
    if (get_run_hook) return get_run_hook(id);
    api::Run run{id, "", states.empty() ? "RUNNING" : states.front(), {}};
    if (states.size() > 1) states.pop_front();
    for (const auto& stored : runs)
      if (stored.id == id && stored.state == "CANCELED") run.state = "CANCELED";
    return run;
  }
  util::Result<std::optional<api::RunTasks>> get_run_workflow(const std::string& id,
                                                              std::optional<util::Milliseconds>) override {
    ++workflow_reads;
    if (get_run_workflow_hook) return get_run_workflow_hook(id);
    return std::optional<api::RunTasks>();
  }
  util::Result<api::TaskLog> read_task_log(const std::string&, const std::string& node_id,
                                           std::size_t max_lines,
                                           std::optional<util::Milliseconds> within) override {
    log_reads.emplace_back(node_id, max_lines);
    log_read_within.push_back(within);
    if (read_log_hook) return read_log_hook(node_id);
    return util::fail(util::ErrorKind::not_found, "no log for " + node_id);
  }
  util::Result<void> terminate_run(const std::string& id) override {
    writes.push_back("terminate_run " + id);
    for (auto& run : runs)
      if (run.id == id) run.state = "CANCELED";
    return {};
  }
  util::Result<void> archive_run(const std::string& id) override {
    writes.push_back("archive_run " + id);
    return {};
  }
  // created_at as the server stamps it: whole seconds of the (fake) clock.
  std::string stamp() const {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
        (clock != nullptr ? clock->now() : http::Clock::TimePoint{}).time_since_epoch());
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z",
                       std::chrono::sys_seconds(seconds + std::chrono::hours(24 * 365 * 50)));
  }
  [[nodiscard]] std::string run_url(const std::string& id) const override {
    return "http://ui/#/runs/details/" + id;
  }

  api::ServerInfo info_;
  std::vector<api::Pipeline> pipelines;
  std::vector<api::PipelineVersion> versions;
  std::vector<api::Experiment> experiments;
  std::vector<api::Run> runs;
  // Called after each create_run: another process acting at the same time.
  std::function<void(const api::Run& created)> on_create_run;
  const http::Clock* clock = nullptr;
  // Look-ups miss every version (not committed yet, as another invocation's plan saw it).
  bool hide_versions = false;
  // Runs the server stamped but had not committed yet: listed only from this time on.
  std::map<std::string, http::Clock::TimePoint> visible_at;
  std::vector<std::optional<util::Milliseconds>> polled_within;
  std::vector<http::Clock::TimePoint> polled_at;
  std::vector<std::optional<util::Milliseconds>> listed_within;
  // Each listing of a run key's runs: the marker, and when (on the fake clock).
  std::vector<std::pair<std::string, http::Clock::TimePoint>> listings;
  std::deque<std::string> states;
  // When set, answers get_run instead of `states` (failures, time passing).
  std::function<util::Result<api::Run>(const std::string&)> get_run_hook;
  // Answers get_run_workflow (default: no workflow) and read_task_log (default: 404), counted.
  std::function<util::Result<std::optional<api::RunTasks>>(const std::string&)> get_run_workflow_hook;
  std::function<util::Result<api::TaskLog>(const std::string& node_id)> read_log_hook;
  int workflow_reads = 0;
  std::vector<std::pair<std::string, std::size_t>> log_reads;
  std::vector<std::optional<util::Milliseconds>> log_read_within;
  std::vector<std::string> writes;
  boost::json::object last_parameters;
};

inline package::Package make_package(std::string document) {
  package::Package pkg;
  pkg.source = "pipeline.yaml";
  pkg.member = "pipeline.yaml";  // in memory: no file is read by the fake
  pkg.upload_filename = "pipeline.yaml";
  pkg.document = std::move(document);
  pkg.digest =
      "sha256:" + std::string(pkg.document.size() % 2 ? 64 : 64, pkg.document.size() % 2 ? 'a' : 'b');
  pkg.pipeline_name = "hello";
  package::InputParameter message;
  message.name = "message";
  message.type = package::ParameterType::string;
  pkg.inputs.push_back(message);
  return pkg;
}

}  // namespace kfp::test
