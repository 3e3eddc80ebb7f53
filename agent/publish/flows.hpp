#pragma once
// The CI flows over the typed API: publish a package as a content-addressed version, and start a
// run exactly once and follow it. They fill the report as they go and throw util::Error.

#include "api/kfp_api.hpp"
#include "http/retry.hpp"
#include "package/package.hpp"
#include "publish/parameters.hpp"
#include "report/report.hpp"
#include "util/duration.hpp"
#include "util/environment.hpp"
#include "util/log.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kfp::publish {

struct PublishRequest {
  std::string pipeline;
  std::optional<std::string> version;  // else derived from the digest
  std::string description;
  std::vector<std::pair<std::string, std::string>> tags;
  std::string code_source_url;  // else from the CI's variables
};

enum class OnTimeout { keep_running, cancel };
enum class OnInterrupt { keep_running, cancel };

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
};

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

class Flows {
 public:
  Flows(api::KfpApi& api, std::string namespace_name, const util::Environment& env, util::Log& log,
        http::Clock& clock);

  // Upserts the pipeline and its content-addressed version. Outcome created/updated/unchanged.
  Published publish(const package::Package& package, const PublishRequest& request, report::Report& report);

  // Decides what publish() would do without changing anything (apply --plan). Throws util::Error.
  PublishPlan plan_publish(const package::Package& package, const PublishRequest& request);

  // Checks parameters, gets or creates the experiment, creates the run once, and waits if asked.
  void run(const RunRequest& request, report::Report& report, const Published* published = nullptr);

 private:
  void check_server_reads(const package::Package& package) const;
  std::pair<PublishAction, std::optional<api::PipelineVersion>> same_content(const std::string& pipeline_id,
                                                                             const package::Package& package,
                                                                             const PublishRequest& request);
  void wait_for(const RunRequest& request, api::Run run, report::Report& report);
  void cancel(const std::string& run_id, std::string_view why);

  api::KfpApi& api_;
  std::string namespace_;
  const util::Environment& env_;
  util::Log& log_;
  http::Clock& clock_;
};

}  // namespace kfp::publish
