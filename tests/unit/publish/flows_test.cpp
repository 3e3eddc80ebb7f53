#include "publish/flows.hpp"

#include "unit/api/fake_transport.hpp"

#include <doctest/doctest.h>

#include <deque>
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

struct Fixture {
  explicit Fixture(bool tags = true) : api(tags) {}
  FakeApi api;
  util::MapEnvironment env{{{"KFP_RUN_KEY", "ci-run-1"}}};
  util::MemoryLog log;
  test::FakeClock clock;
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
