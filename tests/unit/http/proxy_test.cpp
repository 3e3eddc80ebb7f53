#include "http/proxy.hpp"

#include <doctest/doctest.h>

using namespace kfp;

TEST_CASE("NO_PROXY matching") {
  CHECK(http::no_proxy_matches("*", "anything.example", 443));
  CHECK(http::no_proxy_matches("example.com", "example.com", 443));
  CHECK(http::no_proxy_matches("example.com", "api.example.com", 443));
  CHECK(http::no_proxy_matches(".example.com", "api.example.com", 443));
  CHECK(http::no_proxy_matches(".example.com", "example.com", 443));
  CHECK(http::no_proxy_matches("*.example.com", "api.example.com", 443));
  CHECK_FALSE(http::no_proxy_matches("example.com", "badexample.com", 443));
  CHECK_FALSE(http::no_proxy_matches("example.com", "example.com.evil.net", 443));
  CHECK(http::no_proxy_matches("localhost, .svc.cluster.local ,10.0.0.1",
                               "ml-pipeline.kubeflow.svc.cluster.local", 8888));
  CHECK(http::no_proxy_matches("localhost,.svc", "LOCALHOST", 80));
  CHECK(http::no_proxy_matches("foo.com bar.com", "bar.com", 80));
  CHECK(http::no_proxy_matches("10.0.0.1", "10.0.0.1", 80));
  CHECK_FALSE(http::no_proxy_matches("10.0.0.1", "10.0.0.12", 80));
  CHECK(http::no_proxy_matches("example.com:8443", "example.com", 8443));
  CHECK_FALSE(http::no_proxy_matches("example.com:8443", "example.com", 443));
  CHECK(http::no_proxy_matches("[::1]:8080", "::1", 8080));
  CHECK(http::no_proxy_matches("::1", "::1", 8080));
  CHECK_FALSE(http::no_proxy_matches("", "example.com", 80));
  CHECK_FALSE(http::no_proxy_matches(" , ", "example.com", 80));
}

TEST_CASE("parse_proxy: scheme-less, credentials, rejects https proxies") {
  auto bare = http::parse_proxy("proxy.corp:3128");
  REQUIRE(bare.has_value());
  CHECK(bare->host == "proxy.corp");
  CHECK(bare->port == 3128);
  CHECK(bare->host_header == "proxy.corp:3128");
  CHECK_FALSE(bare->authorization);

  auto with_user = http::parse_proxy("http://user%40corp:p%3Ass@proxy.corp:8080/");
  REQUIRE(with_user.has_value());
  CHECK(with_user->authorization == "Basic dXNlckBjb3JwOnA6c3M=");  // user@corp:p:ss

  auto secure = http::parse_proxy("https://user:hunter2@proxy.corp");
  REQUIRE(secure.has_error());
  CHECK(secure.error().kind == util::ErrorKind::usage);
  CHECK(secure.error().message.find("hunter2") == std::string::npos);
}

TEST_CASE("select_proxy picks by scheme and honours NO_PROXY") {
  http::TransportOptions options;
  options.https_proxy = "http://secure-proxy:3128";
  options.http_proxy = "http://plain-proxy:3128";
  options.no_proxy = ".cluster.local";
  auto pick = [&](const char* url) {
    auto target = http::parse_target(url);
    REQUIRE(target.has_value());
    auto proxy = http::select_proxy(options, *target);
    REQUIRE(proxy.has_value());
    return proxy->has_value() ? (*proxy)->host : std::string("direct");
  };
  CHECK(pick("https://kubeflow.example.com/pipeline") == "secure-proxy");
  CHECK(pick("http://kubeflow.example.com/pipeline") == "plain-proxy");
  CHECK(pick("http://ml-pipeline.kubeflow.svc.cluster.local:8888") == "direct");
  options.https_proxy = "";
  CHECK(pick("https://kubeflow.example.com/pipeline") == "direct");
}
