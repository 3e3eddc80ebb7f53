// emulator-bench: small-request throughput of kfp-emulator with many keep-alive connections.
// Usage: emulator-bench HOST PORT [CONNECTIONS] [SECONDS] [PATH]; prints requests/s.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Totals {
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  bool running = true;
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(net::io_context& io, tcp::endpoint endpoint, std::string path, Totals& totals)
      : stream_(io), endpoint_(endpoint), totals_(totals) {
    request_.method(http::verb::get);
    request_.target(path);
    request_.set(http::field::host, "127.0.0.1");
    request_.set(http::field::authorization, "Bearer bench");
    request_.keep_alive(true);
  }

  void start() {
    stream_.async_connect(endpoint_, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) {
        ++self->totals_.failed;
        return;
      }
      self->stream_.socket().set_option(tcp::no_delay(true));
      self->send();
    });
  }

 private:
  void send() {
    if (!totals_.running) return;
    http::async_write(stream_, request_,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (ec) {
                          ++self->totals_.failed;
                          return;
                        }
                        self->response_ = {};
                        http::async_read(self->stream_, self->buffer_, self->response_,
                                         [self](boost::system::error_code read_ec, std::size_t) {
                                           if (read_ec) {
                                             ++self->totals_.failed;
                                             return;
                                           }
                                           if (self->response_.result() == http::status::ok)
                                             ++self->totals_.ok;
                                           else
                                             ++self->totals_.failed;
                                           self->send();
                                         });
                      });
  }

  beast::tcp_stream stream_;
  tcp::endpoint endpoint_;
  Totals& totals_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr
        << "usage: emulator-bench HOST PORT [CONNECTIONS=64] [SECONDS=3] [PATH=/apis/v2beta1/healthz]\n";
    return 2;
  }
  const std::string host = argv[1];
  const auto port = static_cast<unsigned short>(std::stoi(argv[2]));
  const int connections = argc > 3 ? std::stoi(argv[3]) : 64;
  const int seconds = argc > 4 ? std::stoi(argv[4]) : 3;
  const std::string path = argc > 5 ? argv[5] : "/apis/v2beta1/healthz";
  net::io_context io{1};
  Totals totals;
  tcp::endpoint endpoint(net::ip::make_address(host), port);
  for (int i = 0; i < connections; ++i) std::make_shared<Client>(io, endpoint, path, totals)->start();
  net::steady_timer stop(io, std::chrono::seconds(seconds));
  auto started = Clock::now();
  stop.async_wait([&](boost::system::error_code) {
    totals.running = false;
    io.stop();
  });
  io.run();
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf(
      "emulator: %d keep-alive connections, %s: %llu requests in %.2f s = %.0f requests/s (%llu failed)\n",
      connections, path.c_str(), static_cast<unsigned long long>(totals.ok), elapsed,
      static_cast<double>(totals.ok) / elapsed, static_cast<unsigned long long>(totals.failed));
  return totals.ok > 0 && totals.failed == 0 ? 0 : 1;
}
