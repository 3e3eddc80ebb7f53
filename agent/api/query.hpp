#pragma once
// Query strings and list filters as the KFP API server decodes them (NOTES B.4).

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kfp::api {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes everything but RFC 3986 unreserved characters.
[[nodiscard]] std::string percent_encode(std::string_view text);

// "a=1&b=2" with each name and value percent-encoded: a query's parameters, or an
// application/x-www-form-urlencoded body.
[[nodiscard]] std::string encode_params(const QueryParams& params);

// "?a=1&b=2" (encode_params after a "?"); empty for no parameters.
[[nodiscard]] std::string query_string(const QueryParams& params);

// A v2beta1 Filter with ANDed predicates; `op_key` is "operation" (v2beta1) or "op" (v1beta1).
class Filter {
 public:
  explicit Filter(std::string op_key = "operation") : op_key_(std::move(op_key)) {}
  Filter& equals(std::string key, std::string value);
  Filter& substring(std::string key, std::string value);
  [[nodiscard]] std::string json() const;
  // The value to put in `filter=`: the server URL-decodes the query once and then once more, so the
  // JSON is encoded here once and again by query_string() (NOTES B.4: "encode twice").
  [[nodiscard]] std::string query_value() const;

 private:
  std::string op_key_;
  std::vector<boost::json::object> predicates_;
};

}  // namespace kfp::api
