#include "doctor/network.hpp"

#include <doctest/doctest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

using kfp::doctor::Status;
using kfp::util::ErrorKind;

namespace {

constexpr kfp::util::Milliseconds probe_timeout{500};

kfp::http::Target target(const std::string& url) {
  return kfp::http::parse_target(url).value();
}

// A loopback port nothing listens on: bound, then released.
unsigned short closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

}  // namespace

TEST_CASE("a refused connection fails tcp with kind network and skips tls") {
  const auto checks = kfp::doctor::probe_network(target("https://127.0.0.1:" + std::to_string(closed_port())),
                                                 {probe_timeout, std::nullopt, false});
  REQUIRE(checks.size() == 3);
  CHECK(checks[0].name == "dns");
  CHECK(checks[0].status == Status::ok);
  CHECK(checks[1].name == "tcp");
  CHECK(checks[1].status == Status::fail);
  CHECK(checks[1].kind == ErrorKind::network);
  CHECK(checks[1].detail.find("refused") != std::string::npos);
  CHECK(checks[2].name == "tls");
  CHECK(checks[2].status == Status::skip);
}

TEST_CASE("a refused connection takes the caller's fix when it knows the route's NetworkPolicy") {
  kfp::doctor::NetworkOptions options{probe_timeout, std::nullopt, false};
  options.refused_fix = "apply the NetworkPolicy";
  const auto checks =
      kfp::doctor::probe_network(target("http://127.0.0.1:" + std::to_string(closed_port())), options);
  REQUIRE(checks.size() == 3);
  CHECK(checks[1].status == Status::fail);
  CHECK(checks[1].fix == "apply the NetworkPolicy");
}

TEST_CASE("a listening port passes tcp; plain http skips tls") {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = std::to_string(acceptor.local_endpoint().port());
  const auto checks =
      kfp::doctor::probe_network(target("http://127.0.0.1:" + port), {probe_timeout, std::nullopt, false});
  REQUIRE(checks.size() == 3);
  CHECK(checks[1].status == Status::ok);
  CHECK(checks[1].detail.find("127.0.0.1:" + port) != std::string::npos);
  CHECK(checks[2].status == Status::skip);
}

TEST_CASE("a server that never answers the TLS handshake fails tls with kind tls") {
  // The kernel completes the TCP handshake from the listen backlog; nobody speaks TLS.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = std::to_string(acceptor.local_endpoint().port());
  const auto checks =
      kfp::doctor::probe_network(target("https://127.0.0.1:" + port), {probe_timeout, std::nullopt, false});
  REQUIRE(checks.size() == 3);
  CHECK(checks[1].status == Status::ok);
  CHECK(checks[2].status == Status::fail);
  CHECK(checks[2].kind == ErrorKind::tls);
}

TEST_CASE("an unreadable CA file is a usage failure of the tls check") {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = std::to_string(acceptor.local_endpoint().port());
  const auto checks =
      kfp::doctor::probe_network(target("https://127.0.0.1:" + port),
                                 {probe_timeout, std::filesystem::path("/nonexistent/ca.pem"), false});
  REQUIRE(checks.size() == 3);
  CHECK(checks[2].status == Status::fail);
  CHECK(checks[2].kind == ErrorKind::usage);
  CHECK(checks[2].detail.find("/nonexistent/ca.pem") != std::string::npos);
}
