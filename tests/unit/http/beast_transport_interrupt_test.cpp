// SIGINT/SIGTERM while the Beast transport blocks on the network (issue 5): the request in progress
// is abandoned at once instead of holding the signal for its timeout; a request started after the
// signal (terminating the run on the way out) runs normally.

#include "http/beast_transport.hpp"
#include "util/interrupt.hpp"

#include "unit/http/loopback_server.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace kfp;
using namespace kfp::test;
using namespace std::chrono_literals;

namespace {

// Clears the process-wide flag however the test ends.
struct InterruptFlagReset {
  ~InterruptFlagReset() { util::set_interrupted(false); }
};

http::Request get(std::string url) {
  http::Request request;
  request.url = std::move(url);
  return request;
}

}  // namespace

TEST_CASE("a signal during a blocked read abandons the request; the next request still goes out") {
  InterruptFlagReset reset;
  LoopbackServer server([&server](tcp::socket& socket, int index) {
    beast::flat_buffer buffer;
    if (index == 0) {
      if (!read_request(socket, buffer)) return;
      // The "signal" arrives while the client waits for this answer, which never comes.
      util::set_interrupted(true);
      char byte = 0;
      boost::system::error_code error;
      while (!error && !server.stopping()) socket.read_some(asio::buffer(&byte, 1), error);
      return;
    }
    echo_handler(socket, index);
  });
  http::TransportOptions options;
  options.timeout = 60s;  // far longer than the test may take: only the signal can end the read
  http::BeastTransport transport(options);

  const auto start = std::chrono::steady_clock::now();
  auto blocked = transport.send(get(server.url("/apis/v2beta1/runs/r1")));
  REQUIRE(blocked.has_error());
  CHECK(blocked.error().kind == util::ErrorKind::interrupted);
  CHECK(std::chrono::steady_clock::now() - start < 30s);

  // Started after the signal: not abandoned (this is how --cancel-on-interrupt reaches the server).
  auto after = transport.send(get(server.url("/apis/v2beta1/runs/r1:terminate")));
  REQUIRE(after.has_value());
  CHECK(after->status == 200);
}
