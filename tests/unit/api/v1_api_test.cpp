#include "api/kfp_api.hpp"

#include "package/package.hpp"
#include "unit/api/fake_transport.hpp"
#include "unit/api/sent_request.hpp"

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <map>

using namespace kfp;
using test::body_of;
using test::filter_of;
using test::path_of;
using test::percent_decode;
using test::query_of;
using test::raw_body;

namespace {

constexpr const char* host = "http://kfp.example:8888";

struct Fixture : test::FakeConnection {
  explicit Fixture(std::string version = "1.8.5")
      : FakeConnection(test::connection_options(host, 2)),
        api(api::make_v1_api(connection, test::server_info("v1beta1", std::move(version)))) {}

  std::unique_ptr<api::KfpApi> api;
};

boost::json::value predicate(std::string key, std::string op, std::string value) {
  return boost::json::value{
      {"predicates",
       boost::json::array{boost::json::object{
           {"key", std::move(key)}, {"op", std::move(op)}, {"string_value", std::move(value)}}}}};
}

api::UploadVersion upload(std::string pipeline_id, std::string name, std::string description) {
  api::UploadVersion u;
  u.pipeline_id = std::move(pipeline_id);
  u.name = std::move(name);
  u.description = std::move(description);
  u.tags = {{"kfp-publish-digest", "sha256:abc"}};
  u.filename = "pipeline.yaml";
  u.content = http::BodyPiece{std::string("apiVersion: argoproj.io/v1alpha1\n")};
  return u;
}

const char* const pipeline_reply =
    R"({"id":"p1","name":"hello","description":"d","created_at":"2024-01-01T00:00:00Z",
  "default_version":{"id":"v1","name":"hello","created_at":"2024-01-01T00:00:00Z",
    "resource_references":[{"key":{"type":"PIPELINE","id":"p1"},"relationship":"OWNER"}]},
  "resource_references":[{"key":{"type":"NAMESPACE","id":"team-a"},"relationship":"OWNER"}]})";

}  // namespace

TEST_CASE("v1: the server has no tags; 1.x reads v2 IR YAML not at all, 2.x does") {
  Fixture old;
  CHECK(old.api->server().api == "v1beta1");
  CHECK_FALSE(old.api->server().supports_tags);
  CHECK_FALSE(old.api->server().accepts_pipeline_spec_yaml);
  Fixture newer("2.5.0");
  CHECK(newer.api->server().accepts_pipeline_spec_yaml);
}

TEST_CASE("v1: make_api routes a v1beta1 server to the v1 implementation") {
  Fixture f;
  auto made = api::make_api(f.connection, test::server_info("v1beta1", "1.8.5"));
  REQUIRE(made.has_value());
  CHECK((*made)->server().api == "v1beta1");
  CHECK_FALSE((*made)->server().accepts_pipeline_spec_yaml);
}

TEST_CASE("v1: find_pipeline lists by name with the op filter and the namespace key") {
  Fixture f;
  f.transport.answer(200, std::string(R"({"pipelines":[)") + pipeline_reply + "],\"total_size\":1}");
  auto found = f.api->find_pipeline("hello", "team-a");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->id == "p1");
  CHECK((*found)->name == "hello");
  CHECK((*found)->namespace_name == "team-a");
  const auto& request = f.sent(0);
  CHECK((request.method == http::Method::get));
  CHECK(path_of(request) == "/apis/v1beta1/pipelines");
  auto query = query_of(request);
  CHECK(query["resource_reference_key.type"] == "NAMESPACE");
  CHECK(query["resource_reference_key.id"] == "team-a");
  CHECK(query["page_size"] == "1");
  CHECK(filter_of(request) == predicate("name", "EQUALS", "hello"));

  f.transport.answer(200, "{}");
  auto missing = f.api->find_pipeline("other", "");
  REQUIRE(missing.has_value());
  CHECK_FALSE(missing->has_value());
  CHECK_FALSE(query_of(f.sent(1)).contains("resource_reference_key.type"));
}

