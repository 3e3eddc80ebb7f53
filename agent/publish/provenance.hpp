#pragma once
// Where a version came from and which CI run asked for a run, read from the CI's own variables
// (GitHub Actions; anything else through KFP_RUN_KEY, --tag and --code-source-url).

#include "util/environment.hpp"

#include <map>
#include <optional>
#include <string>

namespace kfp::publish {

struct Provenance {
  std::string commit;           // full SHA
  std::string repository;       // owner/name
  std::string ci_run;           // a short id of the CI run, e.g. "github-123456789-1"
  std::string ci_run_url;       // where a person sees the CI run
  std::string code_source_url;  // the tree at the commit
  // Tags for the version (each key and value at most 63 characters; no '.' in keys).
  [[nodiscard]] std::map<std::string, std::string> tags() const;
  // One sentence for descriptions: "from owner/repo@abc1234, CI run URL".
  [[nodiscard]] std::string sentence() const;
  // The same with the CI run's short id instead of its URL: "from owner/repo@abc1234, CI run github-1-1".
  [[nodiscard]] std::string short_sentence() const;
};

[[nodiscard]] Provenance provenance_from(const util::Environment& env);

// The CI's identity of this job attempt, stable across retries of the same Job/step and different
// for a new CI run or a re-run attempt; nullopt when no CI identity is available.
[[nodiscard]] std::optional<std::string> ci_run_key(const util::Environment& env);

// The marker recorded in a run's description and searched for before any create: derived from the
// run key and what is being run, so one CI job can start runs of several pipelines.
[[nodiscard]] std::string run_marker(const std::string& run_key, const std::string& pipeline,
                                     const std::string& experiment);

}  // namespace kfp::publish
