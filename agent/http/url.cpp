#include "http/url.hpp"

#include <fmt/format.h>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace kfp::http {

namespace {

constexpr std::string_view example_base_url = "https://kubeflow.example.com/pipeline";

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// The URL as messages may show it: without its user info.
std::string without_userinfo(const boost::urls::url_view& view) {
  boost::urls::url copy(view);
  copy.remove_userinfo();
  return std::string(copy.buffer());
}

// The port problem of a URL Boost.URL refused, when the port is what is wrong ("host:abc").
std::optional<std::string> port_problem(std::string_view url) {
  const auto start = url.find("://");
  if (start == std::string_view::npos) return std::nullopt;
  std::string_view authority = url.substr(start + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  authority = authority.substr(authority.rfind('@') == std::string_view::npos ? 0 : authority.rfind('@') + 1);
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket))
    return std::nullopt;
  const std::string_view port = authority.substr(colon + 1);
  if (std::all_of(port.begin(), port.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  return fmt::format("the port '{}' is not a number", port);
}

// The URL's port number, 0 when it is not one of 1-65535. Boost.URL 1.81's port_number() wraps
// values over 65535 ("99999" gives 34463), so its answer is checked against the digits.
std::uint16_t valid_port(const boost::urls::url_view& view) {
  const std::uint16_t number = view.port_number();
  std::string_view digits = view.port();
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  return number != 0 && digits == std::to_string(number) ? number : 0;
}

// Boost.URL 1.81 takes "http://host:80a/" as port 80 and the path "a/", though after an authority the
// path must be empty or begin with '/' (RFC 3986 path-abempty): such a URL is refused.
bool misparsed_authority(const boost::urls::url_view& view) {
  return view.has_authority() && !view.encoded_path().empty() && view.encoded_path().front() != '/';
}

}  // namespace

std::string_view to_string(Scheme scheme) {
  return scheme == Scheme::https ? "https" : "http";
}

util::Result<Target> parse_target(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return util::fail(util::ErrorKind::usage, fmt::format("invalid URL '{}': {}", url, why),
                      fmt::format("write an absolute URL such as {}", example_base_url));
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return bad(parsed.error().message());
  const boost::urls::url_view view = *parsed;
  if (misparsed_authority(view)) return bad("bad port");

  Target target;
  if (view.scheme_id() == boost::urls::scheme::https)
    target.scheme = Scheme::https;
  else if (view.scheme_id() == boost::urls::scheme::http)
    target.scheme = Scheme::http;
  else
    return bad("the scheme must be http or https");

  if (!view.has_authority() || view.encoded_host().empty()) return bad("no host");
  target.host = view.host_address();
  target.port = target.scheme == Scheme::https ? 443 : 80;
  if (view.has_port()) {
    target.port = valid_port(view);
    if (target.port == 0) return bad("bad port");
  }
  const bool default_port = target.port == (target.scheme == Scheme::https ? 443 : 80);
  const std::string_view host_text = view.encoded_host_address();
  const bool ipv6 = view.host_type() == boost::urls::host_type::ipv6 ||
                    view.host_type() == boost::urls::host_type::ipvfuture;
  const std::string bracketed = ipv6 ? fmt::format("[{}]", host_text) : std::string(host_text);
  target.host_header = default_port ? bracketed : fmt::format("{}:{}", bracketed, target.port);

  target.origin_form = view.encoded_path().empty() ? "/" : std::string(view.encoded_path());
  if (view.has_query()) target.origin_form += fmt::format("?{}", view.encoded_query());
  target.absolute_form = fmt::format("{}://{}{}", to_string(target.scheme),
                                     fmt::format("{}:{}", bracketed, target.port), target.origin_form);
  return target;
}

util::Result<std::string> normalize_base_url(std::string_view url) {
  const std::string hint = fmt::format("write the API's base URL, such as {} or {}", example_base_url,
                                       "http://ml-pipeline.kubeflow.svc.cluster.local:8888");
  auto bad = [&](std::string shown, std::string_view why) {
    return util::fail(util::ErrorKind::usage, fmt::format("'{}' {}", shown, why), hint);
  };
  if (url.empty()) return util::fail(util::ErrorKind::usage, "the URL is empty", hint);
  if (std::any_of(url.begin(), url.end(), is_space)) {
    // Boost.URL refuses the text: show it without what could be credentials.
    const auto at = url.rfind('@');
    std::string shown = at == std::string_view::npos ? std::string(url) : "…" + std::string(url.substr(at));
    return bad(shown, "contains whitespace (a space, tab or line break); remove it");
  }
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || misparsed_authority(*parsed)) {
    const auto at = url.rfind('@');
    std::string shown = at == std::string_view::npos ? std::string(url) : "…" + std::string(url.substr(at));
    if (auto problem = port_problem(url)) return bad(shown, *problem);
    return bad(shown, fmt::format("is not an absolute URL ({})",
                                  parsed ? "malformed authority" : parsed.error().message()));
  }
  const boost::urls::url_view view = *parsed;
  const std::string shown = without_userinfo(view);
  if (view.scheme_id() != boost::urls::scheme::http && view.scheme_id() != boost::urls::scheme::https)
    return bad(shown, fmt::format("has the scheme '{}'; use http:// or https://", view.scheme()));
  if (!view.has_authority() || view.encoded_host().empty()) return bad(shown, "has no host");
  if (view.has_userinfo()) {
    return util::fail(
        util::ErrorKind::usage,
        fmt::format("'{}' carries user info (credentials before '@'), which kfp-publish refuses so "
                    "that no output can show them",
                    shown),
        "remove them from the URL: kfp-publish authenticates with a service-account token "
        "(--token-file)");
  }
  if (view.has_port()) {
    if (view.port().empty()) return bad(shown, "has an empty port after ':'");
    if (valid_port(view) == 0)
      return bad(shown, fmt::format("has the port {}, outside 1-65535", view.port()));
  }
  if (view.has_query()) return bad(shown, "has a query ('?…'); the base URL takes none");
  if (view.has_fragment()) return bad(shown, "has a fragment ('#…'); the base URL takes none");