TEST_CASE("v1: a new pipeline is created by its first upload, which returns the default version") {
  Fixture f;
  auto pipeline = f.api->create_pipeline("hello", "user text", "team-a");
  REQUIRE(pipeline.has_value());
  CHECK(pipeline->id.empty());
  CHECK(pipeline->name == "hello");
  CHECK(f.transport.sent.empty());

  // Nothing to look up before the pipeline exists.
  auto none = f.api->find_version_by_digest("", "sha256:abc");
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
  CHECK(f.transport.sent.empty());

  f.transport.answer(200, pipeline_reply);
  auto version = f.api->upload_version(
      upload("", "sha256-abc", "Published by kfp-publish (a+b 100%)\ndigest: sha256:abc"));
  REQUIRE(version.has_value());
  CHECK(version->id == "v1");
  CHECK(version->name == "hello");
  CHECK(version->pipeline_id == "p1");
  const auto& request = f.sent(0);
  CHECK((request.method == http::Method::post));
  CHECK(path_of(request) == "/apis/v1beta1/pipelines/upload");
  auto query = query_of(request);
  // 1.8 unescapes name and description a second time: they are encoded once more.
  CHECK(percent_decode(query["name"]) == "hello");
  CHECK(query["description"] != "Published by kfp-publish (a+b 100%)\ndigest: sha256:abc");
  CHECK(percent_decode(query["description"]) == "Published by kfp-publish (a+b 100%)\ndigest: sha256:abc");
  CHECK(query["namespace"] == "team-a");
  CHECK_FALSE(query.contains("tags"));
  CHECK_FALSE(query.contains("code_source_url"));
  CHECK_FALSE(query.contains("pipelineid"));
  CHECK(request.headers.get("content-type").value_or("").starts_with("multipart/form-data; boundary="));
  CHECK(raw_body(request).find("name=\"uploadfile\"; filename=\"pipeline.yaml\"") != std::string::npos);
}

TEST_CASE("v1: on a 2.x server the upload text is encoded once") {
  Fixture f("2.5.0");
  REQUIRE(f.api->create_pipeline("hello", "", "").has_value());
  f.transport.answer(200, pipeline_reply);
  REQUIRE(f.api->upload_version(upload("", "x", "a+b 100%")).has_value());
  auto query = query_of(f.sent(0));
  CHECK(query["description"] == "a+b 100%");
  CHECK_FALSE(query.contains("namespace"));
}

TEST_CASE("v1: upload_version without a pipeline to create is an internal error, nothing is sent") {
  Fixture f;
  auto version = f.api->upload_version(upload("", "x", "d"));
  REQUIRE_FALSE(version.has_value());
  CHECK(version.error().kind == util::ErrorKind::internal);
  CHECK(f.transport.sent.empty());
}

TEST_CASE("v1: a lost pipeline upload is looked up by name and not sent again") {
  Fixture f;
  REQUIRE(f.api->create_pipeline("hello", "", "team-a").has_value());
  f.transport.fail_network();
  f.transport.answer(200, std::string(R"({"pipelines":[)") + pipeline_reply + "]}");
  auto version = f.api->upload_version(upload("", "x", "digest: sha256:abc"));
  REQUIRE(version.has_value());
  CHECK(version->id == "v1");
  CHECK(version->pipeline_id == "p1");
  REQUIRE(f.transport.sent.size() == 2);
  CHECK(path_of(f.sent(1)) == "/apis/v1beta1/pipelines");
  CHECK(filter_of(f.sent(1)) == predicate("name", "EQUALS", "hello"));
}

TEST_CASE("v1: upload_version sends pipelineid, name and description; the version names its pipeline") {
  Fixture f;
  f.transport.answer(200, R"({"id":"v2","name":"sha256-abc","description":"digest: sha256:abc",
    "resource_references":[{"key":{"type":"PIPELINE","id":"p1"},"relationship":"OWNER"}]})");
  auto version = f.api->upload_version(upload("p1", "sha256-abc", "digest: sha256:abc"));
  REQUIRE(version.has_value());
  CHECK(version->id == "v2");
  CHECK(version->name == "sha256-abc");
  CHECK(version->pipeline_id == "p1");
  CHECK(version->description == "digest: sha256:abc");
  const auto& request = f.sent(0);
  CHECK(path_of(request) == "/apis/v1beta1/pipelines/upload_version");
  auto query = query_of(request);
  CHECK(query["pipelineid"] == "p1");
  CHECK(percent_decode(query["name"]) == "sha256-abc");
  // 1.8 unescapes the version name a second time, its description not (pipeline_upload_server.go:159-167
  // @1.8.5).
  CHECK(query["name"] == "sha256-abc");
  CHECK(percent_decode(query["name"]) == "sha256-abc");
  CHECK(query["description"] == "digest: sha256:abc");
}

