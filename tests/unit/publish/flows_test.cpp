#include "publish/flows.hpp"

#include "unit/api/fake_transport.hpp"
#include "unit/api/workflow_fixture.hpp"
#include "unit/publish/fake_api.hpp"

#include <doctest/doctest.h>
#include <fmt/chrono.h>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <utility>

using namespace kfp;

namespace {

using test::FakeApi;
using test::make_package;

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
  [[nodiscard]] bool redraws_progress() const override { return live; }
  bool live = false;  // as a terminal's log: the status line may be redrawn at will
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
  explicit Fixture(bool tags = true) : api(tags) { api.clock = &clock; }
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

// The failure `work` ended with, or nothing when it returned.
template <class Work>
std::optional<util::Failure> failure_of(Work&& work) {
  try {
    work();
  } catch (const util::Error& e) {
    return e.failure();
  }
  return std::nullopt;
}

// The kind of the failure `work` ended with, or nothing when it returned.
template <class Work>
std::optional<util::ErrorKind> kind_of(Work&& work) {
  auto failure = failure_of(std::forward<Work>(work));
  if (!failure) return std::nullopt;
  return failure->kind;
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
  publish::Flows retried(f.api, "team-a", f.env, f.log, f.clock);  // a retried Job: another invocation
  retried.run(run_request(), second, &published);
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
    f.env = util::MapEnvironment{{{"KFP_RUN_KEY", "ci-run-1"}, {"KFP_RUN_SETTLE_WINDOW", "0s"}}};
    report::Report pub;
    auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
    f.api.states = c.states;
    auto request = run_request();
    request.wait = true;
    report::Report report;
    CHECK(kind_of([&] { f.flows.run(request, report, &published); }) == c.kind);
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
  return failure_of([&] { f.flows.run(request, report, &published); });
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
  CHECK(took <= publish::default_status_failure_budget + publish::default_settle_window + seconds(20));
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
    // Every status check was bounded by the time left (and by the next heartbeat).
    REQUIRE(f.api.polled_at.size() == f.api.polled_within.size());
    for (std::size_t i = 0; i < f.api.polled_at.size(); ++i) {
      REQUIRE(f.api.polled_within[i].has_value());
      CHECK(f.api.polled_at[i] + *f.api.polled_within[i] <= start + timeout);
      CHECK(*f.api.polled_within[i] <= publish::heartbeat_interval);
    }
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
    const std::string description =
        publish::run_description(marker, "kfp-publish-attempt:0123456789abcdef", provenance);
    CHECK(description.size() <= 255);
    CHECK(description.find(marker) != std::string::npos);
    CHECK(description.find("kfp-publish-attempt:0123456789abcdef") != std::string::npos);
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

// Exactly once under concurrency: several invocations with one run key (issue 15).
namespace {

// A run another invocation created with this run key.
api::Run other_run(const FakeApi& api, const std::string& marker, std::string id, std::string created_at,
                   std::string state = "RUNNING") {
  api::Run run{std::move(id), "hello-other", std::move(state), {}, std::move(created_at)};
  run.description = "Started by kfp-publish. " + marker + " kfp-publish-attempt:00000000000000aa";
  run.parameters = boost::json::object{{"message", "hi"}};
  (void)api;
  return run;
}

std::string key_marker() {
  return publish::run_marker("ci-run-1", "hello", "ci");
}

bool wrote(const FakeApi& api, const std::string& write) {
  return std::find(api.writes.begin(), api.writes.end(), write) != api.writes.end();
}

}  // namespace

TEST_CASE("concurrency: an older run made with the same key at the same time wins; ours is ended") {
  for (bool same_second : {true, false}) {
    CAPTURE(same_second);
    Fixture f;
    report::Report pub;
    auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
    // The other invocation's create was stamped first (or in the same second, with a smaller id:
    // the server's order) and committed while ours was in flight.
    f.api.on_create_run = [&](const api::Run& ours) {
      f.api.runs.push_back(
          other_run(f.api, key_marker(), "a-first", same_second ? ours.created_at : "1990-01-01T00:00:00Z"));
    };
    report::Report report;
    f.flows.run(run_request(), report, &published);
    CHECK(report.run->id == "a-first");
    CHECK(report.run->created == std::optional<bool>(false));
    CHECK(report.outcome == report::Outcome::unchanged);
    CHECK(wrote(f.api, "terminate_run r1"));
    CHECK(wrote(f.api, "archive_run r1"));
    CHECK_FALSE(wrote(f.api, "terminate_run a-first"));
  }
}

TEST_CASE("concurrency: a run stamped earlier but listed only later is still seen within the settle window") {
  for (const char* window : {"5s", "0s"}) {
    CAPTURE(window);
    Fixture f;
    f.env = util::MapEnvironment{{{"KFP_RUN_KEY", "ci-run-1"}, {"KFP_RUN_SETTLE_WINDOW", window}}};
    report::Report pub;
    auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
    f.api.on_create_run = [&](const api::Run&) {
      // Stamped before ours; its workflow took 3 s to create, so its row shows 3 s later.
      f.api.runs.push_back(other_run(f.api, key_marker(), "z-first", "1990-01-01T00:00:00Z"));
      f.api.visible_at["z-first"] = f.clock.now() + std::chrono::seconds(3);
    };
    report::Report report;
    f.flows.run(run_request(), report, &published);
    if (std::string(window) == "5s") {
      CHECK(report.run->id == "z-first");
      CHECK(wrote(f.api, "terminate_run r1"));
    } else {
      // The assumption broken (commits later than the window): both invocations would keep a run.
      CHECK(report.run->id == "r1");
    }
  }
}

TEST_CASE(
    "concurrency: a newer run by another invocation loses to ours, which stays; theirs is theirs to end") {
  Fixture f;
  report::Report pub;
  auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
  f.api.on_create_run = [&](const api::Run&) {
    f.api.runs.push_back(other_run(f.api, key_marker(), "later", "2999-01-01T00:00:00Z"));
  };
  report::Report report;
  f.flows.run(run_request(), report, &published);
  CHECK(report.run->id == "r1");
  CHECK(report.run->created == std::optional<bool>(true));
  CHECK(report.outcome == report::Outcome::created);
  CHECK_FALSE(wrote(f.api, "terminate_run later"));
  CHECK_FALSE(wrote(f.api, "terminate_run r1"));
}

TEST_CASE("concurrency: two runs of our own (a create re-sent after its answer was lost): the older stays") {
  Fixture f;
  report::Report pub;
  auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
  f.api.on_create_run = [&](const api::Run& ours) {
    api::Run earlier = ours;
    earlier.id = "a-earlier";  // same second, smaller id
    f.api.runs.push_back(earlier);
  };
  report::Report report;
  f.flows.run(run_request(), report, &published);
  CHECK(report.run->id == "a-earlier");
  CHECK(report.run->created == std::optional<bool>(true));  // it carries this invocation's marker
  CHECK(wrote(f.api, "terminate_run r1"));
}

TEST_CASE("concurrency: with --wait, the check happens before the end even when the run finished first") {
  Fixture f;
  report::Report pub;
  auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
  f.api.states = {"SUCCEEDED"};
  f.api.on_create_run = [&](const api::Run& ours) {
    f.api.runs.push_back(other_run(f.api, key_marker(), "a-first", ours.created_at, "FAILED"));
  };
  auto request = run_request();
  request.wait = true;
  report::Report report;
  const auto kind = kind_of([&] { f.flows.run(request, report, &published); });
  // The winner is followed to its end: it failed, so the command does.
  CHECK(report.run->id == "a-first");
  CHECK(kind == util::ErrorKind::run_failed);
  CHECK(wrote(f.api, "terminate_run r1"));
}

TEST_CASE("a run key reused with other parameters is a conflict, and nothing is created") {
  Fixture f;
  report::Report pub;
  auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
  auto earlier = other_run(f.api, key_marker(), "r-old", "2000-01-01T00:00:00Z");
  earlier.parameters = boost::json::object{{"message", "bye"}};
  f.api.runs.push_back(earlier);
  report::Report report;
  try {
    f.flows.run(run_request(), report, &published);
    FAIL("no conflict");
  } catch (const util::Error& e) {
    CHECK(e.kind() == util::ErrorKind::conflict);
  }
  for (const auto& write : f.api.writes) CHECK(write.rfind("create_run", 0) != 0);
  // The same parameters as the server answers them (numbers as doubles, v1 strings) are the same.
  CHECK(publish::same_parameters({{"n", 3}, {"l", boost::json::array{1, 2}}},
                                 {{"n", 3.0}, {"l", boost::json::array{1.0, 2.0}}}));
  CHECK(publish::same_parameters({{"n", 3}, {"l", boost::json::array{1, 2}}}, {{"n", "3"}, {"l", "[1,2]"}}));
  CHECK_FALSE(publish::same_parameters({{"n", 3}}, {{"n", 4}}));
  CHECK_FALSE(publish::same_parameters({{"n", 3}}, {{"n", 3}, {"m", 1}}));
}

TEST_CASE(
    "concurrency: two contents under one --version: the one that meets the other's is a conflict (exit 6)") {
  for (bool same_content : {false, true}) {
    CAPTURE(same_content);
    Fixture f;
    report::Report first;
    f.flows.publish(make_package("a"), {"hello", std::string("v1"), "", {}, ""}, first);
    // Another invocation looked before that upload was visible, so it uploads too; the server
    // keeps the first and answers the second with 409 (the fake: found_existing).
    f.api.hide_versions = true;
    publish::Flows racing(f.api, "team-a", f.env, f.log, f.clock);
    report::Report second;
    const auto kind = kind_of([&] {
      racing.publish(make_package(same_content ? "a" : "bb"), {"hello", std::string("v1"), "", {}, ""},
                     second);
    });
    CHECK(f.api.writes.back() == "upload_version v1");
    if (same_content) {
      CHECK_FALSE(kind.has_value());
      CHECK(second.version->created == std::optional<bool>(false));
      CHECK(second.outcome == report::Outcome::unchanged);
    } else {
      CHECK(kind == util::ErrorKind::conflict);
    }
  }
}

TEST_CASE("concurrency: a --wait-timeout shorter than the settle window still leaves one run") {
  Fixture f;
  report::Report pub;
  auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
  f.api.on_create_run = [&](const api::Run& ours) {
    f.api.runs.push_back(other_run(f.api, key_marker(), "a-first", ours.created_at));
  };
  auto request = run_request();
  request.wait = true;
  request.wait_timeout = util::Milliseconds{2000};
  report::Report report;
  CHECK(kind_of([&] { f.flows.run(request, report, &published); }) == util::ErrorKind::timeout);
  CHECK(report.run->id == "a-first");
  CHECK(wrote(f.api, "terminate_run r1"));
}

TEST_CASE(
    "shared pipeline: published and found without a namespace; experiment and run stay in the namespace") {
  Fixture f;
  report::Report pub;
  publish::PublishRequest shared{"hello", std::nullopt, "", {}, "", publish::PipelineScope::shared};
  auto published = f.flows.publish(make_package("a"), shared, pub);
  REQUIRE(f.api.pipelines.size() == 1);
  CHECK(f.api.pipelines[0].namespace_name.empty());
  // Published again: found among the shared pipelines, nothing uploaded.
  report::Report again;
  f.flows.publish(make_package("a"), shared, again);
  CHECK(again.outcome == report::Outcome::unchanged);
  CHECK(f.api.pipelines.size() == 1);

  // A run of the published pipeline looks it up (the fake's versions declare no inputs).
  auto request = run_request();
  request.parameters.assignments.clear();
  request.pipeline_scope = publish::PipelineScope::shared;
  report::Report report;
  f.flows.run(request, report);
  CHECK(report.run->created == std::optional<bool>(true));
  REQUIRE(f.api.experiments.size() == 1);
  CHECK(f.api.experiments[0].namespace_name == "team-a");

  // Looked up in the namespace, the shared pipeline is not there, and the hint says why.
  report::Report namespaced;
  request.pipeline_scope = publish::PipelineScope::namespaced;
  try {
    f.flows.run(request, namespaced);
    FAIL("found");
  } catch (const util::Error& e) {
    CHECK(e.kind() == util::ErrorKind::not_found);
    CHECK(e.failure().message.find("in namespace team-a") != std::string::npos);
    CHECK(e.failure().hint.find("--shared-pipeline") != std::string::npos);
  }
}

TEST_CASE("publish: the code source URL is recorded in the description, never with its credentials") {
  for (bool given : {true, false}) {
    CAPTURE(given);
    Fixture f;
    std::string url;
    if (given) {
      url = "https://x-access-token:ghs_SECRET@github.com/o/r/tree/abc?token=SECRET&ref=main";
    } else {
      // Derived from the CI's variables: a server URL with credentials in it.
      f.env = util::MapEnvironment{{{"GITHUB_SERVER_URL", "https://ci:SECRET@ghe.example.com"},
                                    {"GITHUB_REPOSITORY", "o/r"},
                                    {"GITHUB_SHA", "abc"},
                                    {"GITHUB_RUN_ID", "7"}}};
    }
    report::Report report;
    f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, url}, report);
    REQUIRE(f.api.versions.size() == 1);
    const std::string& description = f.api.versions[0].description;
    const std::string source =
        given ? "https://github.com/o/r/tree/abc?ref=main" : "https://ghe.example.com/o/r/tree/abc";
    CHECK(description.find("\nsource: " + source + "\ndigest: sha256:") != std::string::npos);
    CHECK(description.find("SECRET") == std::string::npos);
    if (given) {
      const bool said = std::any_of(f.log.lines.begin(), f.log.lines.end(), [](const auto& line) {
        return line.text.find("credentials (user info, query parameter token)") != std::string::npos &&
               line.text.find("SECRET") == std::string::npos;
      });
      CHECK(said);
    }
    // The digest and the attempt marker still work beside it: the same package is unchanged.
    report::Report again;
    f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, url}, again);
    CHECK(again.outcome == report::Outcome::unchanged);
    CHECK(f.api.versions.size() == 1);
  }
}

