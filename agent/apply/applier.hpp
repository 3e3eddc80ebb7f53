#pragma once
// Brings the server to match an apply file, or (plan mode) says what that would change without
// changing anything. Order: experiments, then pipelines (concurrently, one connection set per
// worker), then runs and recurring runs, which depend on them. A failed object is recorded and its
// dependants skipped; the others go on, so a re-run finishes the rest without repeating anything.

#include "api/kfp_api.hpp"
#include "apply/file.hpp"
#include "apply/result.hpp"
#include "http/retry.hpp"
#include "publish/flows.hpp"
#include "util/environment.hpp"
#include "util/log.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kfp::apply {

// One set of connections to the server (a transport is not thread-safe: each worker has its own).
class Lane {
 public:
  virtual ~Lane() = default;
  [[nodiscard]] virtual api::KfpApi& api() = 0;
  [[nodiscard]] virtual http::Clock& clock() = 0;
};

// Opens one more lane; called on the calling thread before any worker starts. Throws util::Error.
using LaneFactory = std::function<std::unique_ptr<Lane>()>;

enum class Mode { plan, apply };

inline constexpr int max_parallel = 32;

struct ApplyOptions {
  Mode mode = Mode::apply;
  int parallel = 1;  // 1..max_parallel workers for pipelines
  // Where pipelines without `shared` in the file live (--shared-pipeline, KFP_SHARED_PIPELINE).
  publish::PipelineScope pipeline_scope = publish::PipelineScope::namespaced;
};

// Serialises writes to a log shared by workers.
class SynchronizedLog final : public util::Log {
 public:
  explicit SynchronizedLog(util::Log& inner) : inner_(inner) {}
  void write(util::LogLevel level, std::string_view message) override;
  void progress(std::string_view message) override;

 private:
  util::Log& inner_;
  std::mutex mutex_;
};

// Checks every name and description in `file` against the limits all KFP releases share
// (publish/limits.hpp), so that nothing the server would refuse is sent. Fails with kind usage
// (exit 2), listing each problem with its location.
[[nodiscard]] util::Result<void> check_limits(const ApplyFile& file);

// Plans or applies `file` in namespace `ns`. Per-object failures are in the results, never thrown;
// throws util::Error only when the file fails check_limits or an extra lane cannot be opened
// (before anything is changed).
[[nodiscard]] std::vector<ObjectResult> apply_file(const ApplyFile& file, const std::string& ns, Lane& first,
                                                   const LaneFactory& more_lanes, const ApplyOptions& options,
                                                   const util::Environment& env, util::Log& log);

// The run key of a run entry: its runKey, else "apply:<name>" plus the CI's run identity when there
// is one, so re-applying the file (in the same CI run) never starts the run twice.
[[nodiscard]] std::string run_key_for(const RunEntry& entry, const util::Environment& env);

// The digest of what a recurring run should be (everything but `enabled`, which can change in
// place), recorded in its description to tell "unchanged" from "replace".
[[nodiscard]] std::string recurring_spec_digest(const api::RecurringRun& desired);

}  // namespace kfp::apply
