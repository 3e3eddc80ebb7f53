#include "apply/applier.hpp"

#include "api/tasks.hpp"
#include "publish/provenance.hpp"
#include "unit/api/fake_transport.hpp"
#include "unit/api/workflow_fixture.hpp"
#include "unit/publish/fake_api.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

using namespace kfp;

namespace {

// One lane over the in-memory KFP and the fake clock: time passes only when the code sleeps.
class FakeLane final : public apply::Lane {
 public:
  FakeLane(test::FakeApi& api, test::FakeClock& clock) : api_(api), clock_(clock) {}
  api::KfpApi& api() override { return api_; }
  http::Clock& clock() override { return clock_; }

 private:
  test::FakeApi& api_;
  test::FakeClock& clock_;
};

struct ApplyFixture {
  ApplyFixture() { api.clock = &clock; }
  test::FakeApi api{true};
  test::FakeClock clock;
  util::MemoryLog log;
  util::MapEnvironment env;
  FakeLane lane{api, clock};

  // A file with the pipeline "hello", the experiment "ci" and one run per name (no wait).
  static apply::ApplyFile file(const std::vector<std::string>& runs) {
    apply::ApplyFile file;
    apply::PipelineEntry pipeline;
    pipeline.name = "hello";
    pipeline.package = test::make_package("a");
    file.pipelines.push_back(pipeline);
    file.experiments.push_back({{}, "ci", ""});
    for (const auto& name : runs) {
      apply::RunEntry run;
      run.name = name;
      run.pipeline = "hello";
      run.experiment = "ci";
      run.parameters = {"message=hi"};
      file.runs.push_back(run);
    }
    return file;
  }

  std::vector<apply::ObjectResult> apply(const apply::ApplyFile& file, apply::ApplyOptions options = {}) {
    auto no_more_lanes = []() -> std::unique_ptr<apply::Lane> { return nullptr; };
    return apply::apply_file(file, "team-a", lane, no_more_lanes, options, env, log);
  }

  util::Milliseconds slept() const {
    util::Milliseconds total{0};
    for (auto pause : clock.slept) total += pause;
    return total;
  }
};

}  // namespace

TEST_CASE("apply: N runs without --wait pay the settle window once, each still checked at its own due time") {
  ApplyFixture f;
  // When each run was created, on the fake clock.
  std::map<std::string, http::Clock::TimePoint> created;
  f.api.on_create_run = [&](const api::Run& run) { created[run.id] = f.clock.now(); };
  const auto results = f.apply(ApplyFixture::file({"smoke-1", "smoke-2", "smoke-3"}));

  REQUIRE(results.size() == 5);
  for (std::size_t i = 2; i < 5; ++i) {
    CAPTURE(results[i].name);
    CHECK(results[i].kind == apply::ObjectKind::run);
    CHECK(results[i].outcome == apply::ObjectOutcome::done);
    CHECK_FALSE(results[i].error.has_value());
    CHECK(results[i].action == apply::Action::create);
  }
  CHECK(f.api.runs.size() == 3);
  // One second for created_at's whole seconds plus the default 5 s window: once, not three times.
  CHECK(f.slept() == util::Milliseconds{1000} + publish::default_settle_window);
  // The guarantee is unchanged: each key's runs are listed for the oldest-wins check no earlier than
  // one second plus the window after its run was created.
  for (const auto& run : f.api.runs) {
    CAPTURE(run.id);
    apply::RunEntry entry;
    entry.name = run.name;
    const auto marker = publish::run_marker(apply::run_key_for(entry, f.env), "hello", "ci");
    auto last = std::find_if(f.api.listings.rbegin(), f.api.listings.rend(),
                             [&](const auto& listing) { return listing.first == marker; });
    REQUIRE(last != f.api.listings.rend());
    CHECK(last->second - created.at(run.id) >= util::Milliseconds{1000} + publish::default_settle_window);
  }
}

