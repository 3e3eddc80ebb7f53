#include "apply/applier.hpp"

#include "publish/flows.hpp"
#include "publish/limits.hpp"
#include "publish/provenance.hpp"
#include "report/report.hpp"
#include "util/digest.hpp"
#include "util/interrupt.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <thread>

namespace kfp::apply {

namespace {

constexpr const char* managed_description = "Managed by kfp-publish apply.";

template <class T>
T take(util::Result<T> result) {
  if (!result) throw util::Error(result.error());
  return std::move(*result);
}

void take(const util::Result<void>& result) {
  if (!result) throw util::Error(result.error());
}

// A run created by the first pass over the runs, checked and followed by the second.
struct StartedRun {
  std::size_t result = 0;  // its index in the results
  std::unique_ptr<publish::Flows> flows;
  publish::Flows::StartedRun run;
  report::Report report;
};

// What the run's report says about it, in its result.
void record_run(ObjectResult& result, const report::Report& report) {
  if (!report.run) return;
  result.action = report.run->created.value_or(false) ? Action::create : Action::unchanged;
  result.id = report.run->id;
  result.detail = report.run->state;
  result.run = report::to_json(*report.run);
}

struct PipelineState {
  bool failed = false;
  std::optional<publish::PublishPlan> plan;
  std::optional<publish::Published> published;
};

class Applier {
 public:
  Applier(const ApplyFile& file, std::string ns, const ApplyOptions& options, const util::Environment& env,
          util::Log& log)
      : file_(file), ns_(std::move(ns)), options_(options), env_(env), log_(log) {}

  std::vector<ObjectResult> run(Lane& first, const LaneFactory& more_lanes) {
    std::vector<Lane*> lanes{&first};
    std::vector<std::unique_ptr<Lane>> owned;
    const auto wanted = std::min<std::size_t>(static_cast<std::size_t>(std::max(options_.parallel, 1)),
                                              file_.pipelines.size());
    while (lanes.size() < wanted) {
      owned.push_back(more_lanes());
      lanes.push_back(owned.back().get());
    }
    take(check_server_reads(first));
    std::vector<ObjectResult> results;
    for (const auto& entry : file_.experiments) results.push_back(experiment(first, entry));
    auto pipelines = publish_all(lanes);
    results.insert(results.end(), pipelines.begin(), pipelines.end());
    // Every run is started first and checked after: the settle window of the exactly-once check
    // (publish/flows.hpp) is paid once for the file, not once per run.
    std::vector<StartedRun> started;
    for (const auto& entry : file_.runs) results.push_back(start_run(first, entry, results.size(), started));
    for (auto& run : started) finish_run(run, results[run.result]);
    for (const auto& entry : file_.recurring_runs) results.push_back(schedule(first, entry));
    return results;
  }

 private:
  [[nodiscard]] bool planning() const { return options_.mode == Mode::plan; }

  // Every package this server cannot read (a PipelineSpec in YAML on KFP 1.8, which reads one only
  // as JSON: kfp-1.8.5 template/template.go:106-110) is refused before any write, as the file's other
  // problems are, rather than after the experiments were made.
  util::Result<void> check_server_reads(Lane& lane) {
    publish::Flows flows(lane.api(), ns_, env_, log_, lane.clock());
    std::vector<std::string> problems;
    std::optional<util::Failure> first_problem;
    for (const auto& entry : file_.pipelines) {
      try {
        flows.check_server_reads(entry.package);
      } catch (const util::Error& e) {
        if (!first_problem) first_problem = e.failure();
        problems.push_back(
            fmt::format("{}: pipeline '{}': {}", entry.where.str(), entry.name, e.failure().message));
      }
    }
    if (!first_problem) return {};
    std::string message = fmt::format("{} package{} the KFP server cannot read:", problems.size(),
                                      problems.size() == 1 ? "" : "s");
    for (const auto& problem : problems) message += "\n  " + problem;
    return util::fail(first_problem->kind, std::move(message), first_problem->hint);
  }

