#pragma once
// The CI flows over the typed API: publish a package as a content-addressed version, and start a
// run exactly once and follow it. They fill the report as they go and throw util::Error.

#include "api/kfp_api.hpp"
#include "http/retry.hpp"
#include "package/package.hpp"
#include "publish/parameters.hpp"
#include "publish/provenance.hpp"
#include "publish/tasks.hpp"
#include "report/report.hpp"
#include "util/duration.hpp"
#include "util/environment.hpp"
#include "util/log.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kfp::publish {

// Where a pipeline lives: in the namespace in use, or shared (no namespace: every user of the
// cluster can read it and run it in their own namespace). Runs and experiments always stay in the
// namespace. KFP 1.8's upload endpoints authorize only from the kubeflow-userid header but skip the
// check for a shared pipeline (kfp-1.8.5 server/pipeline_upload_server.go:224-227), so there a
// service-account token can publish only shared pipelines.
enum class PipelineScope { namespaced, shared };

struct PublishRequest {
  std::string pipeline;
  std::optional<std::string> version;  // else derived from the digest
  std::string description;
  std::vector<std::pair<std::string, std::string>> tags;
  // Recorded in the version description (else derived from the CI's variables), without credentials.
  std::string code_source_url;
  PipelineScope scope = PipelineScope::namespaced;
};

enum class OnTimeout { keep_running, cancel };
enum class OnInterrupt { keep_running, cancel };

