#include "http/proxy.hpp"

#include "util/base64.hpp"

#include <fmt/format.h>
#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/predicate.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace kfp::http {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string_view strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

bool entry_matches(std::string_view entry, const std::string& host, std::uint16_t port) {
  if (entry == "*") return true;
  // host:port, but not a bare IPv6 literal (which has colons of its own).
  const auto colon = entry.rfind(':');
  const bool bracketed = !entry.empty() && entry.front() == '[';
  if (colon != std::string_view::npos && (bracketed || entry.find(':') == colon)) {
    const std::string_view port_text = entry.substr(colon + 1);
    if (!bracketed || (colon > 0 && entry[colon - 1] == ']')) {
      unsigned value = 0;
      const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
      if (error != std::errc{} || end != port_text.data() + port_text.size()) return false;
      if (value != port) return false;
      entry = entry.substr(0, colon);
    }
  }
  std::string pattern = boost::algorithm::to_lower_copy(std::string(strip_brackets(entry)));
  if (pattern.starts_with("*.")) pattern.erase(0, 1);
  if (pattern.empty()) return false;
  if (pattern.front() == '.') {
    return host == pattern.substr(1) || boost::algorithm::ends_with(host, pattern);
  }
  return host == pattern || boost::algorithm::ends_with(host, "." + pattern);
}

}  // namespace

bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port) {
  const std::string lowered = boost::algorithm::to_lower_copy(std::string(strip_brackets(host)));
  while (!no_proxy.empty()) {
    const auto separator = no_proxy.find_first_of(", ");
    const std::string_view entry = trim(no_proxy.substr(0, separator));
    if (!entry.empty() && entry_matches(entry, lowered, port)) return true;
    if (separator == std::string_view::npos) break;
    no_proxy.remove_prefix(separator + 1);
  }
  return false;
}

util::Result<Proxy> parse_proxy(std::string_view url) {
  const std::string text =
      url.find("://") == std::string_view::npos ? fmt::format("http://{}", url) : std::string(url);
  auto bad = [](std::string_view why) {
    return util::fail(util::ErrorKind::usage, fmt::format("invalid proxy URL: {}", why),
                      "set HTTPS_PROXY/HTTP_PROXY to http://[user:password@]host:port");
  };
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return bad(parsed.error().message());
  const boost::urls::url_view view = *parsed;
  if (view.scheme_id() != boost::urls::scheme::http) return bad("only http:// proxies are supported");
  if (view.encoded_host().empty()) return bad("no host");

  Proxy proxy;
  proxy.host = view.host_address();
  proxy.port = 80;
  if (view.has_port()) {
    const std::string_view port_text = view.port();
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return bad("bad port");
    }
    proxy.port = static_cast<std::uint16_t>(value);
  }
  const bool ipv6 = view.host_type() == boost::urls::host_type::ipv6;
  const std::string_view host_text = view.encoded_host_address();
  proxy.host_header =
      ipv6 ? fmt::format("[{}]:{}", host_text, proxy.port) : fmt::format("{}:{}", host_text, proxy.port);
  if (view.has_userinfo()) {
    const std::string credentials = fmt::format("{}:{}", view.user(), view.password());
    proxy.authorization = fmt::format("Basic {}", util::base64_encode(credentials));
  }
  return proxy;
}

util::Result<std::optional<Proxy>> select_proxy(const TransportOptions& options, const Target& target) {
  const auto& setting = target.scheme == Scheme::https ? options.https_proxy : options.http_proxy;
  if (!setting || trim(*setting).empty()) return std::optional<Proxy>{};
  if (options.no_proxy && no_proxy_matches(*options.no_proxy, target.host, target.port)) {
    return std::optional<Proxy>{};
  }
  auto proxy = parse_proxy(trim(*setting));
  if (!proxy) return proxy.error();
  return std::optional<Proxy>{std::move(*proxy)};
}

}  // namespace kfp::http