  boost::urls::url normalized(view);
  normalized.normalize_scheme();
  std::string out(normalized.buffer());
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::vector<std::string> url_credentials(std::string_view text) {
  std::vector<std::string> found;
  for (auto separator = text.find("://"); separator != std::string_view::npos;
       separator = text.find("://", separator + 3)) {
    auto start = separator;
    while (start > 0 && (std::isalnum(static_cast<unsigned char>(text[start - 1])) != 0 ||
                         text[start - 1] == '+' || text[start - 1] == '-' || text[start - 1] == '.')) {
      --start;
    }
    // The authority as written, also where Boost.URL would refuse the URL (whitespace, a bad port).
    std::string_view authority = text.substr(separator + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) continue;
    found.emplace_back(authority.substr(0, at + 1));
    std::string_view rest = text.substr(start);
    rest = rest.substr(0, std::find_if(rest.begin(), rest.end(), is_space) - rest.begin());
    if (auto parsed = boost::urls::parse_uri(rest); parsed && parsed->has_userinfo()) {
      found.push_back(std::string(parsed->userinfo()) + "@");
      found.push_back(std::string(parsed->encoded_userinfo()) + "@");
    }
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

bool is_credential_query_parameter(std::string_view name) {
  static constexpr std::array<std::string_view, 15> names = {"token",
                                                             "access_token",
                                                             "private_token",
                                                             "job_token",
                                                             "password",
                                                             "secret",
                                                             "client_secret",
                                                             "api_key",
                                                             "sig",
                                                             "x-amz-signature",
                                                             "x-amz-credential",
                                                             "x-amz-security-token",
                                                             "x-goog-signature",
                                                             "x-goog-credential",
                                                             "signature"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(names.begin(), names.end(), lower) != names.end();
}

PublicUrl without_credentials(std::string_view url) {
  PublicUrl result{std::string(url), {}};
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    // Not a URL Boost.URL reads (a space, a bad port): still no user info in an authority.
    const auto separator = result.url.find("://");
    if (separator == std::string::npos) return result;
    const auto start = separator + 3;
    const auto end = std::min(result.url.find_first_of("/?#", start), result.url.size());
    const auto at = result.url.rfind('@', end == 0 ? 0 : end - 1);
    if (at != std::string::npos && at >= start) {
      result.url.erase(start, at + 1 - start);
      result.removed.emplace_back("user info");
    }
    return result;
  }
  boost::urls::url public_url(*parsed);
  if (public_url.has_userinfo()) {
    public_url.remove_userinfo();
    result.removed.emplace_back("user info");
  }
  if (public_url.has_query()) {
    auto params = public_url.params();
    for (auto it = params.begin(); it != params.end();) {
      if (is_credential_query_parameter((*it).key)) {
        result.removed.push_back(fmt::format("query parameter {}", (*it).key));
        it = params.erase(it);
      } else {
        ++it;
      }
    }
    if (params.empty()) public_url.remove_query();
  }
  if (!result.removed.empty()) result.url = std::string(public_url.buffer());
  return result;
}

}  // namespace kfp::http
