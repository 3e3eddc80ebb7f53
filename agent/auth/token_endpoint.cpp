#include "auth/token_endpoint.hpp"

#include "http/url.hpp"

#include <fmt/format.h>
#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>

#include <random>

namespace kfp::auth {

namespace {

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(host, error);
  return !error && address.is_loopback();
}

}  // namespace

util::Result<void> check_token_endpoint(std::string_view url, std::string_view source) {
  auto target = http::parse_target(url);
  if (!target) {
    return util::fail(util::ErrorKind::usage, fmt::format("{}: {}", source, target.error().message),
                      target.error().hint);
  }
  if (target->scheme == http::Scheme::http && !is_loopback(target->host)) {
    return util::fail(util::ErrorKind::usage,
                      fmt::format("{} is a plain http:// URL to {}: a token endpoint must use https (plain "
                                  "http is accepted only on this machine's loopback)",
                                  source, target->host),
                      fmt::format("use the https:// URL of the token endpoint in {}", source));
  }
  return {};
}

util::Result<http::Response> send_token_request(http::Transport& transport, http::Clock& clock,
                                                const http::Request& request) {
  http::RetryPolicy policy;
  policy.max_retries = 3;
  std::mt19937_64 random(std::random_device{}());
  return http::retry(policy, clock, random, [&] { return transport.send(request); });
}

std::optional<boost::json::object> json_object_of(const http::Response& response) {
  boost::system::error_code error;
  auto value = boost::json::parse(response.body, error);
  if (error || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::string string_field(const boost::json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

}  // namespace kfp::auth