TEST_CASE("v1: on 1.8 a description with a source line ('%', '+', '&' in the URL) reaches the server whole") {
  const std::string description =
      "Published by kfp-publish\nsource: https://git.example.com/a%20b/tree/c+d?x=1&y=%2F\n"
      "digest: sha256:abc\nkfp-publish-attempt:01";
  SUBCASE("the pipeline upload: encoded twice, as 1.8 unescapes it twice (pipeline_upload_server.go:114)") {
    Fixture f;
    REQUIRE(f.api->create_pipeline("hello", "", "").has_value());
    f.transport.answer(200, pipeline_reply);
    auto version = f.api->upload_version(upload("", "x", description));
    REQUIRE(version.has_value());
    // What the server stores: its query parsing decodes once, QueryUnescape once more.
    CHECK(percent_decode(query_of(f.sent(0))["description"]) == description);
    // 1.8 gives the first version no description: it is read from the pipeline's.
    CHECK(version->description == description);
  }
  SUBCASE("the version upload: encoded once (:167), and read back as stored") {
    Fixture f;
    boost::json::object reply{{"id", "v2"}, {"name", "x"}, {"description", description}};
    f.transport.answer(200, boost::json::serialize(reply));
    auto version = f.api->upload_version(upload("p1", "x", description));
    REQUIRE(version.has_value());
    CHECK(query_of(f.sent(0))["description"] == description);
    CHECK(f.sent(0).url.find('+') == std::string::npos);  // Go's Query() reads '+' as a space
    CHECK(version->description == description);
    f.transport.answer(200,
                       boost::json::serialize(boost::json::object{{"versions", boost::json::array{reply}}}));
    auto found = f.api->find_version_by_name("p1", "x");
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    CHECK((*found)->description == description);
  }
}

TEST_CASE("v1: 1.8's 500 for a duplicate upload is resolved by the look-up, else it is a conflict") {
  const char* duplicate =
      R"({"error_message":"Failed to create a pipeline version: Already exist error: The name x already exist","error_details":"..."})";
  SUBCASE("found") {
    Fixture f;
    f.transport.answer(500, duplicate);
    f.transport.answer(200, R"({"versions":[{"id":"v9","name":"x"}]})");
    auto version = f.api->upload_version(upload("p1", "x", "d"));
    REQUIRE(version.has_value());
    CHECK(version->id == "v9");
    CHECK(version->pipeline_id == "p1");
    CHECK(path_of(f.sent(1)) == "/apis/v1beta1/pipeline_versions");
    CHECK(filter_of(f.sent(1)) == predicate("name", "EQUALS", "x"));
  }
  SUBCASE("not found") {
    Fixture f;
    f.transport.answer(500, duplicate);
    f.transport.answer(200, "{}");
    auto version = f.api->upload_version(upload("p1", "x", "d"));
    REQUIRE_FALSE(version.has_value());
    CHECK(version.error().kind == util::ErrorKind::conflict);
  }
  SUBCASE("another 500 is a server error, not looked up") {
    Fixture f;
    f.transport.answer(
        500, R"({"error_message":"Failed to create a pipeline version: internal","error_details":""})");
    auto version = f.api->upload_version(upload("p1", "x", "d"));
    REQUIRE_FALSE(version.has_value());
    CHECK(version.error().kind == util::ErrorKind::server);
    CHECK(f.transport.sent.size() == 1);
  }
}

TEST_CASE("v1: the version with a digest is found by a description substring filter") {
  Fixture f;
  f.transport.answer(
      200, R"({"versions":[{"id":"v3","name":"sha256-abc","description":"x\ndigest: sha256:abc"}]})");
  auto found = f.api->find_version_by_digest("p1", "sha256:abc");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->id == "v3");
  const auto& request = f.sent(0);
  CHECK(path_of(request) == "/apis/v1beta1/pipeline_versions");
  auto query = query_of(request);
  CHECK(query["resource_key.type"] == "PIPELINE");
  CHECK(query["resource_key.id"] == "p1");
  CHECK(filter_of(request) == predicate("description", "IS_SUBSTRING", "sha256:abc"));
}

