#include "api/query.hpp"

#include <doctest/doctest.h>

using namespace kfp::api;

TEST_CASE("percent_encode keeps only unreserved characters") {
  CHECK(percent_encode("abc-._~XYZ09") == "abc-._~XYZ09");
  CHECK(percent_encode("a b+c%/") == "a%20b%2Bc%25%2F");
  CHECK(percent_encode("{\"k\":1}") == "%7B%22k%22%3A1%7D");
}

TEST_CASE("query strings encode names and values") {
  CHECK(query_string({}) == "");
  CHECK(query_string({{"namespace", "team a"}, {"page_size", "1"}}) == "?namespace=team%20a&page_size=1");
}

TEST_CASE("filters are JSON predicates, encoded twice on the wire") {
  Filter filter;
  filter.equals("name", "my+pipe%");
  CHECK(filter.json() == R"({"predicates":[{"key":"name","operation":"EQUALS","string_value":"my+pipe%"}]})");
  // After the gateway's decode and the server's QueryUnescape the JSON must come back intact:
  // the value in the query string is the once-encoded JSON, encoded again by query_string().
  const std::string once = filter.query_value();
  CHECK(once.find('+') == std::string::npos);
  CHECK(once.find("%2B") != std::string::npos);
  const std::string wire = query_string({{"filter", once}});
  CHECK(wire.find("%252B") != std::string::npos);
  Filter v1("op");
  v1.substring("description", "x");
  CHECK(v1.json() == R"({"predicates":[{"key":"description","op":"IS_SUBSTRING","string_value":"x"}]})");
}