  ObjectResult begin(ObjectKind kind, const std::string& name) const {
    ObjectResult result;
    result.kind = kind;
    result.name = name;
    result.outcome = planning() ? ObjectOutcome::planned : ObjectOutcome::done;
    return result;
  }

  // Runs `work` unless a signal came first, recording a thrown failure in `result`.
  template <class Work>
  void guarded(ObjectResult& result, Work&& work) {
    recorded(result, [&] {
      if (util::interrupted())
        throw util::Error(util::ErrorKind::interrupted, "interrupted before it was applied");
      work();
    });
  }

  // Runs `work`, recording a thrown failure in `result` instead of letting it end the command.
  template <class Work>
  void recorded(ObjectResult& result, Work&& work) {
    try {
      work();
    } catch (const util::Error& e) {
      result.outcome = ObjectOutcome::failed;
      result.error = e.failure();
    } catch (const std::exception& e) {
      result.outcome = ObjectOutcome::failed;
      result.error = util::fail(util::ErrorKind::internal, fmt::format("internal error: {}", e.what()),
                                "this is a bug in kfp-publish; please report it");
    }
    if (result.error) {
      log_.error("{} {}: {}", to_string(result.kind), result.name, result.error->message);
    } else if (result.action) {
      log_.info("{} {}: {}{}", to_string(result.kind), result.name, to_string(*result.action),
                planning() ? " (planned)" : "");
    }
  }

  static void skip(ObjectResult& result, std::string why) {
    result.outcome = ObjectOutcome::skipped;
    result.detail = std::move(why);
  }

  ObjectResult experiment(Lane& lane, const ExperimentEntry& entry) {
    auto result = begin(ObjectKind::experiment, entry.name);
    guarded(result, [&] {
      auto found = take(lane.api().find_experiment(entry.name, ns_));
      if (found) {
        result.action = Action::unchanged;
        result.id = found->id;
        experiments_[entry.name] = *found;
        return;
      }
      result.action = Action::create;
      take(publish::check_name(fmt::format("the experiment name '{}'", entry.name), entry.name,
                               publish::limits_for(lane.api().server().version).experiment_name));
      if (planning()) return;
      auto created = take(lane.api().create_described_experiment(entry.name, entry.description, ns_));
      if (created.found_existing) {
        // Made meanwhile by another process, or by this create before its answer was lost: not
        // claimed as this apply's change.
        result.action = Action::unchanged;
        result.detail = "created meanwhile";
      }
      result.id = created.id;
      experiments_[entry.name] = created;
    });
    if (result.error) failed_experiments_.push_back(entry.name);
    return result;
  }

  ObjectResult publish_one(Lane& lane, const PipelineEntry& entry, PipelineState& state) {
    auto result = begin(ObjectKind::pipeline, entry.name);
    guarded(result, [&] {
      publish::Flows flows(lane.api(), ns_, env_, log_, lane.clock());
      const publish::PublishRequest request{entry.name, entry.version,  entry.description, entry.tags,
                                            {},         scope_of(entry)};
      if (planning()) {
        auto plan = flows.plan_publish(entry.package, request);
        if (plan.pipeline) result.id = plan.pipeline->id;
        switch (plan.action) {
          case publish::PublishAction::create: result.action = Action::create; break;
          case publish::PublishAction::new_version: result.action = Action::new_version; break;
          case publish::PublishAction::unchanged:
            result.action = Action::unchanged;
            result.detail = plan.version->name;
            break;
          case publish::PublishAction::conflict:
            throw util::Error(
                util::ErrorKind::conflict,
                fmt::format("version {} exists with other content (this package is {})", *entry.version,
                            entry.package.digest),
                "versions are immutable: choose a new version, or omit it to name the version by its "
                "content");
        }
        state.plan = std::move(plan);
        return;
      }
      report::Report scratch;
      auto published = flows.publish(entry.package, request, scratch);
      result.action = scratch.outcome == report::Outcome::created   ? Action::create
                      : scratch.outcome == report::Outcome::updated ? Action::new_version
                                                                    : Action::unchanged;
      result.id = published.pipeline.id;
      result.detail = published.version.name;
      state.published = std::move(published);
    });
    state.failed = result.error.has_value();
    return result;
  }