TEST_CASE("publish: a code source URL over 1024 bytes: given, refused before any write; derived, left out") {
  const std::string long_url = "https://git.example.com/" + std::string(1001, 'u');
  CHECK_NOTHROW(publish::check_publish_request({"hello", std::nullopt, "", {}, long_url.substr(0, 1024)}));
  try {
    publish::check_publish_request({"hello", std::nullopt, "", {}, long_url});
    FAIL("accepted");
  } catch (const util::Error& e) {
    CHECK(e.kind() == util::ErrorKind::usage);
    CHECK(e.failure().message.find("1025 bytes") != std::string::npos);
  }
  // A long URL whose credentials take it over the budget is measured without them.
  CHECK_NOTHROW(publish::check_publish_request(
      {"hello", std::nullopt, "", {}, "https://u:" + std::string(2000, 'p') + "@git.example.com/o/r"}));

  Fixture f;
  f.env = util::MapEnvironment{
      {{"GITHUB_REPOSITORY", "o/" + std::string(1000, 'r')}, {"GITHUB_SHA", "abc"}, {"GITHUB_RUN_ID", "7"}}};
  report::Report report;
  f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, report);
  REQUIRE(f.api.versions.size() == 1);
  CHECK(f.api.versions[0].description.find("\nsource: ") == std::string::npos);
  CHECK(f.api.versions[0].description.find("\ndigest: sha256:") != std::string::npos);
}

