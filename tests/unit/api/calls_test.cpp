#include "api/calls.hpp"

#include "api/json_fields.hpp"
#include "unit/api/fake_transport.hpp"

#include <doctest/doctest.h>

using namespace kfp;

namespace {

struct Fixture : test::FakeConnection {
  Fixture() : FakeConnection(test::connection_options("http://kfp.example:8888", 3)) {}
};

struct Thing {
  std::string id;
};

Thing to_thing(const boost::json::value& value) {
  return Thing{api::string_field(api::object_of(value), "id")};
}

}  // namespace

TEST_CASE("request builders say what a request is: method, body, endpoint") {
  auto get = api::get_request("/apis/v2beta1/runs", {{"page_size", "1"}}, api::Endpoint::json_api_with_specs);
  CHECK(get.method == http::Method::get);
  CHECK(get.query.size() == 1);
  CHECK(get.endpoint == api::Endpoint::json_api_with_specs);
  CHECK_FALSE(get.json.has_value());

  auto post = api::post_json_request("/apis/v2beta1/runs", {{"display_name", "x"}});
  CHECK(post.method == http::Method::post);
  REQUIRE(post.json.has_value());
  CHECK(post.json->at("display_name").as_string() == "x");

  auto action = api::action_request("/apis/v2beta1/runs/r:terminate");
  CHECK(action.method == http::Method::post);
  CHECK_FALSE(action.json.has_value());
  CHECK_FALSE(action.body.has_value());

  CHECK(api::delete_request("/apis/v2beta1/recurringruns/j").method == http::Method::del);

  auto upload = api::upload_request("/apis/v2beta1/pipelines/upload", {{"name", "p"}},
                                    api::upload_body("p.yaml", http::BodyPiece{std::string("x: 1\n")}));
  CHECK(upload.endpoint == api::Endpoint::upload);
  CHECK(upload.content_type.rfind("multipart/form-data; boundary=", 0) == 0);

  auto more = api::with_query(get, {{"page_token", "t"}});
  CHECK(more.query.size() == 2);
  CHECK(more.query.back().first == "page_token");
}

TEST_CASE("get_object parses the answer; a failure keeps its kind") {
  Fixture f;
  f.transport.answer(200, R"({"id":"r1"})");
  f.transport.answer(403, R"({"code":7,"message":"denied"})");
  auto found = api::get_object(f.connection, api::get_request("/x/r1"), "get r1", to_thing);
  REQUIRE(found.has_value());
  CHECK(found->id == "r1");
  auto denied = api::get_object(f.connection, api::get_request("/x/r2"), "get r2", to_thing);
  REQUIRE_FALSE(denied.has_value());
  CHECK(denied.error().kind == util::ErrorKind::forbidden);
}

TEST_CASE("find_object reads a 404 as not there, other failures as failures") {
  Fixture f;
  f.transport.answer(404, R"({"code":5,"message":"not found"})");
  f.transport.answer(500, R"({"code":13,"message":"Internal error"})");
  auto missing = api::find_object(f.connection, api::get_request("/x/names/a"), "find a", to_thing);
  REQUIRE(missing.has_value());
  CHECK_FALSE(missing->has_value());
  auto broken = api::find_object(f.connection, api::get_request("/x/names/b"), "find b", to_thing);
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().kind == util::ErrorKind::server);
}

