#pragma once
// Creating a run as RunServer.createRun and ResourceManager.CreateRun do in each release: which
// parameters reach which kind of pipeline through which API, the order of checks, the workflow
// created in Kubernetes before the run is stored, and the database failure after it. FIDELITY.md
// "Runs and parameters" cites each step.

#include "resources.hpp"

#include <boost/json.hpp>

#include <string>

namespace kfp::emulator {

// A run request after the API's converter (toModelRun): the model.Run fields a client sets.
struct RunRequest {
  ApiFlavor api = ApiFlavor::v2beta1;
  std::string display_name, description, experiment_id, service_account, recurring_run_id;
  std::string pipeline_id, pipeline_version_id;
  boost::json::value inline_spec;     // v2beta1 pipeline_spec (an object), else null
  std::string manifest;               // v1beta1 workflow_manifest / pipeline_manifest (JSON text)
  boost::json::array v1_parameters;   // v1beta1 pipeline_spec.parameters: [{name, value}]
  boost::json::value runtime_config;  // {parameters, pipeline_root} or null
};

// The experiment a run or recurring run (`what`: "run", "recurring run") goes into and its
// namespace, checked as 2.x GetValidExperimentNamespacePair and createRun/createJob, or 1.8's
// run_server.go:112-133 and job_server.go:92-104, do: the experiment named, else (single-user) the
// default one. Throws ApiFailure with the chain before the server's outer wrap.
const Experiment& owning_experiment(App& app, const std::string& experiment_id, std::string_view what);

// Creates the run; throws ApiFailure with the chain up to the RunServer's own wrap (the caller
// adds its API's "Failed to create a new run" prefix).
const Run& create_run(Context& context, RunRequest request);

// runtime_config.parameters of a request; empty when absent.
[[nodiscard]] boost::json::object runtime_parameters(const boost::json::value& runtime_config);

// The template a run or recurring run uses: the pipeline version's, or the inline spec's.
struct RunTemplate {
  std::string pipeline_id, pipeline_version_id;
  std::string version_name;  // the version's name (a v1 job's pipeline_name on 2.x)
  package::Kind kind = package::Kind::pipeline_spec;
  std::vector<package::InputParameter> inputs;
  boost::json::value pipeline_spec;  // the inline spec (recurring runs return it)
  std::string manifest;              // the template text a job keeps (templates.hpp template_text)
  boost::json::value document;       // the package as JSON, which the run's tasks are laid out from
};
// `fetch_failure`: the message the caller's ResourceManager wraps a failed version lookup in as an
// internal error ("Failed to create a run due to error fetching manifest").
[[nodiscard]] RunTemplate run_template(App& app, const RunRequest& request, std::string_view fetch_failure);

// The fields a new run or recurring run takes from its request, template and experiment; a new id
// and the creation time. The service account defaults as setDefaultServiceAccount does.
[[nodiscard]] RunSource run_source(App& app, const RunRequest& request, const RunTemplate& tmpl,
                                   const Experiment& experiment);

// The workflow's parameters for `request` on `tmpl`, checked as the template's RunWorkflow /
// ScheduledWorkflow does; throws ApiFailure (InvalidInputError) with the template's own chain
// (Argo: "Failed to verify parameters[.]: …"), which the caller wraps as its release does.
// `provided` receives the values the template took from the request.
[[nodiscard]] boost::json::object workflow_parameters(App& app, const RunTemplate& tmpl,
                                                      const RunRequest& request,
                                                      boost::json::object& provided);

// The record of a Workflow (or ScheduledWorkflow) created for `request` on `tmpl` in `ns` (the KFP
// namespace when empty); the caller names it and links it to its run or recurring run.
[[nodiscard]] Workflow new_workflow(App& app, const RunTemplate& tmpl, const RunRequest& request,
                                    const std::string& ns, Time created_at, boost::json::object parameters,
                                    boost::json::object provided);

// Actions on stored runs and experiments shared by both APIs (storage/run_store.go,
// resource/resource_manager.go). Each throws ApiFailure as the server refuses it.
// TerminateRun: only PENDING, RUNNING or PAUSED runs ("Row not found" otherwise).
void terminate_run(App& app, Run& run);
// RetryRun: only a failed (or terminated) workflow can be retried; the run starts again.
void retry_run(App& app, Run& run);
// ArchiveRun / UnarchiveRun: unarchiving a run of an archived experiment fails its precondition.
void set_run_archived(App& app, Run& run, bool archived);
// ArchiveExperiment archives its runs and disables its recurring runs; unarchiving touches only
// the experiment.
void set_experiment_archived(App& app, const std::string& experiment_id, bool archived);

// Registers POST routes for the run actions above and the experiment (un)archive, under `base`
// ("/apis/v2beta1") with each API's path spelling. `find_run` / `find_experiment` look the object
// up and authorize `verb` as that API does.
struct ActionPaths {
  std::string terminate, retry, archive, unarchive, archive_experiment, unarchive_experiment;
};
using RunFinder = Run& (*)(Context&, std::string_view verb);
using ExperimentFinder = const Experiment& (*)(Context&, std::string_view verb);
void register_actions(App& app, const ActionPaths& paths, RunFinder find_run,
                      ExperimentFinder find_experiment);

}  // namespace kfp::emulator
