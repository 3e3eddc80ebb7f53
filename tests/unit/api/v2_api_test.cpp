#include "api/kfp_api.hpp"

#include "unit/api/fake_transport.hpp"
#include "unit/api/sent_request.hpp"

#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>

using namespace kfp;
using test::body_of;
using test::filter_of;
using test::path_of;
using test::query_of;

namespace {

struct Fixture : test::FakeConnection {
  explicit Fixture(std::string version = "2.17.0")
      : FakeConnection(test::connection_options("http://kfp.example:8888", 2)) {
    auto made = api::make_api(connection, test::server_info("v2beta1", std::move(version)));
    REQUIRE(made.has_value());
    api = std::move(*made);
  }

  std::unique_ptr<api::KfpApi> api;
};

boost::json::value substring(std::string key, std::string value) {
  return boost::json::value{
      {"predicates",
       boost::json::array{boost::json::object{
           {"key", std::move(key)}, {"operation", "IS_SUBSTRING"}, {"string_value", std::move(value)}}}}};
}

constexpr const char* marker = "kfp-publish-run-key:0123";

api::UploadVersion version_upload(std::string pipeline_id, std::string name) {
  api::UploadVersion upload;
  upload.pipeline_id = std::move(pipeline_id);
  upload.name = std::move(name);
  upload.filename = "pipeline.yaml";
  upload.content = http::BodyPiece{std::string("x: 1\n")};
  return upload;
}

}  // namespace

TEST_CASE("v2: a pipeline is found by name in the namespace; 404 means there is none") {
  Fixture f;
  f.transport.answer(200,
                     R"({"pipeline_id":"p1","name":"hello","display_name":"hello","namespace":"team-a"})");
  f.transport.answer(404, R"({"code":5,"message":"Pipeline hello not found"})");
  auto found = f.api->find_pipeline("hello world", "team-a");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->id == "p1");
  CHECK((*found)->namespace_name == "team-a");
  CHECK(path_of(f.sent(0)) == "/apis/v2beta1/pipelines/names/hello%20world");
  CHECK(query_of(f.sent(0))["namespace"] == "team-a");
  auto missing = f.api->find_pipeline("hello", "team-a");
  REQUIRE(missing.has_value());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("v2: up to 2.5 a pipeline has only display_name, which is its name") {
  Fixture f("2.5.0");
  f.transport.answer(200, R"({"pipeline_id":"p1","display_name":"hello"})");
  auto found = f.api->find_pipeline("hello", "");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->name == "hello");
  CHECK_FALSE(query_of(f.sent(0)).contains("namespace"));
}

TEST_CASE("v2: a pipeline create whose answer was lost is found by name, not sent again") {
  Fixture f;
  f.transport.fail_network();
  f.transport.answer(200, R"({"pipeline_id":"p7","name":"hello","namespace":"team-a"})");
  auto made = f.api->create_pipeline("hello", "about", "team-a");
  REQUIRE(made.has_value());
  CHECK(made->id == "p7");
  REQUIRE(f.transport.sent.size() == 2);
  CHECK(body_of(f.sent(0)) ==
        boost::json::parse(
            R"({"name":"hello","display_name":"hello","description":"about","namespace":"team-a"})"));
  CHECK(path_of(f.sent(1)) == "/apis/v2beta1/pipelines/names/hello");
}

TEST_CASE("v2: tags and the digest tag filter only where the server has tags (2.17+)") {
  api::UploadVersion upload;
  upload.pipeline_id = "p1";
  upload.name = "sha256-abc";
  upload.description = "digest: sha256:abc";
  upload.tags = {{"kfp-publish-digest", "sha256:abc"}};
  upload.filename = "pipeline.yaml";
  upload.content = http::BodyPiece{std::string("x: 1\n")};
  const char* version = R"({"pipeline_version_id":"v1","pipeline_id":"p1","name":"sha256-abc"})";
  SUBCASE("2.17") {
    Fixture f("2.17.0");
    f.transport.answer(200, version);
    f.transport.answer(200, "{}");
    REQUIRE(f.api->upload_version(upload).has_value());
    CHECK(query_of(f.sent(0))["tags"] == R"({"kfp-publish-digest":"sha256:abc"})");
    REQUIRE(f.api->find_version_by_digest("p1", "sha256:abc").has_value());
    CHECK(filter_of(f.sent(1)).at("predicates").at(0).at("key") == "tags.kfp-publish-digest");
  }
  SUBCASE("2.5") {
    Fixture f("2.5.0");
    f.transport.answer(200, version);
    f.transport.answer(200, "{}");
    REQUIRE(f.api->upload_version(upload).has_value());
    CHECK_FALSE(query_of(f.sent(0)).contains("tags"));
    REQUIRE(f.api->find_version_by_digest("p1", "sha256:abc").has_value());
    CHECK(filter_of(f.sent(1)) == substring("description", "sha256:abc"));
  }
}

