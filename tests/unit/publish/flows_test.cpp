#include "publish/flows.hpp"

#include "unit/api/fake_transport.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <functional>
#include <map>

using namespace kfp;

namespace {

// An in-memory KFP: enough behaviour for the flows' decisions, and a record of every write.
class FakeApi final : public api::KfpApi {
 public:
  explicit FakeApi(bool tags) {
    info_.api = "v2beta1";
    info_.version = tags ? "2.17.0" : "2.5.0";
    info_.supports_tags = tags;
  }
  [[nodiscard]] const api::ServerInfo& server() const override { return info_; }

  util::Result<std::optional<api::Pipeline>> find_pipeline(const std::string& name,
                                                           const std::string&) override {
    for (const auto& p : pipelines)
      if (p.name == name) return std::optional<api::Pipeline>(p);
    return std::optional<api::Pipeline>();
  }
  util::Result<api::Pipeline> create_pipeline(const std::string& name, const std::string&,
                                              const std::string& ns) override {
    writes.push_back("create_pipeline " + name);
    pipelines.push_back({"p" + std::to_string(pipelines.size() + 1), name, ns});
    return pipelines.back();
  }
  util::Result<std::optional<api::PipelineVersion>> find_version_by_name(const std::string& pid,
                                                                         const std::string& name) override {
    for (const auto& v : versions)
      if (v.pipeline_id == pid && v.name == name) return std::optional<api::PipelineVersion>(v);
    return std::optional<api::PipelineVersion>();
  }
  util::Result<std::optional<api::PipelineVersion>> find_version_by_digest(
      const std::string& pid, const std::string& digest) override {
    for (const auto& v : versions) {
      if (v.pipeline_id != pid) continue;
      if (info_.supports_tags ? v.tags.count(api::digest_tag_key) &&
                                    v.tags.at(api::digest_tag_key) == api::digest_tag_value(digest)
                              : v.description.find(digest) != std::string::npos) {
        return std::optional<api::PipelineVersion>(v);
      }
    }
    return std::optional<api::PipelineVersion>();
  }
  util::Result<std::optional<api::PipelineVersion>> latest_version(const std::string& pid) override {
    for (auto it = versions.rbegin(); it != versions.rend(); ++it)
      if (it->pipeline_id == pid) return std::optional<api::PipelineVersion>(*it);
    return std::optional<api::PipelineVersion>();
  }
  util::Result<api::PipelineVersion> get_version(const std::string&, const std::string& vid) override {
    for (const auto& v : versions)
      if (v.id == vid) return v;
    return util::fail(util::ErrorKind::not_found, "no version");
  }
  util::Result<api::PipelineVersion> upload_version(const api::UploadVersion& upload) override {
    writes.push_back("upload_version " + upload.name);
    api::PipelineVersion v;
    v.id = "v" + std::to_string(versions.size() + 1);
    v.name = upload.name;
    v.pipeline_id = upload.pipeline_id;
    v.description = upload.description;
    if (info_.supports_tags) v.tags = upload.tags;
    versions.push_back(v);
    return v;
  }
  util::Result<std::optional<api::Experiment>> find_experiment(const std::string& name,
                                                               const std::string&) override {
    for (const auto& e : experiments)
      if (e.name == name) return std::optional<api::Experiment>(e);
    return std::optional<api::Experiment>();
  }
  util::Result<api::Experiment> create_experiment(const std::string& name, const std::string& ns) override {
    writes.push_back("create_experiment " + name);
    experiments.push_back({"e" + std::to_string(experiments.size() + 1), name, ns});
    return experiments.back();
  }
  util::Result<std::optional<api::Run>> find_run(const std::string&, const std::string&,
                                                 const std::string& marker) override {
    for (const auto& [run, description] : runs)
      if (description.find(marker) != std::string::npos) return std::optional<api::Run>(run);
    return std::optional<api::Run>();
  }
  util::Result<api::Run> create_run(const api::CreateRun& create, const std::string&,
                                    const std::string& marker) override {
    writes.push_back("create_run " + create.name);
    CHECK(create.description.find(marker) != std::string::npos);
    last_parameters = create.parameters;
    runs.push_back(
        {api::Run{"r" + std::to_string(runs.size() + 1), create.name, "PENDING", {}}, create.description});
    return runs.back().first;
  }
  util::Result<api::Run> get_run(const std::string& id) override {
    if (get_run_hook) return get_run_hook(id);
    api::Run run{id, "", states.empty() ? "RUNNING" : states.front(), {}};
    if (states.size() > 1) states.pop_front();
    return run;
  }
  util::Result<void> terminate_run(const std::string& id) override {
    writes.push_back("terminate_run " + id);
    return {};
  }
  [[nodiscard]] std::string run_url(const std::string& id) const override {
    return "http://ui/#/runs/details/" + id;
  }