TEST_CASE("apply: a run that loses to an older one of its key is ended and the older one is reported") {
  ApplyFixture f;
  f.api.on_create_run = [&](const api::Run& ours) {
    if (ours.name != "smoke-2") return;
    // Another process created one with the same key in the same second, with a smaller id.
    api::Run earlier = ours;
    earlier.id = "a-earlier";
    earlier.description = ours.description.substr(0, ours.description.find("kfp-publish-attempt:")) +
                          "kfp-publish-attempt:00000000000000aa";
    f.api.runs.push_back(earlier);
  };
  const auto results = f.apply(ApplyFixture::file({"smoke-1", "smoke-2"}));
  REQUIRE(results.size() == 4);
  CHECK(results[2].action == apply::Action::create);
  CHECK(results[3].action == apply::Action::unchanged);
  CHECK(results[3].id == "a-earlier");
  CHECK(std::find(f.api.writes.begin(), f.api.writes.end(), "terminate_run r2") != f.api.writes.end());
  CHECK(std::find(f.api.writes.begin(), f.api.writes.end(), "terminate_run a-earlier") == f.api.writes.end());
}

TEST_CASE("apply: a shared pipeline is published without a namespace; its runs stay in the namespace") {
  for (bool shared_in_file : {true, false}) {
    CAPTURE(shared_in_file);
    ApplyFixture f;
    auto file = ApplyFixture::file({"smoke"});
    apply::ApplyOptions options;
    if (shared_in_file) {
      file.pipelines[0].shared = true;
    } else {
      options.pipeline_scope = publish::PipelineScope::shared;  // --shared-pipeline
    }
    const auto results = f.apply(file, options);
    for (const auto& result : results) CHECK_FALSE(result.error.has_value());
    REQUIRE(f.api.pipelines.size() == 1);
    CHECK(f.api.pipelines[0].namespace_name.empty());
    REQUIRE(f.api.experiments.size() == 1);
    CHECK(f.api.experiments[0].namespace_name == "team-a");
    CHECK(f.api.runs.size() == 1);
  }
  // `shared: false` in the file wins over --shared-pipeline.
  ApplyFixture f;
  auto file = ApplyFixture::file({});
  file.pipelines[0].shared = false;
  apply::ApplyOptions options;
  options.pipeline_scope = publish::PipelineScope::shared;
  (void)f.apply(file, options);
  REQUIRE(f.api.pipelines.size() == 1);
  CHECK(f.api.pipelines[0].namespace_name == "team-a");
}

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

TEST_CASE("apply: a waited run that fails brings its failed tasks and their log tails into apply's report") {
  ApplyFixture f;
  f.api.get_run_hook = [](const std::string& id) -> util::Result<api::Run> {
    api::Run run{id, "", "FAILED", {}};
    run.tasks = api::parse_workflow_manifest(test::v1_retry_failure_workflow());
    return run;
  };
  f.api.read_log_hook = [](const std::string& node) -> util::Result<api::TaskLog> {
    return api::TaskLog{"log of " + node, ""};
  };
  auto file = ApplyFixture::file({"smoke"});
  file.runs[0].wait = true;
  auto results = f.apply(file);
  const auto it = std::find_if(results.begin(), results.end(),
                               [](const auto& result) { return result.kind == apply::ObjectKind::run; });
  REQUIRE(it != results.end());
  CHECK(it->outcome == apply::ObjectOutcome::failed);
  auto json = apply::to_json({*it});
  const auto& run = json[0].as_object().at("run").as_object();
  CHECK(run.at("state").as_string() == "FAILED");
  CHECK(run.at("tasks").as_object().at("failed").as_int64() == 1);
  const auto& failed = run.at("failed_tasks").as_array();
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].as_object().at("path").as_string() == "flaky");
  CHECK(failed[0].as_object().at("log_tail").as_string() == "log of pipe-x-22");
}