TEST_CASE("first_of gives the first listed item, or nothing for an omitted list") {
  Fixture f;
  f.transport.answer(200, R"({"runs":[{"id":"a"},{"id":"b"}],"total_size":2})");
  f.transport.answer(200, "{}");  // the server omits an empty list
  auto first = api::first_of(f.connection, api::get_request("/runs"), "runs", "list", to_thing);
  REQUIRE(first.has_value());
  REQUIRE(first->has_value());
  CHECK((*first)->id == "a");
  auto none = api::first_of(f.connection, api::get_request("/runs"), "runs", "list", to_thing);
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("for_each_item pages with the token, repeating the first page's query, until told to stop") {
  Fixture f;
  f.transport.answer(200, R"({"runs":[{"id":"a"}],"next_page_token":"T1"})");
  f.transport.answer(200, R"({"runs":[{"id":"b"}],"next_page_token":"T2"})");
  f.transport.answer(200, R"({"runs":[{"id":"c"}]})");
  std::vector<std::string> seen;
  auto listed = api::for_each_item(f.connection, api::get_request("/runs", {{"sort_by", "created_at"}}),
                                   "runs", "list", [&](const boost::json::value& item) {
                                     seen.push_back(to_thing(item).id);
                                     return false;
                                   });
  REQUIRE(listed.has_value());
  CHECK(seen == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(f.transport.sent.size() == 3);
  CHECK(f.transport.sent[0].url == "http://kfp.example:8888/runs?sort_by=created_at");
  CHECK(f.transport.sent[2].url == "http://kfp.example:8888/runs?sort_by=created_at&page_token=T2");

  Fixture g;
  g.transport.answer(200, R"({"runs":[{"id":"a"},{"id":"b"}],"next_page_token":"T1"})");
  int visits = 0;
  auto stopped = api::for_each_item(g.connection, api::get_request("/runs"), "runs", "list",
                                    [&](const boost::json::value&) { return ++visits == 1; });
  REQUIRE(stopped.has_value());
  CHECK(visits == 1);
  CHECK(g.transport.sent.size() == 1);
}

TEST_CASE("for_each_item gives up on a list that never ends") {
  Fixture f;
  for (int page = 0; page <= api::max_list_pages; ++page)
    f.transport.answer(200, R"({"next_page_token":"again"})");
  auto listed = api::for_each_item(f.connection, api::get_request("/runs"), "runs", "list",
                                   [](const boost::json::value&) { return false; });
  REQUIRE_FALSE(listed.has_value());
  CHECK(listed.error().kind == util::ErrorKind::server);
  CHECK(f.transport.sent.size() == static_cast<std::size_t>(api::max_list_pages));
}

TEST_CASE("a create whose response was lost is looked up before being sent again") {
  Fixture f;
  f.transport.fail_network();  // the create took effect, the reply was lost
  int lookups = 0;
  auto made =
      api::create_object(f.connection, api::post_json_request("/apis/v2beta1/runs", {{"display_name", "x"}}),
                         "create run", to_thing, [&]() -> util::Result<std::optional<Thing>> {
                           ++lookups;
                           return std::optional<Thing>(Thing{"r-1"});
                         });
  REQUIRE(made.has_value());
  CHECK(made->id == "r-1");
  CHECK(lookups == 1);
  CHECK(f.transport.sent.size() == 1);  // never re-sent
}

TEST_CASE("a create whose lost attempt did not take effect is sent again after the look-up") {
  Fixture f;
  f.transport.fail_network();
  f.transport.answer(200, R"({"id":"r-2"})");
  int lookups = 0;
  auto made = api::create_object(f.connection, api::post_json_request("/apis/v2beta1/runs", {{"a", 1}}),
                                 "create run", to_thing, [&]() -> util::Result<std::optional<Thing>> {
                                   ++lookups;
                                   return std::optional<Thing>();
                                 });
  REQUIRE(made.has_value());
  CHECK(made->id == "r-2");
  CHECK(lookups == 1);
  CHECK(f.transport.sent.size() == 2);
}

TEST_CASE("a create answered 409 returns the object the look-up finds (a lost race)") {
  Fixture f;
  f.transport.answer(409, R"({"code":6,"message":"Please specify a new name"})");
  auto made = api::create_object(
      f.connection, api::post_json_request("/apis/v2beta1/experiments", {{"a", 1}}), "create experiment",
      to_thing, [] { return util::Result<std::optional<Thing>>(std::optional<Thing>(Thing{"e-1"})); });
  REQUIRE(made.has_value());
  CHECK(made->id == "e-1");
}

TEST_CASE("a create answered 409 that the look-up cannot find is a conflict") {
  Fixture f;
  f.transport.answer(409, R"({"code":6,"message":"Please specify a new name"})");
  auto made = api::create_object(
      f.connection, api::post_json_request("/apis/v2beta1/experiments", {{"a", 1}}), "create experiment",
      to_thing, [] { return util::Result<std::optional<Thing>>(std::optional<Thing>()); });
  REQUIRE_FALSE(made.has_value());
  CHECK(made.error().kind == util::ErrorKind::conflict);
}

TEST_CASE("a create is not re-sent when the look-up itself fails") {
  Fixture f;
  f.transport.fail_network();
  auto made = api::create_object(f.connection, api::post_json_request("/apis/v2beta1/runs", {{"a", 1}}),
                                 "create run", to_thing, []() -> util::Result<std::optional<Thing>> {
                                   return util::fail(util::ErrorKind::network, "connection refused");
                                 });
  REQUIRE_FALSE(made.has_value());
  CHECK(made.error().kind == util::ErrorKind::network);
  CHECK(f.transport.sent.size() == 1);
}

TEST_CASE("perform needs only a 2xx answer") {
  Fixture f;
  f.transport.answer(200, "{}");
  f.transport.answer(400, R"({"code":3,"message":"Failed to terminate a run"})");
  CHECK(api::perform(f.connection, api::action_request("/runs/r:terminate"), "terminate").has_value());
  auto refused = api::perform(f.connection, api::action_request("/runs/r:terminate"), "terminate");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().http_status == 400);
}

TEST_CASE("a run create's refused parameters are invalid_parameters, whether 400 or wrapped as 500") {
  auto refine = api::parameter_refusal();
  util::Failure typed{util::ErrorKind::usage, "create run x: HTTP 400", "", 400};
  refine(typed,
         {400, "Failed to create a run: input parameter epochs requires type double or integer", true});
  CHECK(typed.kind == util::ErrorKind::invalid_parameters);
  // KFP 1.8 wraps argo_template's VerifyParameters as InternalServerError: a 500.
  util::Failure argo{util::ErrorKind::server, "create run x: HTTP 500", "", 500};
  refine(
      argo,
      {500,
       "Failed to create a new run.: InternalServerError: failed to generate the ExecutionSpec.: Failed to "
       "verify parameters.: Invalid input error: Unrecognized input parameter: gs_secret",
       true});
  CHECK(argo.kind == util::ErrorKind::invalid_parameters);
  util::Failure other{util::ErrorKind::server, "create run x: HTTP 500", "", 500};
  refine(other, {500, "Internal error: database is locked", true});
  CHECK(other.kind == util::ErrorKind::server);
}
