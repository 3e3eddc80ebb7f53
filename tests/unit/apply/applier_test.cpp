#include "apply/applier.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace kfp;

TEST_CASE("a run's key comes from the file entry, plus the CI's identity when there is one") {
  apply::RunEntry entry;
  entry.name = "smoke";
  util::MapEnvironment local;
  CHECK(apply::run_key_for(entry, local) == "apply:smoke");
  util::MapEnvironment github(
      {{"GITHUB_RUN_ID", "42"}, {"GITHUB_REPOSITORY", "o/r"}, {"GITHUB_JOB", "deploy"}});
  CHECK(apply::run_key_for(entry, github) == "apply:smoke:github:o/r:42:1:deploy");
  entry.run_key = "release-7";
  CHECK(apply::run_key_for(entry, github) == "release-7");
}

TEST_CASE("a recurring run's spec digest follows what needs a replace, not enabled") {
  api::RecurringRun desired;
  desired.name = "nightly";
  desired.experiment_id = "e1";
  desired.pipeline_id = "p1";
  desired.version_id = "v1";
  desired.cron = "0 0 2 * * *";
  desired.parameters["epochs"] = 3;
  const auto digest = apply::recurring_spec_digest(desired);
  CHECK(digest.starts_with("sha256:"));
  auto same = desired;
  same.enabled = !desired.enabled;
  CHECK(apply::recurring_spec_digest(same) == digest);
  for (auto change : {+[](api::RecurringRun& r) { r.version_id = "v2"; },
                      +[](api::RecurringRun& r) { r.cron = "0 0 3 * * *"; },
                      +[](api::RecurringRun& r) { r.max_concurrency = 2; },
                      +[](api::RecurringRun& r) { r.parameters["epochs"] = 4; },
                      +[](api::RecurringRun& r) { r.experiment_id = "e2"; },
                      +[](api::RecurringRun& r) {
                        r.cron.clear();
                        r.interval_seconds = 3600;
                      }}) {
    auto changed = desired;
    change(changed);
    CHECK(apply::recurring_spec_digest(changed) != digest);
  }
}

TEST_CASE("the synchronized log keeps every line from concurrent workers") {
  util::MemoryLog memory;
  apply::SynchronizedLog log(memory);
  {
    std::vector<std::jthread> workers;
    for (int w = 0; w < 4; ++w) {
      workers.emplace_back([&log, w] {
        for (int i = 0; i < 100; ++i) log.info("worker {} line {}", w, i);
      });
    }
  }
  CHECK(memory.lines.size() == 400);
}
