#pragma once
// What the networked commands share: the session options from the global options, and the run
// flags that both `run` and `publish --run` accept.

#include "cli/command.hpp"
#include "publish/flows.hpp"
#include "publish/session.hpp"

#include <memory>
#include <string>
#include <vector>

namespace kfp::cli {

// The real services a session is built from: the command's log, the process's secret sink (every
// output channel redacts through it) and environment, the Beast transport, the system clock.
[[nodiscard]] publish::SessionServices session_services(Context& context);

// Where --shared-pipeline (KFP_SHARED_PIPELINE) puts pipelines.
[[nodiscard]] publish::PipelineScope scope_of(const GlobalOptions& options);

// Opens the session; every token it obtains is registered with context.secrets.
[[nodiscard]] std::unique_ptr<publish::Session> open_session(Context& context, report::Report& report);

class RunFlags {
 public:
  // `standalone`: the `run` command, where --pipeline is required here; publish declares its own.
  void define(CLI::App& app, bool standalone);
  // The run request; fails with kind usage on bad durations.
  [[nodiscard]] publish::RunRequest request(const std::string& pipeline,
                                            const std::optional<std::string>& version) const;
  [[nodiscard]] bool experiment_given() const { return !experiment_.empty(); }
  // The name of the first run flag on the command line ("--param"), empty when none: `publish`
  // refuses them without --run rather than ignoring them.
  [[nodiscard]] std::string first_given() const;

  std::string pipeline;
  std::string version;

 private:
  std::string experiment_;
  std::vector<std::string> params_;
  std::string params_file_;
  std::string run_name_;
  std::string service_account_;
  std::string pipeline_root_;
  bool wait_ = false;
  std::string wait_timeout_;
  bool cancel_on_timeout_ = false;
  bool cancel_on_interrupt_ = false;
  std::string run_key_;
  std::optional<std::size_t> failure_log_lines_;
  std::vector<const CLI::Option*> run_options_;  // the flags that only mean something with a run
};

}  // namespace kfp::cli