TEST_CASE("v1: a refused filter falls back to paging through the versions") {
  Fixture f;
  f.transport.answer(
      400,
      R"({"error":"Invalid input error: bad filter","code":3,"message":"Invalid input error: bad filter"})");
  f.transport.answer(200, R"({"versions":[{"id":"a","description":"other"}],"next_page_token":"tok2"})");
  f.transport.answer(200, R"({"versions":[{"id":"b","description":"digest: sha256:abc"}]})");
  auto found = f.api->find_version_by_digest("p1", "sha256:abc");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->id == "b");
  REQUIRE(f.transport.sent.size() == 3);
  CHECK_FALSE(query_of(f.sent(1)).contains("filter"));
  CHECK(query_of(f.sent(2))["page_token"] == "tok2");
  CHECK(query_of(f.sent(2))["resource_key.id"] == "p1");
}

TEST_CASE("v1: the first version (no description on 1.8) is found through the pipeline's description") {
  SUBCASE("the pipeline holds the digest") {
    Fixture f;
    f.transport.answer(200, "{}");  // the digest
    f.transport.answer(200, "{}");  // the digest percent-encoded
    f.transport.answer(200, R"({"id":"p1","name":"hello","description":"digest: sha256:abc"})");
    f.transport.answer(200, R"({"versions":[{"id":"v1","name":"hello"}]})");
    auto found = f.api->find_version_by_digest("p1", "sha256:abc");
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    CHECK((*found)->id == "v1");
    CHECK((*found)->description == "digest: sha256:abc");
    CHECK(path_of(f.sent(2)) == "/apis/v1beta1/pipelines/p1");
    CHECK(filter_of(f.sent(3)) == predicate("name", "EQUALS", "hello"));
  }
  SUBCASE("it does not") {
    Fixture f;
    f.transport.answer(200, "{}");
    f.transport.answer(200, "{}");
    f.transport.answer(200, R"({"id":"p1","name":"hello","description":"digest: sha256:def"})");
    auto found = f.api->find_version_by_digest("p1", "sha256:abc");
    REQUIRE(found.has_value());
    CHECK_FALSE(found->has_value());
    CHECK(f.transport.sent.size() == 3);
  }
}

TEST_CASE("v1: on 1.8 a version description stored percent-encoded still matches its digest") {
  // Encoded twice by a client (as the name must be), 1.8's upload_version decoded it once only:
  // "digest%3A%20sha256%3Aabc" is what the server holds.
  const char* stored =
      R"({"versions":[{"id":"v3","name":"sha256-abc","description":"digest%3A%20sha256%3Aabc"}]})";
  SUBCASE("found by the encoded digest, read decoded") {
    Fixture f;
    f.transport.answer(200, "{}");
    f.transport.answer(200, stored);
    auto found = f.api->find_version_by_digest("p1", "sha256:abc");
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    CHECK((*found)->id == "v3");
    CHECK((*found)->description == "digest: sha256:abc");
    CHECK(filter_of(f.sent(1)) == predicate("description", "IS_SUBSTRING", "sha256%3Aabc"));
  }
  // Found by name (--version): on 1.8 the description reads decoded, so the digest compares equal;
  // 2.x decodes nothing twice, so there a description is what it says.
  // (Not structured bindings: clang 14 cannot capture them in CAPTURE's lambda.)
  for (const auto& expected : std::vector<std::pair<std::string, std::string>>{
           {"1.8.5", "digest: sha256:abc"}, {"2.5.0", "digest%3A%20sha256%3Aabc"}}) {
    const std::string& version = expected.first;
    const std::string& description = expected.second;
    CAPTURE(version);
    Fixture f(version);
    f.transport.answer(200, stored);
    auto found = f.api->find_version_by_name("p1", "sha256-abc");
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    CHECK((*found)->description == description);
  }
}

TEST_CASE("v1: latest_version sorts by creation, newest first") {
  Fixture f;
  f.transport.answer(200, R"({"versions":[{"id":"v7","name":"n7"}]})");
  auto latest = f.api->latest_version("p1");
  REQUIRE(latest.has_value());
  REQUIRE(latest->has_value());
  CHECK((*latest)->id == "v7");
  auto query = query_of(f.sent(0));
  CHECK(query["sort_by"] == "created_at desc");
  CHECK(query["page_size"] == "1");
  CHECK(query["resource_key.id"] == "p1");
}

