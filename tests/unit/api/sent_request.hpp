#pragma once
// Reading back what a client sent through the FakeTransport, as the KFP server would read it.

#include "http/transport.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>

#include <map>
#include <string>
#include <variant>

namespace kfp::test {

inline std::string percent_decode(std::string_view text) {
  auto encoded = boost::urls::make_pct_string_view(text);
  return encoded ? encoded->decode() : std::string(text);
}

// The path below the host, without the query.
inline std::string path_of(const http::Request& request) {
  auto url = boost::urls::parse_absolute_uri(request.url);
  return url ? std::string(url->encoded_path()) : std::string();
}

// The query parameters as the server's gateway sees them (decoded once).
inline std::map<std::string, std::string> query_of(const http::Request& request) {
  std::map<std::string, std::string> out;
  auto url = boost::urls::parse_absolute_uri(request.url);
  if (!url) return out;
  for (const auto& param : url->encoded_params()) {
    out[param.key.decode()] = param.has_value ? param.value.decode() : std::string();
  }
  return out;
}

// The filter as the server parses it: it unescapes the decoded value once more.
inline boost::json::value filter_of(const http::Request& request) {
  return boost::json::parse(percent_decode(query_of(request).at("filter")));
}

// The in-memory pieces of the body (a streamed file piece is left out).
inline std::string raw_body(const http::Request& request) {
  std::string text;
  for (const auto& piece : request.body.pieces) {
    if (const auto* s = std::get_if<std::string>(&piece.content)) text += *s;
  }
  return text;
}

inline boost::json::value body_of(const http::Request& request) {
  return boost::json::parse(raw_body(request));
}

}  // namespace kfp::test
