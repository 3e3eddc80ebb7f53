#pragma once
// The emulator's view of one HTTP exchange, independent of the socket (plain or TLS) it came on.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kfp::emulator {

struct Request {
  std::string method;                              // "GET", "POST", ...
  std::string target;                              // as received: path and query
  std::string path;                                // raw (still percent-encoded) path
  std::string query;                               // raw query string, without '?'
  std::multimap<std::string, std::string> params;  // query decoded once, as Go's url.ParseQuery
  std::map<std::string, std::string> headers;      // lowercase names
  std::string body;

  [[nodiscard]] std::optional<std::string> param(const std::string& name) const;
  [[nodiscard]] std::string param_or(const std::string& name, std::string fallback = {}) const;
  [[nodiscard]] std::optional<std::string> header(const std::string& lowercase_name) const;
};

// What the connection does with a reply: send it, drop it after the action (lost response),
// or reset the connection without acting.
enum class Disposition { send, lose, reset };

// A body produced piece by piece (a huge log), sent with Transfer-Encoding: chunked so that it is
// never held whole.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // The next piece into `chunk`; false once the body is exhausted.
  virtual bool next(std::string& chunk) = 0;
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";  // empty: no Content-Type header (1.8 healthz)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  Disposition disposition = Disposition::send;
  std::chrono::milliseconds delay{0};
  bool chunked = false;                // Transfer-Encoding: chunked instead of Content-Length
  bool close_connection = false;       // close after this reply even on a keep-alive connection
  std::string reason;                  // status line reason; empty: the standard phrase
  std::shared_ptr<BodyStream> stream;  // set: the body comes from here, chunked, after the head
};

// Splits "path?query" and decodes the query like Go's url.ParseQuery ('+' is a space).
[[nodiscard]] Request make_request(std::string method, std::string target);

// Go's url.QueryUnescape: '+' becomes a space; a malformed %-escape fails.
[[nodiscard]] std::optional<std::string> query_unescape(std::string_view text);
// Go's url.PathUnescape: '+' stays.
[[nodiscard]] std::optional<std::string> path_unescape(std::string_view text);

// The reason phrase for a status ("Not Found").
[[nodiscard]] std::string_view reason_phrase(int status);

// The whole HTTP/1.1 response as one buffer, so it goes out in a single write (for a streamed
// reply, its head only).
[[nodiscard]] std::string serialize(const Reply& reply, bool keep_alive);

}  // namespace kfp::emulator