TEST_CASE("v1: get_version gives the declared parameters in a form the package reader takes") {
  Fixture f;
  f.transport.answer(
      200, R"({"id":"v1","name":"hello","parameters":[{"name":"epochs","value":"3"},{"name":"data"}],
    "resource_references":[{"key":{"type":"PIPELINE","id":"p1"},"relationship":"OWNER"}]})");
  auto version = f.api->get_version("p1", "v1");
  REQUIRE(version.has_value());
  CHECK(path_of(f.sent(0)) == "/apis/v1beta1/pipeline_versions/v1");
  CHECK(version->pipeline_id == "p1");
  REQUIRE(version->pipeline_spec.is_object());
  auto parsed = package::parse(boost::json::serialize(version->pipeline_spec), "version v1");
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->inputs.size() == 2);
  CHECK(parsed->inputs[0].name == "epochs");
  CHECK(parsed->inputs[0].optional);
  CHECK(parsed->inputs[0].default_value == std::optional<boost::json::value>(boost::json::value("3")));
  CHECK(parsed->inputs[1].name == "data");
  CHECK_FALSE(parsed->inputs[1].optional);
}

TEST_CASE("v1: experiments carry the namespace as an owner reference in multi-user mode") {
  Fixture f;
  f.transport.answer(
      200,
      R"({"id":"e1","name":"ci","resource_references":[{"key":{"type":"NAMESPACE","id":"team-a"},"relationship":"OWNER"}]})");
  auto experiment = f.api->create_experiment("ci", "team-a");
  REQUIRE(experiment.has_value());
  CHECK(experiment->id == "e1");
  CHECK(experiment->namespace_name == "team-a");
  CHECK(path_of(f.sent(0)) == "/apis/v1beta1/experiments");
  CHECK(
      body_of(f.sent(0)) ==
      boost::json::parse(
          R"({"name":"ci","resource_references":[{"key":{"type":"NAMESPACE","id":"team-a"},"relationship":"OWNER"}]})"));

  f.transport.answer(200, R"({"id":"e2","name":"ci"})");
  REQUIRE(f.api->create_experiment("ci", "").has_value());
  CHECK(body_of(f.sent(1)) == boost::json::parse(R"({"name":"ci"})"));

  f.transport.answer(200, R"({"experiments":[{"id":"e1","name":"ci"}]})");
  auto found = f.api->find_experiment("ci", "team-a");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->id == "e1");
  auto query = query_of(f.sent(2));
  CHECK(query["resource_reference_key.type"] == "NAMESPACE");
  CHECK(query["resource_reference_key.id"] == "team-a");
  CHECK(filter_of(f.sent(2)) == predicate("name", "EQUALS", "ci"));
}

TEST_CASE("v1: a run references its experiment and version; parameters are strings") {
  Fixture f;
  f.transport.answer(
      200,
      R"({"run":{"id":"r1","name":"hello-1","status":""},"pipeline_runtime":{"workflow_manifest":"{}"}})");
  api::CreateRun create;
  create.name = "hello-1";
  create.description = "Started by kfp-publish. kfp-publish-run-key:0123";
  create.experiment_id = "e1";
  create.pipeline_id = "p1";
  create.version_id = "v1";
  create.parameters = {{"epochs", 3}, {"name", "x"}, {"flag", true}, {"ids", boost::json::array{1, 2}}};
  create.service_account = "default-editor";
  create.pipeline_kind = api::PipelineKind::argo_workflow;
  auto run = f.api->create_run(create, "team-a", "kfp-publish-run-key:0123");
  REQUIRE(run.has_value());
  CHECK(run->id == "r1");
  CHECK(run->name == "hello-1");
  CHECK(run->state == "PENDING");
  CHECK(path_of(f.sent(0)) == "/apis/v1beta1/runs");
  CHECK(body_of(f.sent(0)) == boost::json::parse(R"({
    "name":"hello-1","description":"Started by kfp-publish. kfp-publish-run-key:0123",
    "pipeline_spec":{"parameters":[{"name":"epochs","value":"3"},{"name":"name","value":"x"},
                                   {"name":"flag","value":"true"},{"name":"ids","value":"[1,2]"}]},
    "resource_references":[{"key":{"type":"EXPERIMENT","id":"e1"},"relationship":"OWNER"},
                           {"key":{"type":"PIPELINE_VERSION","id":"v1"},"relationship":"CREATOR"}],
    "service_account":"default-editor"})"));
}