// How a wait rides out a server that stops answering (an API server restart, a UI proxy's 504s):
// failing status checks are retried until they have failed for this long without one success.
// An API server pod restarts in well under a minute (its readiness probe, manifests
// ml-pipeline deployment); five minutes also covers a rescheduled pod pulling its image.
inline constexpr util::Milliseconds default_status_failure_budget{5 * 60 * 1000};
// A wait prints a line at least this often (stderr; -q silences it), so CI logs never look dead.
inline constexpr util::Milliseconds heartbeat_interval{25'000};

struct RunRequest {
  std::string pipeline;
  std::optional<std::string> version;  // else the version just published, else the latest
  std::string experiment;
  ParameterInput parameters;
  std::string run_name;  // else derived
  std::string service_account;
  std::string pipeline_root;
  bool wait = false;
  std::optional<util::Milliseconds> wait_timeout;
  OnTimeout on_timeout = OnTimeout::keep_running;
  OnInterrupt on_interrupt = OnInterrupt::keep_running;
  std::optional<std::string> run_key;  // else the CI's identity, else one for this invocation
  util::Milliseconds status_failure_budget = default_status_failure_budget;
  PipelineScope pipeline_scope = PipelineScope::namespaced;  // where to look the pipeline up
  // How many lines of each failed task's log a wait that ends FAILED or CANCELED reads (0: none);
  // unset: KFP_FAILURE_LOG_LINES, else default_failure_log_lines.
  std::optional<std::size_t> failure_log_lines;
};

inline constexpr std::size_t default_failure_log_lines = 50;
// The most lines --failure-log-lines takes: a tail is for reading in a CI log.
inline constexpr std::size_t max_failure_log_lines = 10'000;
// The most failed tasks whose logs one wait reads (a wide loop failing everywhere); the others say so.
inline constexpr std::size_t max_failed_task_logs = 10;

// What publish found or made, for a following run.
struct Published {
  api::Pipeline pipeline;
  api::PipelineVersion version;
  std::vector<package::InputParameter> inputs;
};

// What publish() would do with a package, decided by reads alone.
enum class PublishAction { create, new_version, unchanged, conflict };

struct PublishPlan {
  PublishAction action = PublishAction::create;  // create: the pipeline does not exist yet
  std::optional<api::Pipeline> pipeline;         // when it exists
  std::optional<api::PipelineVersion>
      version;  // holding this content (unchanged), or the named one (conflict)
};

// The version name used when --version is not given: from the content digest.
[[nodiscard]] std::string derived_version_name(const std::string& digest);

// Checks what needs no server, before any request: names and values against the limits every
// KFP release shares (publish/limits.hpp), the tags, and, when `declared` is given (publish
// --run), the run's parameters against the package's inputs. Throws util::Error: kind usage
// (exit 2) for names and values, invalid_parameters (exit 3) for parameters.
void check_publish_request(const PublishRequest& request);
void check_run_request(const RunRequest& request, const std::vector<package::InputParameter>* declared);

// The run's description: the run-key marker and this invocation's `attempt` marker always whole,
// then as much of the provenance as the server stores (VARCHAR(255) on every release).
[[nodiscard]] std::string run_description(const std::string& marker, const std::string& attempt,
                                          const Provenance& provenance);

// Whether the parameters a run was given (as the server answers them: numbers as doubles, on v1
// every value a string) are `ours`.
[[nodiscard]] bool same_parameters(const boost::json::object& ours, const boost::json::object& theirs);

// How long after the server stamps a run's created_at the run may take to appear in listings
// (KFP_RUN_SETTLE_WINDOW overrides it): the assumption the exactly-once guarantee rests on.
inline constexpr util::Milliseconds default_settle_window{5000};

class Flows {
 public:
  Flows(api::KfpApi& api, std::string namespace_name, const util::Environment& env, util::Log& log,
        http::Clock& clock);

  // Upserts the pipeline and its content-addressed version. Outcome created/updated/unchanged.
  Published publish(const package::Package& package, const PublishRequest& request, report::Report& report);

  // Throws util::Error (invalid_package) when the server's release cannot read the package (a
  // PipelineSpec in YAML on KFP 1.8): publish() checks it before any write; apply for every package.
  void check_server_reads(const package::Package& package) const;

  // Decides what publish() would do without changing anything (apply --plan). Throws util::Error.
  PublishPlan plan_publish(const package::Package& package, const PublishRequest& request);

  // Checks parameters, gets or creates the experiment, creates the run once, and waits if asked:
  // start_run() then finish_run().
  void run(const RunRequest& request, report::Report& report, const Published* published = nullptr);

  // Exactly once under concurrency: processes started together with one run key may each find no
  // run and create one. Every run's description carries the key's marker and the creating
  // invocation's attempt marker; once all runs created up to ours are visible (`due`), the oldest
  // (created_at, then id: the server's order) wins, each invocation terminates and archives the
  // runs it created that lost, and all follow the winner.
  struct Contest {
    std::string experiment_id;
    std::string marker;   // the run key's
    std::string attempt;  // this invocation's
    boost::json::object parameters;
    http::Clock::TimePoint due;
    bool decided = false;
    bool outcome_is_run = false;  // report.outcome is the run's (the run command)
  };
  // A run created (or found) for its run key, whose oldest-wins check is still to come.
  struct StartedRun {
    RunRequest request;
    api::Run run;
    Contest contest;
  };
  // The first half of run(): everything is checked, the experiment found or created, the run
  // created once (or found) and reported. Throws util::Error.
  StartedRun start_run(const RunRequest& request, report::Report& report,
                       const Published* published = nullptr);
  // The second half, with the same report: at contest.due, keeps the oldest run of the key and ends
  // this invocation's others; with request.wait, during the wait for the run. Several runs started
  // first and finished after pay the settle window once, with the same guarantee: each is checked
  // no earlier than its own due time. Throws util::Error.
  void finish_run(StartedRun& started, report::Report& report);

 private:
  // The namespace a pipeline of this scope lives in: "" for shared ones.
  [[nodiscard]] std::string pipeline_namespace(PipelineScope scope) const;
  // The limits of the server's release (healthz named it): checked before any write.
  void check_server_limits(const PublishRequest& request) const;
  std::pair<PublishAction, std::optional<api::PipelineVersion>> same_content(const std::string& pipeline_id,
                                                                             const package::Package& package,
                                                                             const PublishRequest& request);
  // Lists the key's runs, ends this invocation's losers and reports the winner, which it returns.
  util::Result<api::Run> settle(Contest& contest, report::Report& report,
                                std::optional<util::Milliseconds> within);
  // settle() at `due`, riding out failing listings for `budget`; the winner. Throws util::Error.
  api::Run settle_patiently(Contest& contest, report::Report& report, util::Milliseconds budget);
  void follow(const api::Run& run, const Contest& contest, report::Report& report) const;
  void check_same_parameters(const api::Run& run, const boost::json::object& parameters) const;
  void wait_for(const RunRequest& request, api::Run run, report::Report& report, Contest& contest);
  // The run's state (or, when the contest is due, the winner's), or the failure of a status check
  // that may pass if tried again later; over within `within`.
  util::Result<api::Run> poll(const std::string& run_id, Contest& contest, report::Report& report,
                              util::Milliseconds within);
  void cancel(const std::string& run_id, std::string_view why);
  // What is known of the run's tasks (see flows.cpp TaskWatch).
  struct TaskWatch;
  void watch_tasks(const api::Run& run, TaskWatch& watch, report::Report& report,
                   std::optional<util::Milliseconds> within);
  // On a run that ended FAILED or CANCELED: the failed tasks with their logs' tails, and the graph.
  void report_failed_tasks(const api::Run& run, const TaskWatch& watch, std::size_t log_lines,
                           report::Report& report);
  [[nodiscard]] std::size_t failure_log_lines(const RunRequest& request) const;

  api::KfpApi& api_;
  std::string namespace_;
  const util::Environment& env_;
  util::Log& log_;
  http::Clock& clock_;
  std::string attempt_;  // "kfp-publish-attempt:<random>", in what this invocation creates
};

}  // namespace kfp::publish