  std::vector<ObjectResult> publish_all(const std::vector<Lane*>& lanes) {
    const auto count = file_.pipelines.size();
    std::vector<ObjectResult> results(count);
    pipelines_.assign(count, PipelineState{});
    std::atomic<std::size_t> next{0};
    auto worker = [&](Lane& lane) {
      for (std::size_t i = next++; i < count; i = next++) {
        results[i] = publish_one(lane, file_.pipelines[i], pipelines_[i]);
      }
    };
    if (lanes.size() <= 1) {
      worker(*lanes.front());
    } else {
      std::vector<std::jthread> threads;
      threads.reserve(lanes.size());
      for (auto* lane : lanes) threads.emplace_back([&worker, lane] { worker(*lane); });
    }
    return results;
  }

  const PipelineState& pipeline_state(const std::string& name) const {
    for (std::size_t i = 0; i < file_.pipelines.size(); ++i) {
      if (file_.pipelines[i].name == name) return pipelines_[i];
    }
    throw util::Error(util::ErrorKind::internal, fmt::format("pipeline {} is not in the file", name));
  }

  // Why an object that needs `pipeline` and `experiment` cannot go on, if it cannot.
  std::optional<std::string> blocked(const std::string& pipeline, const std::string& experiment) const {
    if (pipeline_state(pipeline).failed) return fmt::format("pipeline {} failed", pipeline);
    if (std::find(failed_experiments_.begin(), failed_experiments_.end(), experiment) !=
        failed_experiments_.end()) {
      return fmt::format("experiment {} failed", experiment);
    }
    return std::nullopt;
  }

  const api::Experiment* known_experiment(const std::string& name) const {
    auto it = experiments_.find(name);
    return it == experiments_.end() ? nullptr : &it->second;
  }

  publish::PipelineScope scope_of(const PipelineEntry& entry) const {
    if (!entry.shared) return options_.pipeline_scope;
    return *entry.shared ? publish::PipelineScope::shared : publish::PipelineScope::namespaced;
  }

  // Creates the run once (or finds it) and adds it to `started`; finish_run() checks and follows it.
  ObjectResult start_run(Lane& lane, const RunEntry& entry, std::size_t index,
                         std::vector<StartedRun>& started) {
    auto result = begin(ObjectKind::run, entry.name);
    if (auto why = blocked(entry.pipeline, entry.experiment)) {
      skip(result, *why);
      return result;
    }
    const std::string key = run_key_for(entry, env_);
    guarded(result, [&] {
      if (planning()) {
        const auto* experiment = known_experiment(entry.experiment);
        if (experiment == nullptr) {
          result.action = Action::create;
          return;
        }
        auto found = take(lane.api().find_run(experiment->id, ns_,
                                              publish::run_marker(key, entry.pipeline, entry.experiment)));
        result.action = found ? Action::unchanged : Action::create;
        if (found) result.id = found->id;
        return;
      }
      publish::RunRequest request;
      request.pipeline = entry.pipeline;
      request.version = entry.version;
      request.experiment = entry.experiment;
      request.parameters.assignments = entry.parameters;
      request.run_name = entry.name;
      request.wait = entry.wait;
      request.wait_timeout = entry.wait_timeout;
      request.run_key = key;
      const auto* pipeline = file_.pipeline(entry.pipeline);
      if (pipeline != nullptr) request.pipeline_scope = scope_of(*pipeline);
      const auto& state = pipeline_state(entry.pipeline);
      const publish::Published* published = entry.version || !state.published ? nullptr : &*state.published;
      // Each run its own Flows: its own attempt marker, by which a lost create is found again.
      StartedRun run;
      run.result = index;
      run.flows = std::make_unique<publish::Flows>(lane.api(), ns_, env_, log_, lane.clock());
      try {
        run.run = run.flows->start_run(request, run.report, published);
      } catch (...) {
        record_run(result, run.report);
        throw;
      }
      // The action is said once the run is checked (finish_run): it may yet lose to an older one.
      started.push_back(std::move(run));
    });
    return result;
  }