TEST_CASE("v1: a lost run create is found by its marker in the experiment, not sent again") {
  Fixture f;
  f.transport.fail_network();
  f.transport.answer(
      200,
      R"({"runs":[{"id":"r5","name":"hello-1","status":"Running","description":"x kfp-publish-run-key:0123"}]})");
  api::CreateRun create;
  create.name = "hello-1";
  create.experiment_id = "e1";
  create.version_id = "v1";
  auto run = f.api->create_run(create, "team-a", "kfp-publish-run-key:0123");
  REQUIRE(run.has_value());
  CHECK(run->id == "r5");
  REQUIRE(f.transport.sent.size() == 2);
  const auto& lookup = f.sent(1);
  CHECK(path_of(lookup) == "/apis/v1beta1/runs");
  CHECK(query_of(lookup)["resource_reference_key.type"] == "EXPERIMENT");
  CHECK(query_of(lookup)["resource_reference_key.id"] == "e1");
  CHECK(filter_of(lookup) == predicate("description", "IS_SUBSTRING", "kfp-publish-run-key:0123"));
}

TEST_CASE("v1: --pipeline-root for an Argo workflow is a usage error before anything is sent") {
  Fixture f;
  api::CreateRun create;
  create.name = "n";
  create.pipeline_root = "minio://bucket/root";
  create.pipeline_kind = api::PipelineKind::argo_workflow;
  auto run = f.api->create_run(create, "team-a", "m");
  REQUIRE_FALSE(run.has_value());
  CHECK(run.error().kind == util::ErrorKind::usage);
  CHECK(f.transport.sent.empty());
}

TEST_CASE("v1: run status strings map to v2 runtime states") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"Succeeded", "SUCCEEDED"},   {"Failed", "FAILED"},      {"Error", "FAILED"}, {"Skipped", "SKIPPED"},
      {"Terminating", "CANCELING"}, {"Pending", "PENDING"},    {"", "PENDING"},     {"Running", "RUNNING"},
      {"Unknown", "PENDING"},       {"succeeded", "SUCCEEDED"}};
  for (const auto& row : table) {
    const auto& status = row.first;
    const auto& state = row.second;
    CAPTURE(status);
    Fixture f;
    f.transport.answer(200, R"({"run":{"id":"r1","name":"n","status":")" + status + R"(","error":"boom"}})");
    auto run = f.api->get_run("r1");
    REQUIRE(run.has_value());
    CHECK(run->state == state);
    CHECK(path_of(f.sent(0)) == "/apis/v1beta1/runs/r1");
  }
}

TEST_CASE("v1: a run we terminated, or seen Terminating, that ends Failed is reported CANCELED") {
  SUBCASE("terminated by us") {
    Fixture f;
    f.transport.answer(200, "{}");
    REQUIRE(f.api->terminate_run("r1").has_value());
    CHECK((f.sent(0).method == http::Method::post));
    CHECK(path_of(f.sent(0)) == "/apis/v1beta1/runs/r1/terminate");
    f.transport.answer(200, R"({"run":{"id":"r1","status":"Failed"}})");
    auto run = f.api->get_run("r1");
    REQUIRE(run.has_value());
    CHECK(run->state == "CANCELED");
    CHECK(run->error.find("terminated by kfp-publish") != std::string::npos);
  }
  SUBCASE("seen Terminating") {
    Fixture f;
    f.transport.answer(200, R"({"run":{"id":"r1","status":"Terminating"}})");
    f.transport.answer(200, R"({"run":{"id":"r1","status":"Failed"}})");
    REQUIRE(f.api->get_run("r1")->state == "CANCELING");
    auto run = f.api->get_run("r1");
    REQUIRE(run.has_value());
    CHECK(run->state == "CANCELED");
  }
  SUBCASE("another run that fails stays FAILED with the server's error") {
    Fixture f;
    f.transport.answer(200, R"({"run":{"id":"r2","status":"Failed","error":"step 1 exited 1"}})");
    auto run = f.api->get_run("r2");
    REQUIRE(run.has_value());
    CHECK(run->state == "FAILED");
    CHECK(run->error == "step 1 exited 1");
  }
}