  api::ServerInfo info_;
  std::vector<api::Pipeline> pipelines;
  std::vector<api::PipelineVersion> versions;
  std::vector<api::Experiment> experiments;
  std::vector<std::pair<api::Run, std::string>> runs;
  std::deque<std::string> states;
  // When set, answers get_run instead of `states` (failures, time passing).
  std::function<util::Result<api::Run>(const std::string&)> get_run_hook;
  std::vector<std::string> writes;
  boost::json::object last_parameters;
};

package::Package make_package(std::string document) {
  package::Package pkg;
  pkg.source = "pipeline.yaml";
  pkg.member = "pipeline.yaml";  // in memory: no file is read by the fake
  pkg.upload_filename = "pipeline.yaml";
  pkg.document = std::move(document);
  pkg.digest =
      "sha256:" + std::string(pkg.document.size() % 2 ? 64 : 64, pkg.document.size() % 2 ? 'a' : 'b');
  pkg.pipeline_name = "hello";
  package::InputParameter message;
  message.name = "message";
  message.type = package::ParameterType::string;
  pkg.inputs.push_back(message);
  return pkg;
}

// Records when (on the fake clock) each line was logged.
class TimedLog final : public util::Log {
 public:
  explicit TimedLog(const http::Clock& clock) : clock_(clock) {}
  void write(util::LogLevel level, std::string_view message) override {
    lines.push_back({clock_.now(), level, std::string(message), false});
  }
  void progress(std::string_view message) override {
    lines.push_back({clock_.now(), util::LogLevel::info, std::string(message), true});
  }
  struct Line {
    http::Clock::TimePoint at;
    util::LogLevel level;
    std::string text;
    bool progress;
  };
  std::vector<Line> lines;

 private:
  const http::Clock& clock_;
};

struct Fixture {
  explicit Fixture(bool tags = true) : api(tags) {}
  FakeApi api;
  util::MapEnvironment env{{{"KFP_RUN_KEY", "ci-run-1"}}};
  test::FakeClock clock;
  TimedLog log{clock};
  publish::Flows flows{api, "team-a", env, log, clock};
};

publish::RunRequest run_request() {
  publish::RunRequest request;
  request.pipeline = "hello";
  request.experiment = "ci";
  request.parameters.assignments = {"message=hi"};
  return request;
}

}  // namespace

TEST_CASE("publish: created, then unchanged with no upload, then updated for new content") {
  for (bool tags : {true, false}) {
    CAPTURE(tags);
    Fixture f(tags);
    report::Report first;
    f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, first);
    CHECK(first.outcome == report::Outcome::created);
    CHECK(first.version->created == std::optional<bool>(true));
    CHECK(first.version->name == "sha256-aaaaaaaaaaaa");
    CHECK(f.api.writes.size() == 2);

    report::Report second;
    f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, second);
    CHECK(second.outcome == report::Outcome::unchanged);
    CHECK(f.api.writes.size() == 2);  // nothing uploaded
    CHECK(second.version->id == first.version->id);

    report::Report third;
    f.flows.publish(make_package("bb"), {"hello", std::nullopt, "", {}, ""}, third);
    CHECK(third.outcome == report::Outcome::updated);
    CHECK(f.api.writes.back() == "upload_version sha256-bbbbbbbbbbbb");
  }
}

TEST_CASE("publish: an explicit version with other content is a conflict; with the same content unchanged") {
  Fixture f;
  report::Report first;
  f.flows.publish(make_package("a"), {"hello", std::string("v1"), "", {}, ""}, first);
  CHECK(first.version->name == "v1");
  report::Report again;
  f.flows.publish(make_package("a"), {"hello", std::string("v1"), "", {}, ""}, again);
  CHECK(again.outcome == report::Outcome::unchanged);
  report::Report clash;
  try {
    f.flows.publish(make_package("bb"), {"hello", std::string("v1"), "", {}, ""}, clash);
    FAIL("no conflict");
  } catch (const util::Error& e) {
    CHECK(e.kind() == util::ErrorKind::conflict);
  }
}

TEST_CASE("publish: tags with a '.' in the key are refused before any write") {
  Fixture f;
  report::Report report;
  CHECK_THROWS_AS(f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {{"a.b", "c"}}, ""}, report),
                  util::Error);
  CHECK(f.api.writes.empty());
}

