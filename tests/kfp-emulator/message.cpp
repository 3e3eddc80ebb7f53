#include "message.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>

#include <fmt/format.h>

namespace kfp::emulator {

std::optional<std::string> Request::param(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

std::string Request::param_or(const std::string& name, std::string fallback) const {
  auto value = param(name);
  return value ? *value : std::move(fallback);
}

std::optional<std::string> Request::header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

enum class PlusMeans { space, plus };

std::optional<std::string> unescape(std::string_view text, PlusMeans plus) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus == PlusMeans::space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> query_unescape(std::string_view text) {
  return unescape(text, PlusMeans::space);
}

std::optional<std::string> path_unescape(std::string_view text) {
  return unescape(text, PlusMeans::plus);
}

Request make_request(std::string method, std::string target) {
  Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  auto question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  std::string_view rest = request.query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = query_unescape(pair.substr(0, eq));
    auto value =
        eq == std::string_view::npos ? std::optional<std::string>{""} : query_unescape(pair.substr(eq + 1));
    // Go drops malformed pairs from ParseQuery's result.
    if (!key || !value) continue;
    request.params.emplace(std::move(*key), std::move(*value));
  }
  return request;
}

std::string_view reason_phrase(int status) {
  auto text = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  return text.empty() ? std::string_view{"Unknown"} : std::string_view{text.data(), text.size()};
}

std::string serialize(const Reply& reply, bool keep_alive) {
  std::string out;
  out.reserve(reply.body.size() + 256);
  out += fmt::format("HTTP/1.1 {} {}\r\n", reply.status,
                     reply.reason.empty() ? reason_phrase(reply.status) : std::string_view(reply.reason));
  if (!reply.content_type.empty()) out += fmt::format("Content-Type: {}\r\n", reply.content_type);
  bool has_connection = false, has_length = false;
  for (const auto& [name, value] : reply.headers) {
    out += fmt::format("{}: {}\r\n", name, value);
    has_connection = has_connection || boost::beast::iequals(name, "connection");
    has_length = has_length || boost::beast::iequals(name, "content-length");
  }
  if (reply.stream) {
    if (!keep_alive && !has_connection) out += "Connection: close\r\n";
    out += "Transfer-Encoding: chunked\r\n\r\n";
    return out;
  }
  if (reply.chunked) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
    if (!reply.body.empty()) out += fmt::format("{:x}\r\n{}\r\n", reply.body.size(), reply.body);
    out += "0\r\n\r\n";
    return out;
  }
  if (!has_length) out += fmt::format("Content-Length: {}\r\n", reply.body.size());
  if (!keep_alive && !has_connection) out += "Connection: close\r\n";
  out += "\r\n";
  out += reply.body;
  return out;
}

}  // namespace kfp::emulator