TEST_CASE("v1: the run URL is the UI's run page") {
  Fixture f;
  CHECK(f.api->run_url("r1") == std::string(host) + "/#/runs/details/r1");
}

TEST_CASE("v1: every run with a run key is listed oldest first; a refused filter falls back to a scan") {
  SUBCASE("filtered") {
    Fixture f;
    f.transport.answer(200, R"({"runs":[
        {"id":"r2","name":"x","status":"Running","created_at":"2024-01-01T00:00:05Z","description":"k kfp-publish-run-key:0123"},
        {"id":"r1","name":"x","status":"","created_at":"2024-01-01T00:00:01Z","description":"k kfp-publish-run-key:0123"}]})");
    auto runs = f.api->list_runs_with_marker("e1", "team-a", "kfp-publish-run-key:0123");
    REQUIRE(runs.has_value());
    REQUIRE(runs->size() == 2);
    CHECK((*runs)[0].id == "r1");
    CHECK((*runs)[0].created_at == "2024-01-01T00:00:01Z");
    CHECK((*runs)[1].state == "RUNNING");
    auto query = query_of(f.sent(0));
    CHECK(query["resource_reference_key.type"] == "EXPERIMENT");
    CHECK(query["resource_reference_key.id"] == "e1");
    CHECK(query["sort_by"] == "created_at");
    CHECK(filter_of(f.sent(0)) == predicate("description", "IS_SUBSTRING", "kfp-publish-run-key:0123"));
  }
  SUBCASE("scanned") {
    Fixture f;
    f.transport.answer(400, R"({"error":"Invalid input error: failed to parse valid filter","code":3})");
    f.transport.answer(200, R"({"runs":[
        {"id":"r3","created_at":"2024-01-01T00:00:09Z","description":"kfp-publish-run-key:0123"},
        {"id":"r4","created_at":"2024-01-01T00:00:01Z","description":"another key"}],"next_page_token":"T"})");
    f.transport.answer(200, R"({"runs":[
        {"id":"r5","created_at":"2024-01-01T00:00:02Z","description":"x kfp-publish-run-key:0123"}]})");
    auto runs = f.api->list_runs_with_marker("e1", "team-a", "kfp-publish-run-key:0123");
    REQUIRE(runs.has_value());
    REQUIRE(runs->size() == 2);
    CHECK((*runs)[0].id == "r5");
    CHECK((*runs)[1].id == "r3");
    CHECK_FALSE(query_of(f.sent(1)).contains("filter"));
    CHECK(query_of(f.sent(2))["page_token"] == "T");
  }
}

namespace {

std::string template_reply(std::string_view text) {
  return boost::json::serialize(boost::json::object{{"template", text}});
}

// A v2 IR in JSON, as KFP 1.8 stores it (it reads v2 pipelines as JSON only).
constexpr const char* v2_json_template =
    R"({"pipelineInfo":{"name":"add"},"schemaVersion":"2.1.0","sdkVersion":"kfp-2.0.0",
        "root":{"dag":{"tasks":{}},"inputDefinitions":{"parameters":{
          "a":{"parameterType":"NUMBER_INTEGER"},"x":{"parameterType":"NUMBER_DOUBLE"},
          "s":{"parameterType":"STRING","defaultValue":"hi","isOptional":true},
          "flag":{"parameterType":"BOOLEAN","defaultValue":false,"isOptional":true}}}}})";

// A version whose parameters the v1 API does not list (a PipelineSpec's), then its template.
void script_v2_version(test::FakeTransport& transport, std::string_view template_text) {
  transport.answer(200, R"({"id":"v1","name":"add","parameters":[]})");
  transport.answer(200, template_reply(template_text));
}

constexpr const char* v2_yaml_template =
    "pipelineInfo: {name: add}\nschemaVersion: 2.1.0\nsdkVersion: kfp-2.7.0\n"
    "root:\n  dag: {tasks: {}}\n  inputDefinitions:\n    parameters:\n"
    "      a: {parameterType: NUMBER_INTEGER}\n      flag: {parameterType: BOOLEAN}\n"
    "      s: {parameterType: STRING, defaultValue: hi}\n";

