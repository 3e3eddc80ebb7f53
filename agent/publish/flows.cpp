#include "publish/flows.hpp"

#include "http/url.hpp"
#include "publish/limits.hpp"
#include "publish/provenance.hpp"
#include "util/duration.hpp"
#include "util/interrupt.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <random>
#include <set>
#include <tuple>

namespace kfp::publish {

namespace {

constexpr std::size_t max_description_chars = 1000;
constexpr util::Milliseconds first_poll{1000};
constexpr util::Milliseconds max_poll{10'000};
// After a failed status check the next comes sooner than a regular poll would, then backs off.
constexpr util::Milliseconds first_failure_pause{2000};
constexpr util::Milliseconds max_failure_pause{15'000};
// A status check is given at least this long before the next heartbeat, which is said early instead.
constexpr util::Milliseconds min_poll_time{5000};
// The most one failed task's log may take to read, retries included: the run's end is known, a log
// that trickles must not hold the CI job (a 200 MiB log streams in seconds).
constexpr util::Milliseconds failed_task_log_time{60'000};
// How often a terminal's status line is redrawn while waiting (its elapsed time).
constexpr util::Milliseconds live_redraw_interval{1000};
// The server stamps created_at in whole seconds (CreatedAtInSec, kfp-2.3.0 model/run.go:304).
constexpr util::Milliseconds created_at_resolution{1000};

[[noreturn]] void raise(util::ErrorKind kind, std::string message, std::string hint = {}) {
  throw util::Error(kind, std::move(message), std::move(hint));
}

template <class T>
T take(util::Result<T> result) {
  if (!result) throw util::Error(result.error());
  return std::move(*result);
}

void take(const util::Result<void>& result) {
  if (!result) throw util::Error(result.error());
}

report::ObjectInfo object_info(std::string id, std::string name, bool created) {
  report::ObjectInfo info;
  info.id = std::move(id);
  info.name = std::move(name);
  info.created = created;
  return info;
}

// Does this version hold the content with `digest`? Tags where the server has them, else the
// description (where kfp-publish always records the digest).
bool has_digest(const api::PipelineVersion& version, const std::string& digest) {
  if (auto it = version.tags.find(api::digest_tag_key); it != version.tags.end()) {
    return it->second == api::digest_tag_value(digest);
  }
  return version.description.find(digest) != std::string::npos;
}

std::string random_key() {
  std::mt19937_64 random(std::random_device{}());
  return fmt::format("invocation:{:016x}{:016x}", random(), random());
}

std::string short_digest(const std::string& digest) {
  return digest.substr(7, 12);
}

std::string shown(std::string_view value) {
  return fmt::format("'{}'", fit(std::string(value), 80));
}

// A status check that failed in a way a later one may not: no answer, or the server (or a proxy
// in front of it) answering 5xx or 429. Authentication, permission and not-found are answers.
bool transient(const util::Failure& failure) {
  if (failure.kind == util::ErrorKind::network) return true;
  if (failure.kind != util::ErrorKind::server || !failure.http_status) return false;
  return *failure.http_status >= 500 || *failure.http_status == 429;
}

bool is_final(const std::string& state) {
  return state == "SUCCEEDED" || state == "SKIPPED" || state == "FAILED" || state == "CANCELED" ||
         state == "PAUSED";
}

// The run key's runs as the server orders them; unreadable values compare as they come.
bool same_value(const boost::json::value& ours, const boost::json::value& theirs) {
  if (ours.is_number() && theirs.is_number()) return ours.to_number<double>() == theirs.to_number<double>();
  // v1 answers every value as a string: ours as it was sent (strings as they are, the rest as JSON).
  if (theirs.is_string() && !ours.is_string()) {
    boost::system::error_code error;
    const auto parsed = boost::json::parse(theirs.get_string(), error);
    return !error && same_value(ours, parsed);
  }
  if (ours.is_array() && theirs.is_array()) {
    const auto& a = ours.get_array();
    const auto& b = theirs.get_array();
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_value(a[i], b[i])) return false;
    return true;
  }
  if (ours.is_object() && theirs.is_object()) {
    const auto& a = ours.get_object();
    const auto& b = theirs.get_object();
    if (a.size() != b.size()) return false;
    for (const auto& [key, value] : a) {
      auto it = b.find(key);
      if (it == b.end() || !same_value(value, it->value())) return false;
    }
    return true;
  }
  return ours == theirs;
}

std::string seconds_text(util::Milliseconds duration) {
  return util::format_duration(std::chrono::duration_cast<std::chrono::seconds>(duration));
}

std::string attempt_marker() {
  std::mt19937_64 random(std::random_device{}());
  return fmt::format("kfp-publish-attempt:{:016x}", random());
}

// How long a run the server has stamped may take to show in listings: the workflow's creation in
// Kubernetes and one INSERT (kfp-2.3.0 resource/resource_manager.go:498-563). KFP_RUN_SETTLE_WINDOW
// overrides it (0s against a server that commits at once, such as the emulator).
util::Milliseconds settle_window(const util::Environment& env) {
  if (auto text = env.get("KFP_RUN_SETTLE_WINDOW")) {
    if (auto parsed = util::parse_duration(*text)) return *parsed;
    raise(util::ErrorKind::usage, fmt::format("KFP_RUN_SETTLE_WINDOW={}: not a duration such as 5s", *text));
  }
  return default_settle_window;
}

// A new shared pipeline refused: from KFP 2.17 its create is authorized as pipelines/create in KFP's
// own namespace, not the caller's (kfp-2.17.0 server/pipeline_server.go:1290-1305 canAccessPipeline;
// 2.15.0 :1095-1098 and 2.3.0 :1030-1033 authorize nobody for shared pipelines).
util::Failure shared_create_refused(util::Failure failure) {
  failure.hint =
      "a new shared pipeline needs pipelines/create in the namespace KFP runs in (kubeflow) on KFP 2.17+, "
      "which a profile's service account does not have: ask a Kubeflow admin to create the pipeline once "
      "(or to grant that right), or publish into the namespace without --shared-pipeline";
  return failure;
}

}  // namespace

bool same_parameters(const boost::json::object& ours, const boost::json::object& theirs) {
  return same_value(boost::json::value(ours), boost::json::value(theirs));
}

std::string derived_version_name(const std::string& digest) {
  return "sha256-" + short_digest(digest);
}

namespace {

// The pipeline and (when given) version names against one release's limits.
void check_pipeline_names(const std::string& pipeline, const std::optional<std::string>& version,
                          const ServerLimits& server) {
  take(check_name(fmt::format("the pipeline name {}", shown(pipeline)), pipeline, server.pipeline_name));
  if (version)
    take(check_name(fmt::format("the version name {}", shown(*version)), *version, server.version_name));
}

}  // namespace

void check_publish_request(const PublishRequest& request) {
  check_pipeline_names(request.pipeline, request.version, limits_of_every_release());
  if (const auto source = http::without_credentials(request.code_source_url).url;
      source.size() > limits::source_url_bytes) {
    raise(util::ErrorKind::usage,
          fmt::format("the code source URL is {} bytes long; kfp-publish records at most {} in the version "
                      "description",
                      source.size(), limits::source_url_bytes),
          "give a shorter URL: the description travels in the upload's URL, which the KFP UI server refuses "
          "over 16 KiB");
  }
  std::set<std::string> keys;
  for (const auto& [key, value] : request.tags) {
    const std::string what = fmt::format("tag {}={}", shown(key), shown(value));
    if (key.empty() || key.find('.') != std::string::npos) {
      raise(util::ErrorKind::usage, fmt::format("{}: tag keys are non-empty and hold no '.'", what),
            "the KFP server refuses such keys (kfp-2.17.0 model/pipeline_tags.go:42-46)");
    }
    if (key == api::digest_tag_key)
      raise(util::ErrorKind::usage, fmt::format("{}: kfp-publish sets this tag itself", what));
    take(check_length(fmt::format("the key of {}", what), key, limits::tag_key));
    take(check_length(fmt::format("the value of {}", what), value, limits::tag_value));
    keys.insert(key);
  }
  // The digest tag is always added; provenance tags only while there is room.
  if (keys.size() + 1 > limits::max_tags) {
    raise(util::ErrorKind::usage,
          fmt::format("{} tags: the KFP server stores at most {} per version and kfp-publish adds its digest "
                      "tag, so at most {} may be given",
                      keys.size(), limits::max_tags, limits::max_tags - 1),
          "kfp-2.17.0 model/pipeline_tags.go:34");
  }
}

void check_run_request(const RunRequest& request, const std::vector<package::InputParameter>* declared) {
  const ServerLimits every = limits_of_every_release();
  check_pipeline_names(request.pipeline, request.version, every);
  take(check_name(fmt::format("the experiment name {}", shown(request.experiment)), request.experiment,
                  every.experiment_name));
  take(check_length(fmt::format("the run name {}", shown(request.run_name)), request.run_name,
                    limits::run_name));
  take(check_length("the service account", request.service_account, limits::run_service_account));
  if (request.run_key && request.run_key->empty()) raise(util::ErrorKind::usage, "the run key is empty");
  if (declared != nullptr) {
    auto parameters = resolve_parameters(request.parameters, *declared);
    if (!parameters) throw util::Error(parameters.error());
  }
}

std::string run_description(const std::string& marker, const std::string& attempt,
                            const Provenance& provenance) {
  std::string description = fmt::format("Started by kfp-publish. {} {}", marker, attempt);
  // The markers are what runs are looked up by: they are never cut. The provenance is: first the
  // CI run's URL gives way to its short id, then the repository is cut.
  for (const auto& sentence : {provenance.sentence(), provenance.short_sentence()}) {
    if (sentence.empty()) return description;
    auto candidate = fmt::format("{} ({})", description, sentence);
    if (candidate.size() <= limits::run_description.max) return candidate;
  }
  std::string rest;
  if (!provenance.ci_run.empty()) rest = fmt::format("CI run {}, ", provenance.ci_run);
  rest += fmt::format("from {}@{}", provenance.repository, provenance.commit.substr(0, 12));
  const std::size_t room = limits::run_description.max - description.size() - 3;
  return fmt::format("{} ({})", description, fit(rest, room));
}

Flows::Flows(api::KfpApi& api, std::string namespace_name, const util::Environment& env, util::Log& log,
             http::Clock& clock)
    : api_(api),
      namespace_(std::move(namespace_name)),
      env_(env),
      log_(log),
      clock_(clock),
      attempt_(attempt_marker()) {}

std::string Flows::pipeline_namespace(PipelineScope scope) const {
  return scope == PipelineScope::shared ? std::string() : namespace_;
}

void Flows::check_server_limits(const PublishRequest& request) const {
  check_pipeline_names(request.pipeline, request.version, limits_for(api_.server().version));
}

void Flows::check_server_reads(const package::Package& package) const {
  const auto first = package.document.find_first_not_of(" \t\r\n");
  // A large plain file is not held in memory: the loader noted its first byte.
  const bool json_document = package.document.empty()
                                 ? package.json_document
                                 : first != std::string::npos && package.document[first] == '{';
  if (package.kind == package::Kind::pipeline_spec && !json_document &&
      !api_.server().accepts_pipeline_spec_yaml) {
    raise(util::ErrorKind::invalid_package,
          fmt::format("{} is a KFP v2 pipeline (PipelineSpec) in YAML; the server runs KFP {}, which cannot "
                      "read or run it",
                      package.source.string(), api_.server().version),
          "compile the pipeline with the kfp 1.8 SDK (an Argo Workflow), or upgrade the KFP backend to 2.x");
  }
}

std::pair<PublishAction, std::optional<api::PipelineVersion>> Flows::same_content(
    const std::string& pipeline_id, const package::Package& package, const PublishRequest& request) {
  if (request.version) {
    auto named = take(api_.find_version_by_name(pipeline_id, *request.version));
    if (!named) return {PublishAction::new_version, std::nullopt};
    return {has_digest(*named, package.digest) ? PublishAction::unchanged : PublishAction::conflict, named};
  }
  auto same = take(api_.find_version_by_digest(pipeline_id, package.digest));
  return {same ? PublishAction::unchanged : PublishAction::new_version, same};
}

PublishPlan Flows::plan_publish(const package::Package& package, const PublishRequest& request) {
  check_server_reads(package);
  PublishPlan plan;
  plan.pipeline = take(api_.find_pipeline(request.pipeline, pipeline_namespace(request.scope)));
  if (!plan.pipeline) return plan;
  std::tie(plan.action, plan.version) = same_content(plan.pipeline->id, package, request);
  return plan;
}

Published Flows::publish(const package::Package& package, const PublishRequest& request,
                         report::Report& report) {
  check_publish_request(request);
  check_server_limits(request);
  check_server_reads(package);
  const Provenance provenance = provenance_from(env_);
  std::map<std::string, std::string> tags(request.tags.begin(), request.tags.end());
  tags[api::digest_tag_key] = api::digest_tag_value(package.digest);
  for (const auto& [key, value] : provenance.tags()) {
    // The server stores at most 20 tags: the given ones and the digest come first.
    if (tags.size() < limits::max_tags) tags.emplace(key, value);
  }

  Published published;
  published.inputs = package.inputs;

  if (request.scope == PipelineScope::shared && !namespace_.empty()) {
    log_.info(
        "pipeline {} is published as a shared pipeline (no namespace): every user of the cluster can read "
        "it; its runs and experiments stay in namespace {}",
        request.pipeline, namespace_);
  }
  const PublishPlan plan = plan_publish(package, request);
  // nullopt: it was made meanwhile, by this invocation's unanswered create or by another process.
  std::optional<bool> pipeline_created = false;
  std::optional<api::PipelineVersion> same = plan.version;
  if (plan.pipeline) {
    published.pipeline = *plan.pipeline;
    log_.info("pipeline {} exists ({})", request.pipeline, plan.pipeline->id);
  } else {
    auto created =
        api_.create_pipeline(request.pipeline, request.description, pipeline_namespace(request.scope));
    if (!created && request.scope == PipelineScope::shared &&
        created.error().kind == util::ErrorKind::forbidden)
      throw util::Error(shared_create_refused(created.error()));
    published.pipeline = take(std::move(created));
    if (published.pipeline.found_existing) {
      pipeline_created = std::nullopt;
      log_.info(
          "pipeline {} ({}) was created meanwhile, by an unanswered request of this invocation or by "
          "another process",
          request.pipeline, published.pipeline.id);
    } else {
      pipeline_created = true;
      log_.info("created pipeline {} ({})", request.pipeline, published.pipeline.id);
    }
  }
  report.pipeline = object_info(published.pipeline.id, request.pipeline, false);
  report.pipeline->created = pipeline_created;

  PublishAction action = plan.action;
  // Created or found just now: another process may also have uploaded this content meanwhile.
  if (!plan.pipeline) std::tie(action, same) = same_content(published.pipeline.id, package, request);
  if (action == PublishAction::conflict) {
    report.version = object_info(same->id, same->name, false);
    raise(util::ErrorKind::conflict,
          fmt::format("version {} of pipeline {} exists with other content (this package is {})",
                      *request.version, request.pipeline, package.digest),
          "versions are immutable: choose a new --version, or omit it to name the version by its content");
  }
  if (same) {
    published.version = *same;
    report.version = object_info(same->id, same->name, false);
    report.version->digest = package.digest;
    report.outcome = pipeline_created == true ? report::Outcome::created : report::Outcome::unchanged;
    log_.info("version {} already holds {}: nothing to upload", same->name, package.digest);
    return published;
  }

  api::UploadVersion upload;
  upload.pipeline_id = published.pipeline.id;
  upload.name = request.version.value_or(derived_version_name(package.digest));
  std::string description = request.description.empty() ? "Published by kfp-publish" : request.description;
  if (auto sentence = provenance.sentence(); !sentence.empty()) description += fmt::format(" ({})", sentence);
  if (description.size() > max_description_chars) description.resize(max_description_chars);
  // The code source URL is recorded in the description, which every release stores and shows: no
  // release's upload endpoint reads a code_source_url (server/pipeline_upload_server.go, 1.8.5 to
  // 2.17.0). On v1beta1 the pipeline upload gives it to the pipeline too, beside the digest.
  // Every user of the server can read a description: credentials never go there.
  const http::PublicUrl source = http::without_credentials(
      request.code_source_url.empty() ? provenance.code_source_url : request.code_source_url);
  if (!source.removed.empty()) {
    log_.warning(
        "the code source URL carried credentials ({}): recorded without them, since every user of the "
        "KFP server can read it",
        fmt::join(source.removed, ", "));
  }
  // A given URL over the budget was refused by check_publish_request; a derived one is left out.
  if (source.url.size() > limits::source_url_bytes) {
    log_.warning("the code source URL from the CI's variables is over {} bytes: not recorded",
                 limits::source_url_bytes);
  } else if (!source.url.empty()) {
    description += fmt::format("\nsource: {}", source.url);
  }
  // The attempt marker tells this invocation's upload from another process's with the same name.
  description += fmt::format("\ndigest: {}\n{}", package.digest, attempt_);
  upload.description = std::move(description);
  upload.tags = std::move(tags);
  upload.filename = package.upload_filename;
  if (package.member.empty()) {
    const std::uint64_t size = package.document.empty() ? package.document_size : package.document.size();
    upload.content = http::BodyPiece{http::BodyPiece::FileRange{package.source, 0, size}};
  } else {
    upload.content = http::BodyPiece{package.document};
  }
  published.version = take(api_.upload_version(upload));
  bool version_created = true;
  if (published.version.found_existing) {
    // Another process may have uploaded under this name at the same time: the server keeps one
    // version per name (unique index idx_pipelineid_name, kfp-2.3.0 model/pipeline_version.go:34).
    if (!has_digest(published.version, package.digest)) {
      report.version = object_info(published.version.id, published.version.name, false);
      raise(util::ErrorKind::conflict,
            fmt::format("version {} of pipeline {} was just created by another process with other content "
                        "(this package is {})",
                        upload.name, request.pipeline, package.digest),
            "versions are immutable: choose a new --version, or omit it to name the version by its content");
    }
    version_created = published.version.description.find(attempt_) != std::string::npos;
  }
  if (published.pipeline.id.empty()) {
    // v1beta1: the pipeline is made by its first upload, which names the version after it.
    published.pipeline.id = published.version.pipeline_id;
    report.pipeline->id = published.pipeline.id;
    if (!version_created) pipeline_created = false;
    report.pipeline->created = pipeline_created;
  }
  if (published.version.id.empty()) {
    // Some servers answer an upload without the version id: find it by name.
    auto found = take(api_.find_version_by_name(published.pipeline.id, upload.name));
    if (!found)
      raise(util::ErrorKind::server, fmt::format("version {} was uploaded but cannot be found", upload.name));
    published.version = *found;
  }
  const std::string version_name = published.version.name.empty() ? upload.name : published.version.name;
  report.version = object_info(published.version.id, version_name, version_created);
  report.version->digest = package.digest;
  if (pipeline_created == true)
    report.outcome = report::Outcome::created;
  else
    report.outcome = version_created ? report::Outcome::updated : report::Outcome::unchanged;
  if (version_created) {
    log_.info("uploaded version {} ({}) of pipeline {}", version_name, published.version.id,
              request.pipeline);
  } else {
    log_.info("version {} ({}) of pipeline {} was uploaded meanwhile by another process, with this content",
              version_name, published.version.id, request.pipeline);
  }
  return published;
}

void Flows::run(const RunRequest& request, report::Report& report, const Published* published) {
  StartedRun started = start_run(request, report, published);
  finish_run(started, report);
}

Flows::StartedRun Flows::start_run(const RunRequest& request, report::Report& report,
                                   const Published* published) {
  // Everything that can be checked is checked before anything is created.
  check_run_request(request, published != nullptr ? &published->inputs : nullptr);
  take(check_name(fmt::format("the experiment name {}", shown(request.experiment)), request.experiment,
                  limits_for(api_.server().version).experiment_name));
  api::Pipeline pipeline;
  api::PipelineVersion version;
  std::vector<package::InputParameter> inputs;
  if (published != nullptr) {
    pipeline = published->pipeline;
    version = published->version;
    inputs = published->inputs;
  } else {
    const std::string pipeline_ns = pipeline_namespace(request.pipeline_scope);
    auto found = take(api_.find_pipeline(request.pipeline, pipeline_ns));
    if (!found) {
      const bool shared = pipeline_ns.empty() && !namespace_.empty();
      raise(
          util::ErrorKind::not_found,
          fmt::format("pipeline {} does not exist{}", request.pipeline,
                      shared               ? " among the shared pipelines"
                      : namespace_.empty() ? ""
                                           : fmt::format(" in namespace {}", namespace_)),
          fmt::format("publish it first (kfp-publish publish PACKAGE --pipeline NAME), or check --namespace "
                      "and {} --shared-pipeline",
                      shared ? "drop" : "whether it was published with"));
    }
    pipeline = *found;
    report.pipeline = object_info(pipeline.id, request.pipeline, false);
    std::optional<api::PipelineVersion> chosen;
    if (request.version) {
      chosen = take(api_.find_version_by_name(pipeline.id, *request.version));
      if (!chosen)
        raise(util::ErrorKind::not_found,
              fmt::format("pipeline {} has no version {}", request.pipeline, *request.version));
    } else {
      chosen = take(api_.latest_version(pipeline.id));
      if (!chosen)
        raise(util::ErrorKind::not_found, fmt::format("pipeline {} has no versions", request.pipeline));
    }
    version = take(api_.get_version(pipeline.id, chosen->id));
    if (version.name.empty()) version.name = chosen->name;
    report.version = object_info(version.id, version.name, false);
    if (version.pipeline_spec.is_object()) {
      auto parsed = package::parse_api_pipeline_spec(version.pipeline_spec, "the version's pipeline_spec");
      if (parsed) {
        inputs = parsed->inputs;
      } else {
        log_.warning("cannot read the declared inputs of version {}: {}; parameters are not checked",
                     version.name, parsed.error().message);
      }
    }
  }

  auto parameters = resolve_parameters(request.parameters, inputs);
  if (!parameters) throw util::Error(parameters.error());

  auto experiment = take(api_.find_experiment(request.experiment, namespace_));
  if (experiment) {
    report.experiment = object_info(experiment->id, experiment->name, false);
  } else {
    experiment = take(api_.create_experiment(request.experiment, namespace_));
    report.experiment = object_info(experiment->id, request.experiment, true);
    if (experiment->found_existing) {
      report.experiment->created = std::nullopt;
      log_.info(
          "experiment {} ({}) was created meanwhile, by an unanswered request of this invocation or by "
          "another process",
          request.experiment, experiment->id);
    } else {
      log_.info("created experiment {} ({})", request.experiment, experiment->id);
    }
  }

  std::string key;
  if (request.run_key) {
    key = *request.run_key;
  } else if (auto ci_key = ci_run_key(env_)) {
    key = *ci_key;
  } else {
    key = random_key();
    log_.warning(
        "no run key (--run-key, KFP_RUN_KEY or the CI's run identity): a retried Job may start a "
        "second run; retries inside this invocation are still safe");
  }
  Contest contest;
  contest.experiment_id = experiment->id;
  contest.marker = run_marker(key, request.pipeline, request.experiment);
  contest.attempt = attempt_;
  contest.parameters = std::move(*parameters);
  contest.outcome_is_run = report.outcome == report::Outcome::none;
  log_.debug("run key {} → {}; this invocation: {}", key, contest.marker, contest.attempt);

  const Provenance provenance = provenance_from(env_);
  api::Run run;
  if (auto earlier = take(api_.find_run(experiment->id, namespace_, contest.marker))) {
    run = *earlier;
    check_same_parameters(run, contest.parameters);
    log_.info("run {} was already started for this run key; following it instead of starting another",
              run.id);
  } else {
    api::CreateRun create;
    create.name = request.run_name;
    if (create.name.empty()) {
      create.name =
          fit(fmt::format("{}-{}", request.pipeline,
                          provenance.ci_run.empty() ? contest.marker.substr(contest.marker.size() - 8)
                                                    : provenance.ci_run),
              limits::run_name.max);
    }
    create.description = run_description(contest.marker, contest.attempt, provenance);
    create.experiment_id = experiment->id;
    create.pipeline_id = pipeline.id;
    create.version_id = version.id;
    create.parameters = contest.parameters;
    create.service_account = request.service_account;
    create.pipeline_root = request.pipeline_root;
    // A lost answer is looked up by this invocation's own marker: never another process's run.
    run = take(api_.create_run(create, namespace_, contest.attempt));
    run.description = create.description;
    log_.info("started run {} ({})", create.name, run.id);
  }
  // Runs created with this key by others at the same time become visible within the settle
  // window; the check waits for them (during the wait when there is one).
  contest.due = clock_.now() + created_at_resolution + settle_window(env_);
  follow(run, contest, report);
  return StartedRun{request, std::move(run), std::move(contest)};
}

void Flows::finish_run(StartedRun& started, report::Report& report) {
  if (started.request.wait) {
    wait_for(started.request, started.run, report, started.contest);
  } else {
    started.run = settle_patiently(started.contest, report, started.request.status_failure_budget);
  }
}

void Flows::check_same_parameters(const api::Run& run, const boost::json::object& parameters) const {
  if (!run.parameters) return;  // the server did not say: nothing to compare
  if (same_parameters(parameters, *run.parameters)) return;
  raise(util::ErrorKind::conflict,
        fmt::format("run {} was started for this run key with other parameters ({}; now {})", run.id,
                    boost::json::serialize(*run.parameters), boost::json::serialize(parameters)),
        "a run key names one run: give this run another --run-key (KFP_RUN_KEY), or the same parameters");
}

void Flows::follow(const api::Run& run, const Contest& contest, report::Report& report) const {
  const bool created = run.description.find(contest.attempt) != std::string::npos;
  report.run = object_info(run.id, run.name, created);
  report.run->state = run.state;
  report.run->url = api_.run_url(run.id);
  if (contest.outcome_is_run)
    report.outcome = created ? report::Outcome::created : report::Outcome::unchanged;
}

util::Result<api::Run> Flows::settle(Contest& contest, report::Report& report,
                                     std::optional<util::Milliseconds> within) {
  auto runs = api_.list_runs_with_marker(contest.experiment_id, namespace_, contest.marker, within);
  if (!runs) return runs.error();
  if (runs->empty()) {
    return util::fail(
        util::ErrorKind::not_found,
        fmt::format("no run with this run key ({}) is left in the experiment: deleted meanwhile?",
                    contest.marker));
  }
  const api::Run& winner = runs->front();  // oldest first: created_at, then id, as the server sorts
  for (std::size_t i = 1; i < runs->size(); ++i) {
    const api::Run& loser = (*runs)[i];
    if (loser.description.find(contest.attempt) == std::string::npos) continue;  // another's to end
    log_.warning("run {} lost to run {}, started earlier for the same run key: terminating and archiving it",
                 loser.id, winner.id);
    if (auto terminated = api_.terminate_run(loser.id); !terminated)
      log_.error("could not terminate run {}: {}", loser.id, terminated.error().message);
    if (auto archived = api_.archive_run(loser.id); !archived)
      log_.warning("could not archive run {}: {}", loser.id, archived.error().message);
  }
  contest.decided = true;
  if (winner.id != report.run->id)
    log_.info("following run {}, the first started for this run key", winner.id);
  follow(winner, contest, report);
  check_same_parameters(winner, contest.parameters);
  return winner;
}

api::Run Flows::settle_patiently(Contest& contest, report::Report& report, util::Milliseconds budget) {
  auto pause = first_failure_pause;
  std::optional<http::Clock::TimePoint> failing_since;
  for (;;) {
    const auto wait = std::chrono::duration_cast<util::Milliseconds>(contest.due - clock_.now());
    if (wait > util::Milliseconds{0} && clock_.sleep_for(wait) == http::SleepOutcome::interrupted) {
      raise(util::ErrorKind::interrupted,
            fmt::format("interrupted before checking that run {} is the only one for its run key",
                        report.run->id));
    }
    auto settled = settle(contest, report, std::nullopt);
    if (settled) return std::move(*settled);
    if (!transient(settled.error())) throw util::Error(settled.error());
    if (!failing_since) failing_since = clock_.now();
    if (clock_.now() - *failing_since >= budget) throw util::Error(settled.error());
    log_.warning("checking the runs of this run key failed ({}); trying again", settled.error().message);
    contest.due = clock_.now() + pause;
    pause = std::min(max_failure_pause, pause * 2);
  }
}

void Flows::cancel(const std::string& run_id, std::string_view why) {
  log_.warning("terminating run {} ({})", run_id, why);
  auto terminated = api_.terminate_run(run_id);
  if (!terminated) log_.error("could not terminate run {}: {}", run_id, terminated.error().message);
}

util::Result<api::Run> Flows::poll(const std::string& run_id, Contest& contest, report::Report& report,
                                   util::Milliseconds within) {
  if (!contest.decided && clock_.now() >= contest.due) return settle(contest, report, within);
  return api_.get_run(run_id, within);
}

// What a wait knows of the run's tasks. On v2beta1 the run's task_details name the tasks but, as
// every 2.x release fills them, not their nesting, pods or errors (api/tasks.hpp): the v1beta1 run's
// workflow has those, and costs one more request per status check. A workflow read that fails is
// no reason to stop waiting: the run's state decides, the tasks are what the last read said.
struct Flows::TaskWatch {
  std::optional<TaskView> view;
  bool workflow_unavailable = false;  // its read failed in a way a retry will not mend
  std::set<std::string> announced;    // the failed tasks already said
};

std::size_t Flows::failure_log_lines(const RunRequest& request) const {
  if (request.failure_log_lines) return *request.failure_log_lines;
  if (auto text = env_.get("KFP_FAILURE_LOG_LINES")) {
    std::size_t lines = 0;
    const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), lines);
    if (error != std::errc() || end != text->data() + text->size() || text->empty() ||
        lines > max_failure_log_lines) {
      raise(util::ErrorKind::usage,
            fmt::format("KFP_FAILURE_LOG_LINES={}: not a number of lines from 0 to {}", *text,
                        max_failure_log_lines));
    }
    return lines;
  }
  return default_failure_log_lines;
}

void Flows::watch_tasks(const api::Run& run, TaskWatch& watch, report::Report& report,
                        std::optional<util::Milliseconds> within) {
  std::optional<TaskView> view;
  if (run.tasks) view.emplace(*run.tasks);
  const bool wants_workflow = !run.tasks || run.tasks->source != api::TaskSource::workflow;
  if (wants_workflow && !watch.workflow_unavailable && (!view || !view->linked()) &&
      (!within || *within > util::Milliseconds{0})) {
    auto workflow = api_.get_run_workflow(run.id, within);
    if (workflow && *workflow) {
      view.emplace(**workflow);
    } else if (!workflow && !transient(workflow.error())) {
      watch.workflow_unavailable = true;
      log_.debug("run {}: its workflow cannot be read ({}); tasks as the run reports them", run.id,
                 workflow.error().message);
    }
  }
  if (!view) return;
  watch.view = std::move(view);
  report.run->tasks = watch.view->counts();
  for (const auto& [id, task] : watch.view->failed_now()) {
    if (!watch.announced.insert(id).second) continue;
    log_.info("task {} FAILED{}", task.path, task.error.empty() ? "" : ": " + task.error);
  }
}

void Flows::report_failed_tasks(const api::Run& run, const TaskWatch& watch, std::size_t log_lines,
                                report::Report& report) {
  if (!watch.view) {
    report.run->failed_tasks.emplace();
    return;
  }
  auto failed = watch.view->failed(api_.run_url(run.id));
  std::size_t logs_read = 0;
  for (auto& task : failed) {
    if (log_lines == 0) continue;
    if (task.pod.empty()) {
      task.log_error = "the server does not say which pod ran this task";
      continue;
    }
    if (logs_read == max_failed_task_logs) {
      task.log_error =
          fmt::format("not read: the logs of the first {} failed tasks were", max_failed_task_logs);
      continue;
    }
    ++logs_read;
    task.node_id = task.pod;
    auto log = api_.read_task_log(run.id, task.pod, log_lines, failed_task_log_time);
    if (!log) {
      task.log_error = log.error().message;
      continue;
    }
    task.log_tail = std::move(log->tail);
    if (!log->error.empty()) task.log_error = std::move(log->error);
  }
  report.run->failed_tasks = std::move(failed);
  report.run->graph = watch.view->graph();
}

void Flows::wait_for(const RunRequest& request, api::Run run, report::Report& report, Contest& contest) {
  using TimePoint = http::Clock::TimePoint;
  const TimePoint start = clock_.now();
  // Without --wait-timeout the deadline is never reached.
  const TimePoint deadline = request.wait_timeout ? start + *request.wait_timeout : TimePoint::max();
  std::string url = api_.run_url(run.id);
  auto since = [&](TimePoint from) {
    return std::chrono::duration_cast<util::Milliseconds>(clock_.now() - from);
  };
  auto until = [&](TimePoint to) {
    return std::chrono::duration_cast<util::Milliseconds>(to - clock_.now());
  };

  auto interval = first_poll;
  auto failure_pause = first_failure_pause;
  TimePoint next_poll = start + interval;
  TimePoint next_heartbeat = start;
  std::string reported_state;
  // While status checks fail: since when, and the last failure.
  std::optional<TimePoint> failing_since;
  std::optional<util::Failure> last_failure;
  const std::size_t log_lines = failure_log_lines(request);
  TaskWatch tasks;
  auto status_line = [&]() {
    std::string line = fmt::format("run {} {} ({})", run.id, run.state, seconds_text(since(start)));
    // Before the first task appears there is nothing to count.
    if (report.run->tasks && report.run->tasks->total > 0) line += ", " + progress_text(*report.run->tasks);
    return fmt::format("{} {}", line, url);
  };
  // On a terminal the status line is redrawn in place, so it may change as often as it likes.
  const bool live = log_.redraws_progress();

  for (;;) {
    if (!failing_since) report.run->state = run.state;
    if (!failing_since && !contest.decided && is_final(run.state)) {
      // Not before the oldest-wins check: the run followed may not be the one that stays.
      next_poll = std::min(next_poll, contest.due);
    } else if (!failing_since) {
      if (run.state == "SUCCEEDED" || run.state == "SKIPPED") {
        log_.progress(status_line());
        if (tasks.view) report.run->graph = tasks.view->graph();
        return;
      }
      if (run.state == "FAILED" || run.state == "CANCELED") {
        log_.progress(status_line());
        report_failed_tasks(run, tasks, log_lines, report);
        // The annotation CI shows is this message: it names the first failed task.
        std::string first;
        if (!report.run->failed_tasks->empty()) {
          const auto& task = report.run->failed_tasks->front();
          first = fmt::format("; failed task {}{}", task.path, task.error.empty() ? "" : ": " + task.error);
        }
        if (run.state == "FAILED") {
          raise(util::ErrorKind::run_failed,
                fmt::format("run {} ended FAILED{}{}", run.id, run.error.empty() ? "" : ": " + run.error,
                            first),
                fmt::format("see the run's logs at {}", url));
        }
        raise(util::ErrorKind::run_canceled, fmt::format("run {} was CANCELED{}", run.id, first));
      }
      if (run.state == "PAUSED") {
        raise(util::ErrorKind::run_canceled,
              fmt::format("run {} is PAUSED and will not finish by itself", run.id),
              fmt::format("resume it at {}", url));
      }
    }
    if (clock_.now() >= next_heartbeat || (!failing_since && run.state != reported_state)) {
      if (failing_since) {
        log_.progress(fmt::format("run {} state unknown for {}: {}; status checks go on for up to {} ({}) {}",
                                  run.id, seconds_text(since(*failing_since)), last_failure->message,
                                  seconds_text(request.status_failure_budget), seconds_text(since(start)),
                                  url));
      } else {
        log_.progress(status_line());
        reported_state = run.state;
      }
      next_heartbeat = clock_.now() + heartbeat_interval;
    } else if (live && !failing_since) {
      log_.progress(status_line());
    }
    if (util::interrupted()) {
      if (request.on_interrupt == OnInterrupt::cancel) cancel(run.id, "interrupted");
      raise(util::ErrorKind::interrupted,
            fmt::format("interrupted while waiting for run {} ({})", run.id, run.state));
    }
    if (clock_.now() >= deadline) {
      // A wait shorter than the settle window still ends with one run for the key: the check
      // runs first (past the deadline by at most the window), then the timeout is reported.
      if (!contest.decided) run = settle_patiently(contest, report, request.status_failure_budget);
      if (request.on_timeout == OnTimeout::cancel) cancel(run.id, "--wait-timeout reached");
      const std::string state =
          failing_since ? fmt::format("state unknown: {}", last_failure->message) : "state " + run.state;
      raise(util::ErrorKind::timeout,
            fmt::format("run {} did not finish within {} ({})", run.id,
                        util::format_duration(*request.wait_timeout), state),
            request.on_timeout == OnTimeout::cancel
                ? ""
                : "it is still running; --cancel-on-timeout terminates it");
    }
    // Sleep until the next poll, waking for the heartbeat and the deadline (and, on a terminal,
    // every second to redraw the elapsed time).
    const TimePoint wake = std::min(
        {next_poll, next_heartbeat, deadline, live ? clock_.now() + live_redraw_interval : TimePoint::max()});
    const auto pause = std::chrono::duration_cast<util::Milliseconds>(wake - clock_.now());
    if (pause > util::Milliseconds{0} && clock_.sleep_for(pause) == http::SleepOutcome::interrupted) {
      continue;  // the loop notices the flag
    }
    if (clock_.now() < next_poll) continue;
    if (until(next_heartbeat) < min_poll_time) {
      // Keep the heartbeat from cutting this status check short: say it now.
      next_heartbeat = clock_.now();
      continue;
    }

    // No status check runs past the deadline, nor past the next heartbeat.
    const TimePoint asked = clock_.now();
    auto polled = poll(run.id, contest, report, until(std::min(deadline, next_heartbeat)));
    // A signal that cut the poll short is handled at the top of the loop (cancel, exit 130).
    if (!polled && polled.error().kind == util::ErrorKind::interrupted && util::interrupted()) continue;
    if (polled) {
      if (failing_since) log_.info("run {}: status checks answer again", run.id);
      run = std::move(*polled);
      url = api_.run_url(run.id);
      watch_tasks(run, tasks, report, until(std::min(deadline, next_heartbeat)));
      failing_since.reset();
      failure_pause = first_failure_pause;
      interval = std::min(max_poll, interval * 3 / 2);
      next_poll = clock_.now() + interval;
      continue;
    }
    if (!transient(polled.error())) throw util::Error(polled.error());
    if (!failing_since) {
      failing_since = asked;
      log_.warning("run {}: status check failed ({}); retrying for up to {}", run.id, polled.error().message,
                   seconds_text(request.status_failure_budget));
    }
    last_failure = polled.error();
    if (since(*failing_since) >= request.status_failure_budget) {
      util::Failure failure = polled.error();
      failure.message = fmt::format("run {}: status checks failed for {}: {}", run.id,
                                    seconds_text(since(*failing_since)), failure.message);
      failure.hint = fmt::format("the run may still be going: see {}", url);
      throw util::Error(failure);
    }
    next_poll = clock_.now() + failure_pause;
    failure_pause = std::min(max_failure_pause, failure_pause * 2);
  }
}

}  // namespace kfp::publish
