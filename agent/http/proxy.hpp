#pragma once
// Choosing an HTTP proxy from HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as curl and Go read them.

#include "http/transport.hpp"
#include "http/url.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace kfp::http {

struct Proxy {
  std::string host;
  std::uint16_t port = 3128;
  std::string host_header;                   // host[:port] of the proxy itself
  std::optional<std::string> authorization;  // "Basic ..." from user info in the proxy URL
};

// True when NO_PROXY exempts host:port. The list is comma (or space) separated; "*" matches every
// host; "example.com" and ".example.com" match the domain and its subdomains; "host:port" matches
// that port only; comparison ignores case. IP literals match exactly.
[[nodiscard]] bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port);

// Parses a proxy URL ("http://user:pass@proxy:3128", or "proxy:3128" without scheme). Fails with
// kind usage for a non-http proxy or a malformed URL; the message never repeats the credentials.
[[nodiscard]] util::Result<Proxy> parse_proxy(std::string_view url);

// The proxy for `target` under `options` (https_proxy for https, http_proxy for http), or nullopt
// for a direct connection.
[[nodiscard]] util::Result<std::optional<Proxy>> select_proxy(const TransportOptions& options,
                                                              const Target& target);

}  // namespace kfp::http
