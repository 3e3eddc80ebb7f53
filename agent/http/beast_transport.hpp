#pragma once
// The real transport: HTTP/1.1 over TCP or TLS with Boost.Beast, as a blocking facade over async
// operations on its own io_context, with a deadline re-armed before every step.

#include "http/transport.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace kfp::http {

// What the connection pool did, for verbose logs and tests.
struct TransportStats {
  std::size_t connections_opened = 0;
  std::size_t connections_reused = 0;
  std::size_t stale_reconnects = 0;  // reused connections found closed, or resent once
};

// Not thread-safe: one request at a time (the program is single-threaded). Keeps one connection per
// scheme://host:port (per proxy for plain http through a proxy). A reused connection the server
// closed while idle is detected before sending and replaced; one that fails before any response
// byte is resent once on a new connection when the request is idempotent (GET, PUT, DELETE) or when
// the failure came while writing, i.e. before the server could have read the whole request.
class BeastTransport final : public Transport {
 public:
  explicit BeastTransport(TransportOptions options);
  ~BeastTransport() override;
  BeastTransport(const BeastTransport&) = delete;
  BeastTransport& operator=(const BeastTransport&) = delete;

  [[nodiscard]] util::Result<Response> send(const Request& request,
                                            const ProgressCallback& progress = {}) override;

  [[nodiscard]] TransportStats stats() const;
  // Whether the pooled connection that serves `url` has TCP_NODELAY set; nullopt when none is open.
  [[nodiscard]] std::optional<bool> no_delay(std::string_view url) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kfp::http
