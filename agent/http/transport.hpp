#pragma once
// One HTTP/1.1 exchange behind an interface: the real transport is a blocking facade over Beast's
// async operations with a deadline on every step; tests use a fake. Retries are not done here
// (http/retry.hpp decides), so a transport sends each request exactly once.

#include "util/duration.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kfp::http {

enum class Method { get, post, put, patch, del };
[[nodiscard]] std::string_view to_string(Method method);

// Header names are compared case-insensitively.
struct Headers {
  std::vector<std::pair<std::string, std::string>> fields;
  void set(std::string name, std::string value);
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const;
};

// A request body made of pieces sent in order; file pieces are streamed from disk in chunks, so
// memory does not grow with the file's size.
struct BodyPiece {
  struct FileRange {
    std::filesystem::path path;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  std::variant<std::string, FileRange> content;
};
struct Body {
  std::vector<BodyPiece> pieces;
  [[nodiscard]] std::uint64_t size() const;
  [[nodiscard]] bool empty() const { return pieces.empty(); }
  static Body text(std::string content);
};

// Receives a response body in pieces as they arrive (Request::body_sink), so a caller that keeps
// only part of a large body (a log's tail) needs no memory for the rest.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // A body starts: each attempt of a request that is sent again starts afresh.
  virtual void begin() = 0;
  virtual void append(std::string_view piece) = 0;
};

struct Request {
  Method method = Method::get;
  std::string url;  // absolute: scheme://host[:port]/path?query
  Headers headers;  // Host, Content-Length, User-Agent and Connection are set by the transport
  Body body;
  // The largest response body accepted for this request; 0 means TransportOptions::max_response_bytes.
  std::size_t max_response_bytes = 0;
  // When set, the whole exchange (connect included) ends within this: every step's timeout is cut
  // to the time left (a wait's deadline). Past it the request fails with kind network.
  std::optional<util::Milliseconds> within;
  // When set, a 2xx answer's body goes to the sink as it arrives, not into Response::body, with no
  // size limit (the sink bounds the memory; the total timeout still bounds the time); any other
  // status is read into Response::body as usual.
  BodySink* body_sink = nullptr;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;  // capped at Request::max_response_bytes or TransportOptions::max_response_bytes
};

// Upload progress: bytes of the body sent so far, and the total.
using ProgressCallback = std::function<void(std::uint64_t sent, std::uint64_t total)>;

struct TransportOptions {
  util::Milliseconds timeout{30'000};  // each connect, handshake, write and read
  // The whole response (headers and body) must arrive within this after the request was sent, so
  // a server trickling bytes cannot hold the client forever; unset: 2 x timeout.
  std::optional<util::Milliseconds> total_timeout;
  std::size_t max_response_bytes = std::size_t{8} << 20;
  std::optional<std::filesystem::path> ca_file;  // else the system trust store
  bool insecure_skip_tls_verify = false;
  // Proxy settings as the environment gives them (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; lower-case too).
  std::optional<std::string> https_proxy;
  std::optional<std::string> http_proxy;
  std::optional<std::string> no_proxy;
  std::string user_agent = "kfp-publish";
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends the request once and returns the response, whatever its status. Fails with kind
  // network (DNS, connect, reset, timeout, body too large), or tls (handshake, verification).
  // Failure::message never contains header values.
  [[nodiscard]] virtual util::Result<Response> send(const Request& request,
                                                    const ProgressCallback& progress = {}) = 0;
};

// The real transport: keeps one connection per scheme://host:port alive and reuses it; a reused
// connection found stale is reconnected once, for requests that did not reach the server.
[[nodiscard]] std::unique_ptr<Transport> make_beast_transport(TransportOptions options);

// Makes a transport for the given options: the session's composition root asks for each one through
// this, so that tests hand it a fake. The default makes the real one.
using TransportFactory = std::function<std::unique_ptr<Transport>(TransportOptions options)>;

}  // namespace kfp::http
