#pragma once
// A tiny blocking HTTP server on 127.0.0.1 for transport tests: it accepts on an ephemeral port and
// runs a scripted handler for each connection on its own thread. The destructor shuts every socket
// down (which wakes blocked reads and the accept) and joins the threads.

#include <fmt/format.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kfp::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using StringRequest = bhttp::request<bhttp::string_body>;

class LoopbackServer {
 public:
  using Handler = std::function<void(tcp::socket& socket, int index)>;

  explicit LoopbackServer(Handler handler) : handler_(std::move(handler)) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~LoopbackServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      for (auto& socket : sockets_) ::shutdown(socket->native_handle(), SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& thread : threads) thread.join();
  }

  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int accepted() const { return accepted_; }
  [[nodiscard]] bool stopping() const { return stopping_; }
  [[nodiscard]] std::string url(std::string_view path, std::string_view host = "127.0.0.1",
                                std::string_view scheme = "http") const {
    return fmt::format("{}://{}:{}{}", scheme, host, port_, path);
  }

 private:
  void accept_loop() {
    for (int index = 0;; ++index) {
      auto socket = std::make_shared<tcp::socket>(ioc_);
      boost::system::error_code error;
      acceptor_.accept(*socket, error);
      if (error || stopping_) return;
      ++accepted_;
      std::lock_guard lock(mutex_);
      sockets_.push_back(socket);
      threads_.emplace_back([this, socket, index] { handler_(*socket, index); });
    }
  }

  Handler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread accept_thread_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
};

// Reads one request; nullopt when the client closed or sent garbage.
template <class Stream>
std::optional<StringRequest> read_request(Stream& stream, beast::flat_buffer& buffer,
                                          std::size_t body_limit = std::size_t{64} << 20) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(body_limit);
  boost::system::error_code error;
  bhttp::read(stream, buffer, parser, error);
  if (error) return std::nullopt;
  return parser.release();
}

enum class KeepAlive { yes, no };

template <class Stream>
bool write_response(Stream& stream, unsigned status, std::string body, KeepAlive keep_alive = KeepAlive::yes,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(status), 11};
  for (auto& [name, value] : headers) response.set(name, value);
  response.body() = std::move(body);
  response.keep_alive(keep_alive == KeepAlive::yes);
  response.prepare_payload();
  boost::system::error_code error;
  bhttp::write(stream, response, error);
  return !error;
}

// Answers every request on the connection with 200 and "METHOD TARGET" until the client leaves.
inline void echo_handler(tcp::socket& socket, int /*index*/) {
  beast::flat_buffer buffer;
  while (auto request = read_request(socket, buffer)) {
    if (!write_response(socket, 200, fmt::format("{} {}", request->method_string(), request->target())))
      return;
  }
}

}  // namespace kfp::test