namespace {

api::Run run_with_tasks(std::string state, const std::string& manifest) {
  api::Run run = run_in(std::move(state));
  run.tasks = api::parse_workflow_manifest(manifest);
  REQUIRE(run.tasks.has_value());
  return run;
}

// A KFP 1.8-shaped run whose own answer carries the workflow: flaky fails while report runs.
std::function<util::Result<api::Run>(const std::string&)> failing_v1_run(int& polls) {
  return [&polls](const std::string&) -> util::Result<api::Run> {
    ++polls;
    return run_with_tasks(polls < 4 ? "RUNNING" : "FAILED", test::v1_retry_failure_workflow());
  };
}

struct TaskWait {
  std::optional<util::Failure> failure;
  report::Report report;
};

TaskWait wait_for_tasks(Fixture& f, std::function<util::Result<api::Run>(const std::string&)> get_run,
                        std::optional<std::size_t> lines = std::nullopt) {
  report::Report pub;
  auto published = f.flows.publish(make_package("a"), {"hello", std::nullopt, "", {}, ""}, pub);
  f.api.get_run_hook = std::move(get_run);
  auto request = run_request();
  request.wait = true;
  request.failure_log_lines = lines;
  TaskWait wait;
  wait.failure = failure_of([&] { f.flows.run(request, wait.report, &published); });
  return wait;
}

}  // namespace