  // Waits until the run's key is due, keeps the oldest run of the key, and follows it if asked.
  void finish_run(StartedRun& run, ObjectResult& result) {
    recorded(result, [&] {
      try {
        run.flows->finish_run(run.run, run.report);
      } catch (...) {
        // A run that started and then failed while waited for still counts as created.
        record_run(result, run.report);
        throw;
      }
      record_run(result, run.report);
    });
  }

  // The pipeline and version a recurring run should use; empty ids when only applying would tell.
  std::pair<std::string, std::string> target(Lane& lane, const RecurringRunEntry& entry) {
    const auto& state = pipeline_state(entry.pipeline);
    std::string pipeline_id;
    if (state.published) pipeline_id = state.published->pipeline.id;
    if (state.plan && state.plan->pipeline) pipeline_id = state.plan->pipeline->id;
    if (pipeline_id.empty()) return {};
    if (entry.version) {
      auto found = take(lane.api().find_version_by_name(pipeline_id, *entry.version));
      if (!found) {
        if (planning()) return {pipeline_id, {}};
        throw util::Error(util::ErrorKind::not_found,
                          fmt::format("pipeline {} has no version {}", entry.pipeline, *entry.version));
      }
      return {pipeline_id, found->id};
    }
    if (state.published) return {pipeline_id, state.published->version.id};
    if (state.plan->action == publish::PublishAction::unchanged)
      return {pipeline_id, state.plan->version->id};
    return {pipeline_id, {}};
  }

  ObjectResult schedule(Lane& lane, const RecurringRunEntry& entry) {
    auto result = begin(ObjectKind::recurring_run, entry.name);
    if (auto why = blocked(entry.pipeline, entry.experiment)) {
      skip(result, *why);
      return result;
    }
    guarded(result, [&] {
      api::RecurringRun desired;
      desired.name = entry.name;
      if (const auto* experiment = known_experiment(entry.experiment)) desired.experiment_id = experiment->id;
      std::tie(desired.pipeline_id, desired.version_id) = target(lane, entry);
      desired.parameters = entry.parameters;
      desired.cron = entry.cron;
      desired.interval_seconds = entry.interval_seconds;
      desired.max_concurrency = entry.max_concurrency;
      desired.enabled = entry.enabled;
      const bool known = !desired.experiment_id.empty() && !desired.version_id.empty();
      const std::string digest = recurring_spec_digest(desired);
      desired.description = fmt::format("{} spec {}", managed_description, digest);

      auto existing = take(lane.api().find_recurring_run(entry.name, ns_));
      if (!existing) {
        result.action = Action::create;
      } else if (known && existing->description.find(digest) != std::string::npos) {
        result.action = existing->enabled == entry.enabled ? Action::unchanged : Action::update;
        result.id = existing->id;
        if (result.action == Action::update) result.detail = entry.enabled ? "enable" : "disable";
      } else {
        result.action = Action::replace;
        result.id = existing->id;
      }
      if (result.action != Action::update && result.action != Action::unchanged) {
        result.detail = entry.interval_seconds ? fmt::format("every {}s", *entry.interval_seconds)
                                               : fmt::format("cron {}", entry.cron);
      }
      if (planning() || result.action == Action::unchanged) return;
      if (result.action == Action::update) {
        take(lane.api().set_recurring_run_schedule(
            existing->id, entry.enabled ? api::KfpApi::Schedule::enabled : api::KfpApi::Schedule::disabled));
        return;
      }
      if (!known) {
        throw util::Error(
            util::ErrorKind::internal,
            fmt::format("the experiment or version of recurring run {} is unknown", entry.name));
      }
      if (result.action == Action::replace) take(lane.api().delete_recurring_run(existing->id));
      result.id = take(lane.api().create_recurring_run(desired, ns_)).id;
    });
    return result;
  }

