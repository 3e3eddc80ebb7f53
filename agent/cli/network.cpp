#include "cli/network.hpp"

#include <fmt/format.h>

namespace kfp::cli {

publish::SessionServices session_services(Context& context) {
  return publish::SessionServices(context.log, context.secrets, context.env);
}

publish::PipelineScope scope_of(const GlobalOptions& options) {
  return options.shared_pipeline ? publish::PipelineScope::shared : publish::PipelineScope::namespaced;
}

std::unique_ptr<publish::Session> open_session(Context& context, report::Report& report) {
  return std::make_unique<publish::Session>(context.options.session, session_services(context), report);
}

void RunFlags::define(CLI::App& app, bool standalone) {
  if (standalone) {
    app.add_option("--pipeline", pipeline, "pipeline name")->required();
    app.add_option("--version", version, "version name [default: the latest version]");
    app.add_option("--experiment", experiment_, "experiment name; created if missing")->required();
  } else {
    run_options_.push_back(
        app.add_option("--experiment", experiment_, "experiment name for --run; created if missing"));
  }
  run_options_.push_back(
      app.add_option("--param", params_,
                     "run parameter name=value, converted to the declared type (repeatable, once per name)"));
  run_options_.push_back(
      app.add_option("--params-file", params_file_, "YAML or JSON mapping of parameters (--param wins)"));
  run_options_.push_back(
      app.add_option("--run-name", run_name_, "run display name [default: PIPELINE-CI_RUN]"));
  run_options_.push_back(
      app.add_option("--service-account", service_account_, "Kubernetes service account the run's pods use"));
  run_options_.push_back(app.add_option("--pipeline-root", pipeline_root_, "artifact root URI for the run"));
  run_options_.push_back(
      app.add_flag("--wait", wait_, "wait until the run ends; its state decides the exit code"));
  run_options_.push_back(
      app.add_option("--wait-timeout", wait_timeout_, "give up waiting after DUR (exit 8), e.g. 1h"));
  run_options_.push_back(app.add_flag("--cancel-on-timeout", cancel_on_timeout_,
                                      "terminate the run when --wait-timeout is reached"));
  run_options_.push_back(app.add_flag("--cancel-on-interrupt", cancel_on_interrupt_,
                                      "terminate the run on SIGINT/SIGTERM while waiting"));
  run_options_.push_back(app.add_option(
      "--run-key", run_key_,
      "idempotency key: a run recorded with it is reused, never duplicated [env KFP_RUN_KEY; default: the "
      "CI's run identity]"));
  run_options_.push_back(
      app.add_option(
             "--failure-log-lines", failure_log_lines_,
             fmt::format("when a waited-for run ends FAILED or CANCELED, show the last N lines of each "
                         "failed task's log; 0 turns it off [env KFP_FAILURE_LOG_LINES; default {}]",
                         publish::default_failure_log_lines))
          ->check(CLI::Range(std::size_t{0}, publish::max_failure_log_lines)));
}

std::string RunFlags::first_given() const {
  for (const auto* option : run_options_) {
    if (option->count() > 0) return option->get_name();
  }
  return {};
}

publish::RunRequest RunFlags::request(const std::string& pipeline_name,
                                      const std::optional<std::string>& version_name) const {
  publish::RunRequest request;
  request.pipeline = pipeline_name;
  request.version = version_name;
  request.experiment = experiment_;
  request.parameters.assignments = params_;
  if (!params_file_.empty()) request.parameters.params_file = params_file_;
  request.run_name = run_name_;
  request.service_account = service_account_;
  request.pipeline_root = pipeline_root_;
  request.wait = wait_;
  if (!wait_timeout_.empty()) {
    auto timeout = util::parse_duration(wait_timeout_);
    if (!timeout)
      throw util::Error(util::ErrorKind::usage, fmt::format("--wait-timeout: {}", timeout.error().message));
    request.wait_timeout = *timeout;
  }
  if ((cancel_on_timeout_ || !wait_timeout_.empty()) && !wait_) {
    throw util::Error(util::ErrorKind::usage, "--wait-timeout and --cancel-on-timeout need --wait");
  }
  request.on_timeout = cancel_on_timeout_ ? publish::OnTimeout::cancel : publish::OnTimeout::keep_running;
  request.on_interrupt =
      cancel_on_interrupt_ ? publish::OnInterrupt::cancel : publish::OnInterrupt::keep_running;
  if (!run_key_.empty()) request.run_key = run_key_;
  request.failure_log_lines = failure_log_lines_;
  return request;
}

}  // namespace kfp::cli