TEST_CASE("run: parameters are checked before the experiment or run is created") {
  Fixture f;
  report::Report published_report;
  auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, published_report);
  const auto writes_before = f.api.writes.size();
  auto request = run_request();
  request.parameters.assignments = {"colour=red"};
  report::Report report;
  try {
    f.flows.run(request, report, &published);
    FAIL("no error");
  } catch (const util::Error& e) {
    CHECK(e.kind() == util::ErrorKind::invalid_parameters);
  }
  CHECK(f.api.writes.size() == writes_before);
}

TEST_CASE("run: the same run key never creates a second run") {
  Fixture f;
  report::Report pub;
  auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
  report::Report first;
  f.flows.run(run_request(), first, &published);
  CHECK(first.run->created == std::optional<bool>(true));
  CHECK(f.api.last_parameters.at("message").as_string() == "hi");
  report::Report second;
  f.flows.run(run_request(), second, &published);
  CHECK(second.run->created == std::optional<bool>(false));
  CHECK(second.run->id == first.run->id);
  CHECK(f.api.runs.size() == 1);
}

TEST_CASE("run: an unknown pipeline is not_found") {
  Fixture f;
  report::Report report;
  try {
    f.flows.run(run_request(), report);
    FAIL("no error");
  } catch (const util::Error& e) {
    CHECK(e.kind() == util::ErrorKind::not_found);
  }
}

TEST_CASE("wait: terminal states map to error kinds, polling grows") {
  struct Case {
    std::deque<std::string> states;
    std::optional<util::ErrorKind> kind;
  };
  for (const auto& c :
       {Case{{"RUNNING", "RUNNING", "SUCCEEDED"}, std::nullopt}, Case{{"SKIPPED"}, std::nullopt},
        Case{{"RUNNING", "FAILED"}, util::ErrorKind::run_failed},
        Case{{"CANCELING", "CANCELED"}, util::ErrorKind::run_canceled},
        Case{{"PAUSED"}, util::ErrorKind::run_canceled}}) {
    Fixture f;
    report::Report pub;
    auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
    f.api.states = c.states;
    auto request = run_request();
    request.wait = true;
    report::Report report;
    std::optional<util::ErrorKind> got;
    try {
      f.flows.run(request, report, &published);
    } catch (const util::Error& e) {
      got = e.kind();
    }
    CHECK(got == c.kind);
    CHECK(report.run->state == c.states.back());
    for (std::size_t i = 1; i < f.clock.slept.size(); ++i) CHECK(f.clock.slept[i] >= f.clock.slept[i - 1]);
  }
}

TEST_CASE("wait: the timeout is exit 8, and --cancel-on-timeout terminates the run") {
  for (auto on_timeout : {publish::OnTimeout::keep_running, publish::OnTimeout::cancel}) {
    Fixture f;
    report::Report pub;
    auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
    f.api.states = {"RUNNING"};
    auto request = run_request();
    request.wait = true;
    request.wait_timeout = util::Milliseconds{30'000};
    request.on_timeout = on_timeout;
    report::Report report;
    try {
      f.flows.run(request, report, &published);
      FAIL("no timeout");
    } catch (const util::Error& e) {
      CHECK(e.kind() == util::ErrorKind::timeout);
    }
    const bool terminated = f.api.writes.back().rfind("terminate_run", 0) == 0;
    CHECK(terminated == (on_timeout == publish::OnTimeout::cancel));
  }
}

namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// Publishes, then starts a waited run whose status checks `get_run` answers.
std::optional<util::Failure> wait_with(Fixture& f,
                                       std::function<util::Result<api::Run>(const std::string&)> get_run,
                                       std::optional<util::Milliseconds> timeout = std::nullopt) {
  report::Report pub;
  auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
  f.api.get_run_hook = std::move(get_run);
  auto request = run_request();
  request.wait = true;
  request.wait_timeout = timeout;
  report::Report report;
  try {
    f.flows.run(request, report, &published);
  } catch (const util::Error& e) {
    return e.failure();
  }
  return std::nullopt;
}

util::Failure unavailable() {
  util::Failure failure =
      util::fail(util::ErrorKind::server, "get run: HTTP 503 from the server: upstream connect error");
  failure.http_status = 503;
  return failure;
}

api::Run run_in(std::string state) {
  return api::Run{"r1", "", std::move(state), {}};
}

// The longest stretch of fake time without a progress line, from the first one to the last line.
util::Milliseconds longest_silence(const TimedLog& log) {
  util::Milliseconds longest{0};
  std::optional<http::Clock::TimePoint> previous;
  for (const auto& line : log.lines) {
    if (!line.progress) continue;
    if (previous)
      longest = std::max(longest, std::chrono::duration_cast<util::Milliseconds>(line.at - *previous));
    previous = line.at;
  }
  return longest;
}

}  // namespace

