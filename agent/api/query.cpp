#include "api/query.hpp"

#include <boost/json/serialize.hpp>

namespace kfp::api {

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' ||
                            byte == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[byte >> 4U]);
      out.push_back(hex[byte & 0x0FU]);
    }
  }
  return out;
}

std::string encode_params(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += percent_encode(name);
    out += '=';
    out += percent_encode(value);
  }
  return out;
}

std::string query_string(const QueryParams& params) {
  return params.empty() ? std::string() : "?" + encode_params(params);
}

Filter& Filter::equals(std::string key, std::string value) {
  predicates_.push_back({{"key", std::move(key)}, {op_key_, "EQUALS"}, {"string_value", std::move(value)}});
  return *this;
}

Filter& Filter::substring(std::string key, std::string value) {
  predicates_.push_back(
      {{"key", std::move(key)}, {op_key_, "IS_SUBSTRING"}, {"string_value", std::move(value)}});
  return *this;
}

std::string Filter::json() const {
  boost::json::array predicates;
  for (const auto& predicate : predicates_) predicates.push_back(predicate);
  boost::json::object filter;
  filter["predicates"] = std::move(predicates);
  return boost::json::serialize(filter);
}

std::string Filter::query_value() const {
  return percent_encode(json());
}

}  // namespace kfp::api