TEST_CASE(
    "wait: a failed run reports its tasks, the failed one with its log tail, and names it in the error") {
  Fixture f;
  int polls = 0;
  f.api.read_log_hook = [](const std::string& node) -> util::Result<api::TaskLog> {
    return api::TaskLog{"log of " + node, ""};
  };
  auto wait = wait_for_tasks(f, failing_v1_run(polls));
  REQUIRE(wait.failure.has_value());
  CHECK(wait.failure->kind == util::ErrorKind::run_failed);
  CHECK(wait.failure->message.find("failed task flaky: Error (exit code 3)") != std::string::npos);
  const auto& run = *wait.report.run;
  REQUIRE(run.tasks.has_value());
  CHECK(run.tasks->total == 3);
  CHECK(run.tasks->running_tasks == std::vector<std::string>{"report"});
  REQUIRE(run.failed_tasks.has_value());
  REQUIRE(run.failed_tasks->size() == 1);
  const auto& task = run.failed_tasks->front();
  CHECK(task.path == "flaky");
  CHECK(task.node_id == "pipe-x-22");
  CHECK(task.log_tail == "log of pipe-x-22");
  CHECK_FALSE(task.log_error.has_value());
  CHECK(f.api.log_reads == std::vector<std::pair<std::string, std::size_t>>{{"pipe-x-22", 50}});
  // A log read is bounded in time: the run's end is known, a trickling log must not hold the job.
  REQUIRE(f.api.log_read_within.size() == 1);
  CHECK(f.api.log_read_within[0] == util::Milliseconds{60'000});
  CHECK(run.graph.has_value());
  // The run's own answer had the workflow: read only after the status check that was the run key's
  // listing, whose runs carry no tasks (the first listing is the look-up before the create).
  CHECK(f.api.workflow_reads == static_cast<int>(f.api.listings.size()) - 1);
  // The failure was said once, as it happened, though every status check showed it.
  std::size_t said = 0;
  for (const auto& line : f.log.lines) {
    if (line.text == "task flaky FAILED: Error (exit code 3)") ++said;
  }
  CHECK(said == 1);
  // The heartbeat carries the tasks.
  bool counted = false;
  for (const auto& line : f.log.lines) {
    if (line.progress &&
        line.text.find("tasks 2/3 done (1 succeeded, 1 failed), 1 running: report") != std::string::npos)
      counted = true;
  }
  CHECK(counted);
}

TEST_CASE("wait: a log that cannot be read is said so and changes nothing else") {
  for (bool in_body : {false, true}) {
    Fixture f;
    int polls = 0;
    f.api.read_log_hook = [in_body](const std::string&) -> util::Result<api::TaskLog> {
      if (in_body) return api::TaskLog{"", "pods \"pipe-x-22\" not found"};
      return util::fail(util::ErrorKind::server, "read the log of pipe-x-22: HTTP 500");
    };
    auto wait = wait_for_tasks(f, failing_v1_run(polls));
    REQUIRE(wait.failure.has_value());
    CHECK(wait.failure->kind == util::ErrorKind::run_failed);
    const auto& task = wait.report.run->failed_tasks->front();
    REQUIRE(task.log_error.has_value());
    CHECK(task.log_error->find(in_body ? "not found" : "HTTP 500") != std::string::npos);
  }
}

TEST_CASE(
    "wait: --failure-log-lines 0 reads no log; KFP_FAILURE_LOG_LINES sets the count; a bad value is usage") {
  {
    Fixture f;
    int polls = 0;
    auto wait = wait_for_tasks(f, failing_v1_run(polls), 0);
    CHECK(f.api.log_reads.empty());
    CHECK(wait.report.run->failed_tasks->front().log_tail.empty());
    CHECK_FALSE(wait.report.run->failed_tasks->front().log_error.has_value());
  }
  {
    Fixture f;
    f.env = util::MapEnvironment{{{"KFP_RUN_KEY", "ci-run-1"}, {"KFP_FAILURE_LOG_LINES", "7"}}};
    int polls = 0;
    auto wait = wait_for_tasks(f, failing_v1_run(polls));
    REQUIRE(f.api.log_reads.size() == 1);
    CHECK(f.api.log_reads[0].second == 7);
  }
  {
    Fixture f;
    f.env = util::MapEnvironment{{{"KFP_RUN_KEY", "ci-run-1"}, {"KFP_FAILURE_LOG_LINES", "lots"}}};
    int polls = 0;
    auto wait = wait_for_tasks(f, failing_v1_run(polls));
    REQUIRE(wait.failure.has_value());
    CHECK(wait.failure->kind == util::ErrorKind::usage);
  }
}

TEST_CASE("wait: on v2beta1 a flat task list is completed by the workflow, one read per status check") {
  Fixture g;
  int g_polls = 0;
  g.api.get_run_workflow_hook = [](const std::string&) -> util::Result<std::optional<api::RunTasks>> {
    return api::parse_workflow_manifest(test::v2_loop_failure_workflow());
  };
  auto second = wait_for_tasks(g, [&](const std::string&) -> util::Result<api::Run> {
    ++g_polls;
    api::Run run = run_in(g_polls < 3 ? "RUNNING" : "FAILED");
    run.tasks = api::RunTasks{};
    return run;
  });
  REQUIRE(second.report.run->failed_tasks.has_value());
  CHECK(second.report.run->failed_tasks->front().path == "outer-dag/for-loop-2[1]/train");
  // One workflow read per status check: the run's reads and the run key's listing (the first
  // listing is the look-up before the create).
  CHECK(g.api.workflow_reads == g_polls + static_cast<int>(g.api.listings.size()) - 1);
}

TEST_CASE(
    "wait: a workflow that cannot be read (403) is not asked again, and the run's state still decides") {
  Fixture f;
  f.api.get_run_workflow_hook = [](const std::string&) -> util::Result<std::optional<api::RunTasks>> {
    util::Failure failure = util::fail(util::ErrorKind::forbidden, "get run r1: HTTP 403");
    failure.http_status = 403;
    return failure;
  };
  int polls = 0;
  auto wait = wait_for_tasks(f, [&](const std::string&) -> util::Result<api::Run> {
    ++polls;
    return run_in(polls < 4 ? "RUNNING" : "SUCCEEDED");
  });
  CHECK_FALSE(wait.failure.has_value());
  CHECK(f.api.workflow_reads == 1);
  CHECK_FALSE(wait.report.run->tasks.has_value());
}

TEST_CASE("wait: a CANCELED run lists its failed tasks too (present, maybe empty)") {
  Fixture f;
  auto wait =
      wait_for_tasks(f, [](const std::string&) -> util::Result<api::Run> { return run_in("CANCELED"); });
  REQUIRE(wait.failure.has_value());
  CHECK(wait.failure->kind == util::ErrorKind::run_canceled);
  REQUIRE(wait.report.run->failed_tasks.has_value());
  CHECK(wait.report.run->failed_tasks->empty());
}

TEST_CASE("wait: on a terminal the status line is redrawn every second; in a CI log only at heartbeats") {
  for (bool live : {true, false}) {
    Fixture f;
    f.log.live = live;
    const auto start = f.clock.now();
    auto outcome = wait_with(f, [&](const std::string&) -> util::Result<api::Run> {
      return run_in(f.clock.now() - start < seconds(60) ? "RUNNING" : "SUCCEEDED");
    });
    CHECK_FALSE(outcome.has_value());
    std::size_t progress = 0;
    for (const auto& line : f.log.lines) progress += line.progress ? 1 : 0;
    if (live) {
      CHECK(progress >= 55);  // about one a second for a minute
      CHECK(longest_silence(f.log) <= seconds(1));
    } else {
      CHECK(progress <= 8);  // the state changes and a heartbeat every 25 s
    }
  }
}