TEST_CASE("wait: status checks failing for 4 minutes (an API server restart) are ridden out") {
  for (bool network : {true, false}) {
    CAPTURE(network);
    Fixture f;
    const auto start = f.clock.now();
    auto outcome = wait_with(f, [&](const std::string&) -> util::Result<api::Run> {
      const auto elapsed = f.clock.now() - start;
      if (elapsed < seconds(20)) return run_in("RUNNING");
      if (elapsed < minutes(4) + seconds(20)) {
        if (network) return util::fail(util::ErrorKind::network, "connection refused");
        return unavailable();
      }
      return run_in("SUCCEEDED");
    });
    CHECK_FALSE(outcome.has_value());
    bool warned = false;
    for (const auto& line : f.log.lines) warned = warned || line.level == util::LogLevel::warning;
    CHECK(warned);
  }
}

TEST_CASE("wait: status checks failing for longer than the budget end with their failure (exit 7)") {
  Fixture f;
  const auto start = f.clock.now();
  auto outcome = wait_with(f, [&](const std::string&) -> util::Result<api::Run> { return unavailable(); });
  REQUIRE(outcome.has_value());
  CHECK(outcome->kind == util::ErrorKind::server);
  CHECK(outcome->message.find("status checks failed for") != std::string::npos);
  const auto took = f.clock.now() - start;
  CHECK(took >= publish::default_status_failure_budget);
  CHECK(took <= publish::default_status_failure_budget + seconds(20));
}

TEST_CASE("wait: a failure that is an answer (403, 404) ends the wait at once") {
  for (auto kind : {util::ErrorKind::forbidden, util::ErrorKind::not_found}) {
    Fixture f;
    const auto start = f.clock.now();
    auto outcome = wait_with(f, [&](const std::string&) -> util::Result<api::Run> {
      util::Failure failure = util::fail(kind, "no");
      failure.http_status = kind == util::ErrorKind::forbidden ? 403 : 404;
      return failure;
    });
    REQUIRE(outcome.has_value());
    CHECK(outcome->kind == kind);
    CHECK(f.clock.now() - start < seconds(5));
  }
}

TEST_CASE("wait: a line at least every 30 s, while running and while status checks fail") {
  Fixture f;
  const auto start = f.clock.now();
  auto outcome = wait_with(f, [&](const std::string&) -> util::Result<api::Run> {
    f.clock.sleep_for(util::Milliseconds{700});  // each status check takes a while
    const auto elapsed = f.clock.now() - start;
    if (elapsed < minutes(10)) return run_in("RUNNING");
    if (elapsed < minutes(13)) return util::fail(util::ErrorKind::network, "connection reset by peer");
    if (elapsed < minutes(20)) return run_in("RUNNING");
    return run_in("SUCCEEDED");
  });
  CHECK_FALSE(outcome.has_value());
  CHECK(longest_silence(f.log) <= seconds(30));
  std::size_t unknown = 0;
  for (const auto& line : f.log.lines) {
    if (!line.progress) continue;
    CHECK(line.text.find("http://ui/#/runs/details/") != std::string::npos);
    if (line.text.find("state unknown") != std::string::npos) ++unknown;
  }
  CHECK(unknown >= 3);  // three minutes of failures, a line at least every 30 s
}