  const ApplyFile& file_;
  std::string ns_;
  ApplyOptions options_;
  const util::Environment& env_;
  SynchronizedLog log_;
  std::map<std::string, api::Experiment> experiments_;
  std::vector<std::string> failed_experiments_;
  std::vector<PipelineState> pipelines_;
};

}  // namespace

void SynchronizedLog::write(util::LogLevel level, std::string_view message) {
  std::lock_guard lock(mutex_);
  inner_.write(level, message);
}

void SynchronizedLog::progress(std::string_view message) {
  std::lock_guard lock(mutex_);
  inner_.progress(message);
}

util::Result<void> check_limits(const ApplyFile& file) {
  std::vector<std::string> problems;
  auto check = [&](const Location& where, auto&& work) {
    try {
      work();
    } catch (const util::Error& e) {
      problems.push_back(fmt::format("{}: {}", where.str(), e.failure().message));
    }
  };
  auto require = [](const util::Result<void>& result) {
    if (!result) throw util::Error(result.error());
  };
  for (const auto& entry : file.pipelines) {
    check(entry.where, [&] {
      publish::check_publish_request({entry.name, entry.version, entry.description, entry.tags, {}});
    });
  }
  for (const auto& entry : file.experiments) {
    check(entry.where, [&] {
      require(publish::check_name(fmt::format("the experiment name '{}'", entry.name), entry.name,
                                  publish::limits_of_every_release().experiment_name));
      require(publish::check_length("the description", entry.description,
                                    publish::limits::experiment_description));
    });
  }
  for (const auto& entry : file.runs) {
    check(entry.where, [&] {
      publish::RunRequest request;
      request.pipeline = entry.pipeline;
      request.version = entry.version;
      request.experiment = entry.experiment;
      request.run_name = entry.name;
      request.run_key = entry.run_key;
      publish::check_run_request(request, nullptr);
      require(publish::check_name("the run name", entry.name, publish::limits::run_name));
    });
  }
  for (const auto& entry : file.recurring_runs) {
    check(entry.where, [&] {
      require(publish::check_name(fmt::format("the recurring run name '{}'", entry.name), entry.name,
                                  publish::limits::recurring_run_name));
      require(publish::check_length("the cron schedule", entry.cron, publish::limits::recurring_run_cron));
    });
  }
  if (problems.empty()) return {};
  std::string message = fmt::format("{} value{} the KFP server would refuse:", problems.size(),
                                    problems.size() == 1 ? "" : "s");
  for (const auto& problem : problems) message += "\n  " + problem;
  return util::fail(util::ErrorKind::usage, std::move(message),
                    "shorten them: the server would refuse them, or fail a create half-way with HTTP 500");
}

std::vector<ObjectResult> apply_file(const ApplyFile& file, const std::string& ns, Lane& first,
                                     const LaneFactory& more_lanes, const ApplyOptions& options,
                                     const util::Environment& env, util::Log& log) {
  take(check_limits(file));
  Applier applier(file, ns, options, env, log);
  return applier.run(first, more_lanes);
}

std::string run_key_for(const RunEntry& entry, const util::Environment& env) {
  if (entry.run_key) return *entry.run_key;
  if (auto ci = publish::ci_run_key(env)) return fmt::format("apply:{}:{}", entry.name, *ci);
  return fmt::format("apply:{}", entry.name);
}

std::string recurring_spec_digest(const api::RecurringRun& desired) {
  boost::json::object spec{{"name", desired.name},
                           {"experiment_id", desired.experiment_id},
                           {"pipeline_id", desired.pipeline_id},
                           {"version_id", desired.version_id},
                           {"parameters", desired.parameters},
                           {"cron", desired.cron},
                           {"max_concurrency", desired.max_concurrency},
                           {"service_account", desired.service_account}};
  if (desired.interval_seconds) spec["interval_seconds"] = *desired.interval_seconds;
  // boost::json::object keeps insertion order, so the serialisation is stable.
  return util::sha256_digest(boost::json::serialize(spec));
}

}  // namespace kfp::apply
