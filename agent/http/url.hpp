#pragma once
// The parts of an absolute http(s) URL the transport needs, parsed with Boost.URL.

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace kfp::http {

enum class Scheme { http, https };

struct Target {
  Scheme scheme = Scheme::http;
  std::string host;           // without brackets for IPv6 literals; what DNS, SNI and verification use
  std::uint16_t port = 80;    // the explicit port, else 80/443
  std::string host_header;    // host[:port] as the Host header and CONNECT want it (brackets kept)
  std::string origin_form;    // path?query, "/" when empty
  std::string absolute_form;  // scheme://host[:port]/path?query without user info or fragment
};

// Parses scheme://host[:port][/path][?query]. Fails with kind usage on anything else (another
// scheme, no host, a bad port); the message quotes the URL, which never carries a token.
[[nodiscard]] util::Result<Target> parse_target(std::string_view url);

// "http" or "https".
[[nodiscard]] std::string_view to_string(Scheme scheme);

}  // namespace kfp::http
