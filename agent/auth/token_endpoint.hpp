#pragma once
// What the token sources that ask an endpoint share: the endpoint URL check (https, or plain http
// only to this machine), the request with retries for network trouble and 429/5xx, the JSON answer.

#include "http/retry.hpp"
#include "http/transport.hpp"
#include "util/error.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace kfp::auth {

// The largest answer a token endpoint may give (a token and a few fields).
inline constexpr std::size_t kMaxTokenAnswerBytes = std::size_t{256} * 1024;

// Checks a token endpoint's URL: an absolute https URL, or http to a loopback host (127.0.0.0/8,
// ::1, localhost), where test stand-ins run. Fails with kind usage naming `source` (the variable or
// flag it came from) on anything else: a token must never cross a network in the clear.
[[nodiscard]] util::Result<void> check_token_endpoint(std::string_view url, std::string_view source);

// Sends `request` with a small retry budget for network failures and 429/502/503/504 (the
// transport's timeouts bound each attempt). Fails with kind network (or interrupted) when the retries
// are spent; any other answer is returned whatever its status.
[[nodiscard]] util::Result<http::Response> send_token_request(http::Transport& transport, http::Clock& clock,
                                                              const http::Request& request);

// The answer's body as a JSON object; nullopt when it is not one.
[[nodiscard]] std::optional<boost::json::object> json_object_of(const http::Response& response);

// A string field of `object`, empty when absent or not a string.
[[nodiscard]] std::string string_field(const boost::json::object& object, std::string_view name);

}  // namespace kfp::auth