api::CreateRun v2_run(boost::json::object parameters) {
  api::CreateRun create;
  create.name = "add-1";
  create.description = "kfp-publish-run-key:0123";
  create.experiment_id = "e1";
  create.pipeline_id = "p1";
  create.version_id = "v1";
  create.parameters = std::move(parameters);
  return create;
}

}  // namespace

TEST_CASE("v1: a v2 pipeline's parameters go in runtime_config, typed as KFP 1.8's Value") {
  Fixture f("1.8.5");
  script_v2_version(f.transport, v2_json_template);
  f.transport.answer(200, R"({"run":{"id":"r1","name":"add-1","status":""}})");
  auto create = v2_run({{"a", 3}, {"x", 2}, {"s", "yo"}});
  create.pipeline_root = "minio://mlpipeline/v2";
  auto run = f.api->create_run(create, "team-a", "kfp-publish-run-key:0123");
  REQUIRE(run.has_value());
  CHECK(path_of(f.sent(1)) == "/apis/v1beta1/pipeline_versions/v1/templates");
  CHECK(body_of(f.sent(2)).at("pipeline_spec") == boost::json::parse(R"({"runtime_config":{
    "parameters":{"a":{"int_value":"3"},"x":{"double_value":2.0},"s":{"string_value":"yo"}},
    "pipeline_root":"minio://mlpipeline/v2"}})"));
}

TEST_CASE("v1: KFP 1.8 cannot take a boolean, list or struct for a v2 pipeline: exit 3 before the create") {
  Fixture f("1.8.5");
  script_v2_version(f.transport, v2_json_template);
  auto run = f.api->create_run(v2_run({{"flag", true}}), "team-a", "m");
  REQUIRE_FALSE(run.has_value());
  CHECK(run.error().kind == util::ErrorKind::invalid_parameters);
  CHECK(run.error().message.find("BOOLEAN") != std::string::npos);
  CHECK(f.transport.sent.size() == 2);  // the version and its template: no run was created
}

TEST_CASE("v1: on a 2.x server a v2 pipeline's parameters are plain JSON values in runtime_config") {
  Fixture f("2.3.0");
  script_v2_version(f.transport, v2_yaml_template);
  f.transport.answer(200, R"({"run":{"id":"r1","name":"add-1","status":"Pending"}})");
  auto run = f.api->create_run(v2_run({{"flag", true}}), "team-a", "m");
  REQUIRE(run.has_value());
  CHECK(body_of(f.sent(2)).at("pipeline_spec") ==
        boost::json::parse(R"({"runtime_config":{"parameters":{"flag":true}}})"));
}

TEST_CASE("v1: get_version reads a v2 pipeline's declared inputs from its template (the v1 API lists none)") {
  Fixture f("2.3.0");
  script_v2_version(f.transport, v2_yaml_template);
  auto version = f.api->get_version("p1", "v1");
  REQUIRE(version.has_value());
  CHECK(version->kind == api::PipelineKind::pipeline_spec);
  auto parsed = package::parse(boost::json::serialize(version->pipeline_spec), "version v1");
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->inputs.size() == 3);
  CHECK(parsed->inputs[0].name == "a");
  CHECK(parsed->inputs[0].type == package::ParameterType::number_integer);
  CHECK_FALSE(parsed->inputs[0].optional);
  CHECK(parsed->inputs[1].type == package::ParameterType::boolean);
  CHECK(parsed->inputs[2].default_value == std::optional<boost::json::value>(boost::json::value("hi")));
}

TEST_CASE("v1: an Argo workflow is known by its listed parameters: no template is read") {
  Fixture f("1.8.5");
  f.transport.answer(200, R"({"id":"v1","name":"wf","parameters":[{"name":"message","value":"hello"}]})");
  f.transport.answer(200, R"({"run":{"id":"r1","name":"wf-1","status":""}})");
  auto run = f.api->create_run(v2_run({{"message", "hi"}}), "team-a", "m");
  REQUIRE(run.has_value());
  REQUIRE(f.transport.sent.size() == 2);
  CHECK(body_of(f.sent(1)).at("pipeline_spec") ==
        boost::json::parse(R"({"parameters":[{"name":"message","value":"hi"}]})"));
}