TEST_CASE("wait: --wait-timeout is a deadline, also while status checks fail") {
  for (bool failing : {false, true}) {
    CAPTURE(failing);
    Fixture f;
    const auto start = f.clock.now();
    const util::Milliseconds timeout{61'500};
    auto outcome = wait_with(
        f,
        [&](const std::string&) -> util::Result<api::Run> {
          if (failing) return util::fail(util::ErrorKind::network, "connection refused");
          return run_in("RUNNING");
        },
        timeout);
    REQUIRE(outcome.has_value());
    CHECK(outcome->kind == util::ErrorKind::timeout);
    CHECK(f.clock.now() - start >= timeout);
    CHECK(f.clock.now() - start <= timeout + seconds(1));
    if (failing) CHECK(outcome->message.find("state unknown") != std::string::npos);
  }
}

TEST_CASE("run descriptions fit VARCHAR(255) whatever the repository, and keep the run-key marker whole") {
  const std::string marker = publish::run_marker("github:o/r:1:1:job", "hello", "ci");
  for (std::size_t repo_length : {1, 20, 60, 100, 140, 200, 300}) {
    CAPTURE(repo_length);
    util::MapEnvironment env{{{"GITHUB_REPOSITORY", "owner/" + std::string(repo_length, 'r')},
                              {"GITHUB_SHA", std::string(40, 'c')},
                              {"GITHUB_RUN_ID", "12345678901"},
                              {"GITHUB_RUN_ATTEMPT", "3"}}};
    const auto provenance = publish::provenance_from(env);
    const std::string description = publish::run_description(marker, provenance);
    CHECK(description.size() <= 255);
    CHECK(description.find(marker) != std::string::npos);
    const bool url = description.find("/actions/runs/12345678901/attempts/3") != std::string::npos;
    const bool id = description.find("github-12345678901-3") != std::string::npos;
    CHECK(url == (repo_length <= 20));
    CHECK((url || id));  // the CI run is always named
  }
}

TEST_CASE("publish: tags over the server's 20, and keys it refuses, stop before any request") {
  std::vector<std::pair<std::string, std::string>> tags;
  for (int i = 0; i < 19; ++i) tags.emplace_back("k" + std::to_string(i), "v");
  publish::PublishRequest request{"hello", std::nullopt, "", tags, ""};
  CHECK_NOTHROW(publish::check_publish_request(request));
  request.tags.emplace_back("k19", "v");
  CHECK_THROWS_AS(publish::check_publish_request(request), util::Error);
  for (const auto& bad : std::vector<std::pair<std::string, std::string>>{{"", "v"},
                                                                          {"a.b", "v"},
                                                                          {std::string(64, 'k'), "v"},
                                                                          {"k", std::string(64, 'v')},
                                                                          {"kfp-publish-digest", "x"}}) {
    publish::PublishRequest one{"hello", std::nullopt, "", {bad}, ""};
    try {
      publish::check_publish_request(one);
      FAIL("accepted " << bad.first << "=" << bad.second);
    } catch (const util::Error& e) {
      CHECK(e.kind() == util::ErrorKind::usage);
    }
  }
  // 63 characters of two bytes each are within the limit: the server counts runes.
  std::string wide;
  for (int i = 0; i < 63; ++i) wide += "é";
  CHECK_NOTHROW(publish::check_publish_request({"hello", std::nullopt, "", {{"k", wide}}, ""}));
}

TEST_CASE("publish: 19 given tags leave no room for provenance tags, the digest tag is kept") {
  Fixture f;
  f.env = util::MapEnvironment{{{"GITHUB_SHA", std::string(40, 'c')}, {"GITHUB_REPOSITORY", "o/r"}}};
  std::vector<std::pair<std::string, std::string>> tags;
  for (int i = 0; i < 19; ++i) tags.emplace_back("k" + std::to_string(i), "v");
  report::Report report;
  f.flows.publish(make_package("a"), {"hello", std::nullopt, "", tags, ""}, report);
  REQUIRE(f.api.versions.size() == 1);
  CHECK(f.api.versions[0].tags.size() == 20);
  CHECK(f.api.versions[0].tags.count(api::digest_tag_key) == 1);
}

TEST_CASE("names: empty or over the release's limit are usage errors before any write") {
  SUBCASE("a 200-character version name: refused by 2.17 (127 bytes), stored by 2.5 (VARCHAR(255))") {
    for (bool newer : {true, false}) {
      Fixture f(newer);
      report::Report report;
      const publish::PublishRequest request{"hello", std::string(200, 'v'), "", {}, ""};
      if (newer) {
        try {
          f.flows.publish(make_package("a"), request, report);
          FAIL("accepted");
        } catch (const util::Error& e) {
          CHECK(e.kind() == util::ErrorKind::usage);
          CHECK(e.failure().message.find("validation/length.go:47") != std::string::npos);
        }
        CHECK(f.api.writes.empty());
      } else {
        f.flows.publish(make_package("a"), request, report);
        CHECK(f.api.writes.size() == 2);
      }
    }
  }
  SUBCASE("an empty experiment, a 256-character run name: refused before anything is written") {
    Fixture f;
    report::Report pub;
    auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
    const auto writes = f.api.writes.size();
    for (int which = 0; which < 2; ++which) {
      auto request = run_request();
      if (which == 0) request.experiment.clear();
      if (which == 1) request.run_name = std::string(256, 'n');
      report::Report report;
      CHECK_THROWS_AS(f.flows.run(request, report, &published), util::Error);
      CHECK(f.api.writes.size() == writes);
    }
  }
}
