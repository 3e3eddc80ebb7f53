#include "http/url.hpp"

#include <fmt/format.h>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace kfp::http {

std::string_view to_string(Scheme scheme) {
  return scheme == Scheme::https ? "https" : "http";
}

util::Result<Target> parse_target(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return util::fail(util::ErrorKind::usage, fmt::format("invalid URL '{}': {}", url, why),
                      "write an absolute URL such as https://kubeflow.example.com/pipeline");
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return bad(parsed.error().message());
  const boost::urls::url_view view = *parsed;

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
    const std::string_view text = view.port();
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
      return bad("bad port");
    }
    target.port = static_cast<std::uint16_t>(value);
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

}  // namespace kfp::http
