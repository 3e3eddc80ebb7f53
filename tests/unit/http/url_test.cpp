#include "http/url.hpp"

#include <doctest/doctest.h>

#include <algorithm>

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
    CHECK_MESSAGE(parsed.has_error(), std::string(url));
    if (parsed.has_error()) CHECK(parsed.error().kind == util::ErrorKind::usage);
  }
}

TEST_CASE("normalize_base_url: the scheme in any case, no trailing slash, the path prefix kept") {
  CHECK(http::normalize_base_url("HTTP://ml-pipeline:8888/").value() == "http://ml-pipeline:8888");
  CHECK(http::normalize_base_url("Https://kubeflow.example.com/pipeline//").value() ==
        "https://kubeflow.example.com/pipeline");
  CHECK(http::normalize_base_url("http://[::1]:8080").value() == "http://[::1]:8080");
  CHECK(http::parse_target("HTTPS://example.com/x").value().scheme == http::Scheme::https);
}

TEST_CASE("normalize_base_url: each bad URL is a usage error naming its problem") {
  const std::pair<const char*, const char*> cases[] = {
      {"http://host:0", "outside 1-65535"}, {"http://host:65536/", "outside 1-65535"},
      {"http://host:/", "empty port"},      {"http://host:80a/", "port '80a' is not a number"},
      {"http://host/?x=1", "query"},        {"http://host/#top", "fragment"},
      {" http://host", "whitespace"},       {"http://host\n", "whitespace"},
      {"http://ho st/", "whitespace"},      {"ftp://host/", "scheme 'ftp'"},
      {"host:8888", "scheme 'host'"},       {"ml-pipeline", "not an absolute URL"},
      {"http:///path", "no host"},          {"", "empty"},
  };
  for (const auto& [url_text, problem] : cases) {
    const char* url = url_text;  // a variable of its own: clang 14 cannot capture a structured binding
    auto result = http::normalize_base_url(url);
    REQUIRE_MESSAGE(result.has_error(), std::string(url));
    CHECK(result.error().kind == util::ErrorKind::usage);
    CHECK_MESSAGE(result.error().message.find(problem) != std::string::npos,
                  (std::string(url) + " → " + result.error().message));
  }
}

TEST_CASE("normalize_base_url: credentials are refused without being repeated") {
  for (const char* url : {"http://user:s3cret@host:8888/", "https://s3cret@host",
                          "http://user:s3cret@host/?q=1", "http://user:s3cret@host :80"}) {
    auto result = http::normalize_base_url(url);
    REQUIRE_MESSAGE(result.has_error(), std::string(url));
    CHECK_MESSAGE(result.error().message.find("s3cret") == std::string::npos, result.error().message);
    CHECK(result.error().hint.find("s3cret") == std::string::npos);
  }
  CHECK(http::normalize_base_url("http://user:s3cret@host/").error().message.find("user info") !=
        std::string::npos);
}

TEST_CASE("url_credentials finds the user info of URLs inside any text, as written and decoded") {
  auto found = http::url_credentials("--host=http://user:p%40ss@host:8888/x and https://tok@other");
  CHECK(std::find(found.begin(), found.end(), "user:p%40ss@") != found.end());
  CHECK(std::find(found.begin(), found.end(), "user:p@ss@") != found.end());
  CHECK(std::find(found.begin(), found.end(), "tok@") != found.end());
  CHECK(http::url_credentials("http://host/a@b").empty());  // '@' in the path is no user info
  CHECK(http::url_credentials("no url here").empty());
  CHECK_FALSE(http::url_credentials("http://u:p@host :80").empty());  // found where Boost.URL refuses the URL
}

TEST_CASE("without_credentials: user info and credential query parameters go, the rest stays") {
  struct Case {
    std::string url;
    std::string expected;
    std::vector<std::string> removed;
  };
  const std::vector<Case> cases{
      {"https://github.com/o/r/tree/abc", "https://github.com/o/r/tree/abc", {}},
      // A clone URL with a GitHub App token, and GitLab's CI_REPOSITORY_URL.
      {"https://x-access-token:ghs_SECRET@github.com/o/r.git", "https://github.com/o/r.git", {"user info"}},
      {"https://gitlab-ci-token:glcbt-SECRET@gitlab.example.com/g/p.git",
       "https://gitlab.example.com/g/p.git",
       {"user info"}},
      {"https://ghp_SECRET@github.com/o/r", "https://github.com/o/r", {"user info"}},
      // GitHub raw links, GitLab's API, a presigned S3 URL; meaningful parameters stay, in order.
      {"https://raw.githubusercontent.com/o/r/abc/p.yaml?token=SECRET",
       "https://raw.githubusercontent.com/o/r/abc/p.yaml",
       {"query parameter token"}},
      {"https://gitlab.example.com/api/v4/projects/1?ref=main&PRIVATE_TOKEN=SECRET&x=1#L3",
       "https://gitlab.example.com/api/v4/projects/1?ref=main&x=1#L3",
       {"query parameter PRIVATE_TOKEN"}},
      {"https://b.s3.amazonaws.com/k?X-Amz-Credential=AK&X-Amz-Signature=SECRET&versionId=3",
       "https://b.s3.amazonaws.com/k?versionId=3",
       {"query parameter X-Amz-Credential", "query parameter X-Amz-Signature"}},
      {"https://dev.azure.com/org/p/_git/r?version=GCabc",
       "https://dev.azure.com/org/p/_git/r?version=GCabc",
       {}},
      // Not a URL Boost.URL reads: the user info still goes.
      {"https://u:SECRET@host:80a/x", "https://host:80a/x", {"user info"}},
      {"not a url", "not a url", {}},
      {"", "", {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.url);
    const auto result = http::without_credentials(c.url);
    CHECK(result.url == c.expected);
    CHECK(result.removed == c.removed);
    CHECK(result.url.find("SECRET") == std::string::npos);
  }
}