TEST_CASE("v2: every run with a run key is listed, across pages, oldest first with ties broken by id") {
  Fixture f;
  f.transport.answer(200, R"({"runs":[
      {"run_id":"r-b","display_name":"x","state":"RUNNING","created_at":"2025-05-01T10:00:01Z"},
      {"run_id":"r-c","display_name":"x","state":"PENDING","created_at":"2025-05-01T10:00:00Z"}],
    "next_page_token":"T1"})");
  f.transport.answer(200, R"({"runs":[
      {"run_id":"r-a","display_name":"x","created_at":"2025-05-01T10:00:01Z"}]})");
  auto runs = f.api->list_runs_with_marker("e1", "team-a", marker);
  REQUIRE(runs.has_value());
  REQUIRE(runs->size() == 3);
  CHECK((*runs)[0].id == "r-c");
  CHECK((*runs)[1].id == "r-a");  // same second as r-b: the id decides, as the server's sort does
  CHECK((*runs)[2].id == "r-b");
  CHECK((*runs)[0].created_at == "2025-05-01T10:00:00Z");
  CHECK((*runs)[1].state == "PENDING");
  const auto query = query_of(f.sent(0));
  CHECK(path_of(f.sent(0)) == "/apis/v2beta1/runs");
  CHECK(query.at("experiment_id") == "e1");
  CHECK(query.at("namespace") == "team-a");
  CHECK(query.at("sort_by") == "created_at");
  CHECK(query.at("page_size") == "200");
  CHECK(filter_of(f.sent(0)) == substring("description", marker));
  auto second = query_of(f.sent(1));
  CHECK(second.at("page_token") == "T1");
  CHECK(second.at("filter") == query.at("filter"));  // the server refuses a token with other criteria
}

TEST_CASE("v2: no run with the key is an empty list, not a failure") {
  Fixture f;
  f.transport.answer(200, "{}");
  auto runs = f.api->list_runs_with_marker("e1", "team-a", marker);
  REQUIRE(runs.has_value());
  CHECK(runs->empty());
}

TEST_CASE("v2: find_run asks for the oldest run with the key") {
  Fixture f;
  f.transport.answer(200,
                     R"({"runs":[{"run_id":"r1","created_at":"2025-05-01T10:00:00Z","state":"SUCCEEDED"}]})");
  auto found = f.api->find_run("e1", "team-a", marker);
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->id == "r1");
  CHECK((*found)->created_at == "2025-05-01T10:00:00Z");
  auto query = query_of(f.sent(0));
  CHECK(query.at("sort_by") == "created_at");
  CHECK(query.at("page_size") == "1");
}

TEST_CASE("v2: a run carries typed parameters in runtime_config; a lost create is found by its key") {
  Fixture f;
  f.transport.fail_network();
  f.transport.answer(200, R"({"runs":[{"run_id":"r5","display_name":"hello-1","state":"RUNNING"}]})");
  api::CreateRun create;
  create.name = "hello-1";
  create.description = std::string("Started by kfp-publish. ") + marker;
  create.experiment_id = "e1";
  create.pipeline_id = "p1";
  create.version_id = "v1";
  create.parameters = {{"epochs", 3}, {"flag", true}};
  create.pipeline_root = "minio://mlpipeline/v2";
  create.pipeline_kind = api::PipelineKind::pipeline_spec;
  auto run = f.api->create_run(create, "team-a", marker);
  REQUIRE(run.has_value());
  CHECK(run->id == "r5");
  CHECK(run->state == "RUNNING");
  REQUIRE(f.transport.sent.size() == 2);
  CHECK(body_of(f.sent(0)) == boost::json::parse(R"({
    "display_name":"hello-1","description":"Started by kfp-publish. kfp-publish-run-key:0123",
    "experiment_id":"e1","pipeline_version_reference":{"pipeline_id":"p1","pipeline_version_id":"v1"},
    "runtime_config":{"parameters":{"epochs":3,"flag":true},"pipeline_root":"minio://mlpipeline/v2"}})"));
  CHECK(filter_of(f.sent(1)) == substring("description", marker));
}

