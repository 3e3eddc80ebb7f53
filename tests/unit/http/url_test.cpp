#include "http/url.hpp"

#include <doctest/doctest.h>

using namespace kfp;

TEST_CASE("parse_target: default ports, paths, queries") {
  auto plain =
      http::parse_target("http://ml-pipeline.kubeflow.svc.cluster.local:8888/apis/v2beta1/runs?page_size=10");
  REQUIRE(plain.has_value());
  CHECK(plain->scheme == http::Scheme::http);
  CHECK(plain->host == "ml-pipeline.kubeflow.svc.cluster.local");
  CHECK(plain->port == 8888);
  CHECK(plain->host_header == "ml-pipeline.kubeflow.svc.cluster.local:8888");
  CHECK(plain->origin_form == "/apis/v2beta1/runs?page_size=10");
  CHECK(plain->absolute_form ==
        "http://ml-pipeline.kubeflow.svc.cluster.local:8888/apis/v2beta1/runs?page_size=10");

  auto secure = http::parse_target("https://kubeflow.example.com");
  REQUIRE(secure.has_value());
  CHECK(secure->scheme == http::Scheme::https);
  CHECK(secure->port == 443);
  CHECK(secure->host_header == "kubeflow.example.com");
  CHECK(secure->origin_form == "/");

  auto v6 = http::parse_target("http://[::1]:8080/x");
  REQUIRE(v6.has_value());
  CHECK(v6->host == "::1");
  CHECK(v6->host_header == "[::1]:8080");
}

TEST_CASE("parse_target: rejects what is not an absolute http(s) URL") {
  for (const char* url : {"ftp://example.com/", "example.com/path", "http://", "http://host:0/",
                          "http://host:99999/", "not a url"}) {
    auto parsed = http::parse_target(url);
    CHECK_MESSAGE(parsed.has_error(), url);
    if (parsed.has_error()) CHECK(parsed.error().kind == util::ErrorKind::usage);
  }
}
