#pragma once
// The network side: one io_context thread, async accept/read/write, keep-alive, TCP_NODELAY,
// each response serialised whole and sent in one write; optional TLS.

#include "message.hpp"
#include "options.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace kfp::emulator {

// Request bodies above this are refused before the handler; the 32 MiB package limit is judged by
// the upload handler, as the server does.
inline constexpr std::size_t max_request_body = std::size_t{40} << 20;
// A keep-alive connection idle this long is closed.
inline constexpr std::chrono::seconds idle_timeout{120};

// What answers the requests: the API server (App) or the UI server in front of one (UiProxy).
class Handler {
 public:
  using Respond = std::function<void(Reply)>;
  virtual ~Handler() = default;
  // How long the request travels before it is handled.
  [[nodiscard]] virtual std::chrono::milliseconds request_latency(const Request& request) const = 0;
  // Answers `request` by calling `respond` once, on the io_context's thread.
  virtual void handle(Request request, Respond respond) = 0;
};

class Server {
 public:
  // Binds `options.listen` ("HOST:PORT", port 0 picks one) and loads the TLS files if given.
  // Throws util::Error (usage) on a bad address or unreadable certificate.
  Server(boost::asio::io_context& io, Handler& handler, const Options& options);

  [[nodiscard]] unsigned short port() const;
  [[nodiscard]] std::string address() const;
  void start();

 private:
  void accept();

  Handler& handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::optional<boost::asio::ssl::context> tls_;
};

}  // namespace kfp::emulator