TEST_CASE("v2: terminate uses the colon verb; recurring runs are listed under recurringRuns") {
  Fixture f;
  f.transport.answer(200, "{}");
  f.transport.answer(200, R"({"recurringRuns":[{"recurring_run_id":"j1","display_name":"nightly",
    "max_concurrency":"2","mode":"ENABLE","trigger":{"periodic_schedule":{"interval_second":"3600"}}}]})");
  REQUIRE(f.api->terminate_run("r1").has_value());
  CHECK(path_of(f.sent(0)) == "/apis/v2beta1/runs/r1:terminate");
  CHECK(f.sent(0).method == http::Method::post);
  auto job = f.api->find_recurring_run("nightly", "team-a");
  REQUIRE(job.has_value());
  REQUIRE(job->has_value());
  CHECK((*job)->id == "j1");
  CHECK((*job)->max_concurrency == 2);
  CHECK((*job)->interval_seconds == 3600);
  CHECK((*job)->enabled);
}

TEST_CASE("v2: 2.15's generic 400 on upload_version is read after a look at the pipeline") {
  const api::UploadVersion upload = version_upload("p1", "v");
  const char* generic =
      R"({"error_message":"Failed to create a pipeline version","error_details":"Failed to create a pipeline version"})";
  SUBCASE("the pipeline is there: the create was not authorized") {
    Fixture f("2.15.0");
    f.transport.answer(400, generic);
    f.transport.answer(200, R"({"pipeline_id":"p1","name":"hello"})");
    auto version = f.api->upload_version(upload);
    REQUIRE_FALSE(version.has_value());
    CHECK(version.error().kind == util::ErrorKind::forbidden);
    CHECK(path_of(f.sent(1)) == "/apis/v2beta1/pipelines/p1");
  }
  SUBCASE("the pipeline is gone") {
    Fixture f("2.15.0");
    f.transport.answer(400, generic);
    f.transport.answer(404, R"({"code":5,"message":"Pipeline p1 not found"})");
    auto version = f.api->upload_version(upload);
    REQUIRE_FALSE(version.has_value());
    CHECK(version.error().kind == util::ErrorKind::not_found);
  }
  SUBCASE("2.5 names the cause: no second look") {
    Fixture f("2.5.0");
    f.transport.answer(
        400,
        R"({"error_message":"Failed to create a pipeline version due to authorization error: Authorization Failure: User 'x' is not authorized","error_details":""})");
    auto version = f.api->upload_version(upload);
    REQUIRE_FALSE(version.has_value());
    CHECK(version.error().kind == util::ErrorKind::forbidden);
    CHECK(f.transport.sent.size() == 1);
  }
}

TEST_CASE("v2: 2.0's 500 for a duplicate version upload is resolved by the look-up, else it is a conflict") {
  // kfp-2.0.5 server/pipeline_upload_server.go:224-227 has no 409 branch (2.3 added it).
  const api::UploadVersion upload = version_upload("p1", "v1");
  const char* duplicate =
      R"({"error_message":"Failed to create a pipeline version: Failed to create pipeline version in PipelineStore: Already exist error: Failed to create a new pipeline version. The name v1 already exist. Specify a new name","error_details":"..."})";
  SUBCASE("another process made it: the look-up finds it") {
    Fixture f("2.0.5");
    f.transport.answer(500, duplicate);
    f.transport.answer(
        200,
        R"({"pipeline_versions":[{"pipeline_version_id":"v9","pipeline_id":"p1","display_name":"v1"}]})");
    auto version = f.api->upload_version(upload);
    REQUIRE(version.has_value());
    CHECK(version->id == "v9");
    CHECK(version->found_existing);
    CHECK(path_of(f.sent(1)) == "/apis/v2beta1/pipelines/p1/versions");
  }
  SUBCASE("the look-up finds nothing: a conflict") {
    Fixture f("2.0.5");
    f.transport.answer(500, duplicate);
    f.transport.answer(200, "{}");
    auto version = f.api->upload_version(upload);
    REQUIRE_FALSE(version.has_value());
    CHECK(version.error().kind == util::ErrorKind::conflict);
  }
  SUBCASE("another 500 is a server error, not looked up") {
    Fixture f("2.0.5");
    f.transport.answer(
        500, R"({"error_message":"Failed to create a pipeline version: internal","error_details":""})");
    auto version = f.api->upload_version(upload);
    REQUIRE_FALSE(version.has_value());
    CHECK(version.error().kind == util::ErrorKind::server);
    CHECK(f.transport.sent.size() == 1);
  }
}

TEST_CASE("v2: an Argo workflow's parameters go through the v1beta1 run API, which carries them") {
  Fixture f("2.3.0");
  // The version says what it runs: its pipeline_spec is the workflow.
  f.transport.answer(200, R"({"pipeline_version_id":"v1","pipeline_id":"p1","display_name":"wf",
    "pipeline_spec":{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"generateName":"wf-"},
      "spec":{"arguments":{"parameters":[{"name":"message","value":"hello"}]}}}})");
  f.transport.answer(
      200, R"({"run":{"id":"r1","name":"wf-1","status":"Pending","created_at":"2025-05-01T10:00:00Z"}})");
  api::CreateRun create;
  create.name = "wf-1";
  create.description = marker;
  create.experiment_id = "e1";
  create.pipeline_id = "p1";
  create.version_id = "v1";
  create.parameters = {{"message", "hi"}};
  auto run = f.api->create_run(create, "team-a", marker);
  REQUIRE(run.has_value());
  CHECK(run->id == "r1");
  CHECK(run->created_at == "2025-05-01T10:00:00Z");
  CHECK(path_of(f.sent(0)) == "/apis/v2beta1/pipelines/p1/versions/v1");
  CHECK(path_of(f.sent(1)) == "/apis/v1beta1/runs");
  CHECK(body_of(f.sent(1)).at("pipeline_spec") ==
        boost::json::parse(R"({"parameters":[{"name":"message","value":"hi"}]})"));
}

TEST_CASE("v2: a run without parameters needs no look at the version") {
  Fixture f;
  f.transport.answer(200, R"({"run_id":"r1","state":"PENDING"})");
  api::CreateRun create;
  create.name = "x";
  create.experiment_id = "e1";
  create.pipeline_id = "p1";
  create.version_id = "v1";
  REQUIRE(f.api->create_run(create, "team-a", marker).has_value());
  CHECK(f.transport.sent.size() == 1);
  CHECK(path_of(f.sent(0)) == "/apis/v2beta1/runs");
}

TEST_CASE("v2: an Argo workflow's recurring run takes its parameters through the v1beta1 job API") {
  Fixture f("2.3.0");
  f.transport.answer(200, R"({"id":"j1","name":"nightly","enabled":true})");
  api::RecurringRun job;
  job.name = "nightly";
  job.experiment_id = "e1";
  job.pipeline_id = "p1";
  job.version_id = "v1";
  job.parameters = {{"message", "hi"}};
  job.cron = "0 0 2 * * *";
  job.pipeline_kind = api::PipelineKind::argo_workflow;
  auto created = f.api->create_recurring_run(job, "team-a");
  REQUIRE(created.has_value());
  CHECK(created->id == "j1");
  CHECK(path_of(f.sent(0)) == "/apis/v1beta1/jobs");
  CHECK(body_of(f.sent(0)) == boost::json::parse(R"({"name":"nightly","description":"",
    "pipeline_spec":{"parameters":[{"name":"message","value":"hi"}]},
    "resource_references":[{"key":{"type":"EXPERIMENT","id":"e1"},"relationship":"OWNER"},
                           {"key":{"type":"PIPELINE_VERSION","id":"v1"},"relationship":"CREATOR"}],
    "enabled":true,"max_concurrency":"1","no_catchup":true,"trigger":{"cron_schedule":{"cron":"0 0 2 * * *"}}})"));

  Fixture g("2.3.0");
  g.transport.answer(200, R"({"recurring_run_id":"j2","display_name":"nightly"})");
  job.pipeline_kind = api::PipelineKind::pipeline_spec;
  REQUIRE(g.api->create_recurring_run(job, "team-a").has_value());
  CHECK(path_of(g.sent(0)) == "/apis/v2beta1/recurringruns");
}
