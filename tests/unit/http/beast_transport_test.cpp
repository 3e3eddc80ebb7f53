#include "http/beast_transport.hpp"

#include "unit/http/loopback_server.hpp"

#include <doctest/doctest.h>

#include "unit/temp_dir.hpp"

#include <boost/asio/ssl.hpp>

#include <poll.h>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

using namespace kfp;
using namespace kfp::test;
using namespace std::chrono_literals;

namespace {

http::Request get(std::string url) {
  http::Request request;
  request.url = std::move(url);
  return request;
}

http::Request post(std::string url, std::string body) {
  http::Request request;
  request.method = http::Method::post;
  request.url = std::move(url);
  request.body = http::Body::text(std::move(body));
  return request;
}

http::TransportOptions quick_options() {
  http::TransportOptions options;
  options.timeout = 2s;
  return options;
}

// Waits for the peer to leave, so a handler keeps its connection open without answering.
void hold_until_closed(tcp::socket& socket) {
  char byte = 0;
  boost::system::error_code error;
  while (!error) socket.read_some(asio::buffer(&byte, 1), error);
}

// A server handler that reads the request and never answers it.
void never_answer(tcp::socket& socket, int /*connection*/) {
  beast::flat_buffer buffer;
  if (auto request = read_request(socket, buffer)) hold_until_closed(socket);
}

}  // namespace

TEST_CASE("GET and POST round-trip with headers and body") {
  std::mutex mutex;
  std::vector<StringRequest> seen;
  LoopbackServer server([&](tcp::socket& socket, int) {
    beast::flat_buffer buffer;
    while (auto request = read_request(socket, buffer)) {
      {
        std::lock_guard lock(mutex);
        seen.push_back(*request);
      }
      write_response(socket, request->method() == bhttp::verb::post ? 201 : 200, "got " + request->body(),
                     KeepAlive::yes, {{"X-Answer", "42"}, {"Location", "/elsewhere"}});
    }
  });
  auto transport = http::make_beast_transport(quick_options());

  auto request = get(server.url("/apis/v2beta1/healthz?x=1"));
  request.headers.set("Authorization", "Bearer not-a-real-token");
  auto response = transport->send(request);
  REQUIRE(response.has_value());
  CHECK(response->status == 200);
  CHECK(response->body == "got ");
  CHECK(response->headers.get("x-answer") == "42");
  CHECK(response->headers.get("Location") == "/elsewhere");

  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
  auto created =
      transport->send(post(server.url("/apis/v2beta1/runs"), R"({"a":1})"),
                      [&](std::uint64_t sent, std::uint64_t total) { progress.emplace_back(sent, total); });
  REQUIRE(created.has_value());
  CHECK(created->status == 201);
  CHECK(created->body == R"(got {"a":1})");
  CHECK(progress.back() == std::pair<std::uint64_t, std::uint64_t>{7, 7});

  std::lock_guard lock(mutex);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].target() == "/apis/v2beta1/healthz?x=1");
  CHECK(seen[0][bhttp::field::authorization] == "Bearer not-a-real-token");
  CHECK(seen[0][bhttp::field::user_agent] == "kfp-publish");
  CHECK(seen[0][bhttp::field::host] == fmt::format("127.0.0.1:{}", server.port()));
  CHECK(seen[1].method() == bhttp::verb::post);
  CHECK(seen[1][bhttp::field::content_length] == "7");
}

TEST_CASE("keep-alive: one connection serves many requests, with TCP_NODELAY") {
  LoopbackServer server(echo_handler);
  http::BeastTransport transport(quick_options());
  for (int i = 0; i < 5; ++i) {
    auto response = transport.send(get(server.url(fmt::format("/r{}", i))));
    REQUIRE(response.has_value());
    CHECK(response->body == fmt::format("GET /r{}", i));
  }
  CHECK(server.accepted() == 1);
  CHECK(transport.stats().connections_opened == 1);
  CHECK(transport.stats().connections_reused == 4);
  CHECK(transport.no_delay(server.url("/")) == true);
}

TEST_CASE("Connection: close from the server is honoured") {
  LoopbackServer server([](tcp::socket& socket, int) {
    beast::flat_buffer buffer;
    if (auto request = read_request(socket, buffer)) write_response(socket, 200, "bye", KeepAlive::no);
  });
  http::BeastTransport transport(quick_options());
  for (int i = 0; i < 3; ++i) {
    auto response = transport.send(get(server.url("/")));
    REQUIRE(response.has_value());
    CHECK(response->body == "bye");
  }
  CHECK(server.accepted() == 3);
  CHECK(transport.stats().connections_reused == 0);
}

TEST_CASE("a keep-alive connection the server closed while idle is replaced") {
  // Answers one request, then closes without saying so, as servers do after their idle timeout.
  LoopbackServer server([](tcp::socket& socket, int) {
    beast::flat_buffer buffer;
    if (auto request = read_request(socket, buffer)) write_response(socket, 200, "once");
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
  });
  http::BeastTransport transport(quick_options());
  REQUIRE(transport.send(get(server.url("/a"))).has_value());
  // The peer's FIN may land just before or just after the next send; both paths must recover.
  for (int i = 0; i < 3; ++i) {
    auto response = transport.send(get(server.url("/b")));
    REQUIRE(response.has_value());
    CHECK(response->body == "once");
  }
  CHECK(server.accepted() == 4);
  CHECK(transport.stats().stale_reconnects >= 1);
}

TEST_CASE("a reused connection dropped after the request: GET is resent once, POST is not") {
  std::atomic<int> answered_on_second{0};
  // Connection 0 answers one request, then reads the next and drops it unanswered; later ones answer.
  LoopbackServer server([&](tcp::socket& socket, int index) {
    beast::flat_buffer buffer;
    if (index == 0) {
      if (auto request = read_request(socket, buffer)) write_response(socket, 200, "first");
      if (auto request = read_request(socket, buffer)) {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
      }
      return;
    }
    while (auto request = read_request(socket, buffer)) {
      ++answered_on_second;
      write_response(socket, 200, "second");
    }
  });

  SUBCASE("GET") {
    http::BeastTransport transport(quick_options());
    REQUIRE(transport.send(get(server.url("/x"))).has_value());
    auto response = transport.send(get(server.url("/x")));
    REQUIRE(response.has_value());
    CHECK(response->body == "second");
    CHECK(server.accepted() == 2);
    CHECK(answered_on_second == 1);
  }
  SUBCASE("POST") {
    http::BeastTransport transport(quick_options());
    REQUIRE(transport.send(get(server.url("/x"))).has_value());
    auto response = transport.send(post(server.url("/x"), "{}"));
    REQUIRE(response.has_error());
    CHECK(response.error().kind == util::ErrorKind::network);
    CHECK(response.error().message.find("closed the connection without answering") != std::string::npos);
    CHECK(server.accepted() == 1);
    CHECK(answered_on_second == 0);
  }
}

TEST_CASE("a file body is streamed byte for byte") {
  test::TempDir dir("kfp-http");
  const auto path = dir.path / "big.bin";
  constexpr std::size_t kSize = std::size_t{3} << 20;
  std::string content(kSize, '\0');
  std::mt19937_64 random(99);
  for (auto& byte : content) byte = static_cast<char>(random() & 0xff);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  std::string received;
  LoopbackServer server([&](tcp::socket& socket, int) {
    beast::flat_buffer buffer;
    if (auto request = read_request(socket, buffer)) {
      received = request->body();
      write_response(socket, 200, std::to_string(received.size()));
    }
  });
  http::Request request;
  request.method = http::Method::post;
  request.url = server.url("/apis/v2beta1/pipelines/upload");
  request.body.pieces.push_back({std::string("--boundary\r\n")});
  request.body.pieces.push_back({http::BodyPiece::FileRange{path, 1000, kSize - 2000}});
  request.body.pieces.push_back({std::string("\r\n--boundary--\r\n")});
  const std::string expected = "--boundary\r\n" + content.substr(1000, kSize - 2000) + "\r\n--boundary--\r\n";

  std::uint64_t last_sent = 0;
  bool monotonic = true;
  std::size_t calls = 0;
  http::BeastTransport transport(quick_options());
  auto response = transport.send(request, [&](std::uint64_t sent, std::uint64_t total) {
    monotonic = monotonic && sent >= last_sent && total == expected.size();
    last_sent = sent;
    ++calls;
  });
  REQUIRE(response.has_value());
  CHECK(response->body == std::to_string(expected.size()));
  CHECK(received.size() == expected.size());
  CHECK(received == expected);
  CHECK(monotonic);
  CHECK(last_sent == expected.size());
  CHECK(calls > 10);
}

TEST_CASE("a file shorter than its range fails without hanging") {
  test::TempDir dir("kfp-http");
  const auto path = dir.path / "small.bin";
  std::ofstream(path) << "tiny";
  LoopbackServer server(echo_handler);
  http::Request request;
  request.method = http::Method::post;
  request.url = server.url("/");
  request.body.pieces.push_back({http::BodyPiece::FileRange{path, 0, 1u << 20}});
  http::BeastTransport transport(quick_options());
  auto response = transport.send(request);
  REQUIRE(response.has_error());
  CHECK(response.error().message.find("small.bin") != std::string::npos);
}

TEST_CASE("a server that never answers hits the read timeout; the token stays out of the message") {
  LoopbackServer server(never_answer);
  auto options = quick_options();
  options.timeout = 200ms;
  http::BeastTransport transport(options);
  auto request = get(server.url("/slow"));
  request.headers.set("Authorization", "Bearer SECRET-TOKEN-VALUE");
  auto response = transport.send(request);
  REQUIRE(response.has_error());
  CHECK(response.error().kind == util::ErrorKind::network);
  CHECK(response.error().message == fmt::format("no response from 127.0.0.1:{} within 200ms", server.port()));
  CHECK(response.error().message.find("SECRET") == std::string::npos);
  CHECK(response.error().hint.find("SECRET") == std::string::npos);
}

TEST_CASE("Request::within cuts every step to the time left, whatever the per-step timeout") {
  LoopbackServer server(never_answer);
  auto options = quick_options();
  options.timeout = 30s;
  http::BeastTransport transport(options);
  auto request = get(server.url("/slow"));
  request.within = 200ms;
  auto response = transport.send(request);
  REQUIRE(response.has_error());
  CHECK(response.error().kind == util::ErrorKind::network);
  CHECK(response.error().message ==
        fmt::format("no response from 127.0.0.1:{} within 200ms (the time left)", server.port()));
  request.within = 0ms;
  auto none = transport.send(request);
  REQUIRE(none.has_error());
  CHECK(none.error().message == "no time left to send the request");
}

TEST_CASE("a trickling body is cut off by the total deadline") {
  LoopbackServer server([&server](tcp::socket& socket, int) {
    beast::flat_buffer buffer;
    if (!read_request(socket, buffer)) return;
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
    boost::system::error_code error;
    asio::write(socket, asio::buffer(head), error);
    // One byte every 20 ms: each read succeeds well within the per-read timeout.
    while (!error && !server.stopping()) {
      asio::write(socket, asio::buffer("x", 1), error);
      std::this_thread::sleep_for(20ms);
    }
  });
  auto options = quick_options();
  options.timeout = 300ms;
  options.total_timeout = 600ms;
  http::BeastTransport transport(options);
  auto response = transport.send(get(server.url("/trickle")));
  REQUIRE(response.has_error());
  CHECK(response.error().kind == util::ErrorKind::network);
  CHECK(response.error().message.find("did not complete within 600ms") != std::string::npos);
}

TEST_CASE("a response body over max_response_bytes fails") {
  LoopbackServer server([](tcp::socket& socket, int) {
    beast::flat_buffer buffer;
    if (read_request(socket, buffer)) write_response(socket, 200, std::string(5000, 'a'));
  });
  auto options = quick_options();
  options.max_response_bytes = 1000;
  http::BeastTransport transport(options);
  auto response = transport.send(get(server.url("/big")));
  REQUIRE(response.has_error());
  CHECK(response.error().kind == util::ErrorKind::network);
  CHECK(response.error().message.find("over 1000 bytes") != std::string::npos);
}

TEST_CASE("connection refused and bad URLs") {
  std::uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }
  http::BeastTransport transport(quick_options());
  auto response = transport.send(get(fmt::format("http://127.0.0.1:{}/", port)));
  REQUIRE(response.has_error());
  CHECK(response.error().kind == util::ErrorKind::network);
  CHECK(response.error().message == fmt::format("connection to 127.0.0.1:{} refused", port));

  auto bad = transport.send(get("ftp://example.com/"));
  REQUIRE(bad.has_error());
  CHECK(bad.error().kind == util::ErrorKind::usage);
}

namespace {

// A self-signed certificate for DNS:localhost only, made by the openssl CLI.
struct Certificate {
  test::TempDir dir{"kfp-http"};
  std::filesystem::path cert;
  std::filesystem::path key;
  bool ok = false;
  Certificate() {
    cert = dir.path / "cert.pem";
    key = dir.path / "key.pem";
    const std::string command = fmt::format(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout '{}' -out '{}' -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost >/dev/null 2>&1",
        key.string(), cert.string());
    ok = std::system(command.c_str()) == 0 && std::filesystem::exists(cert);
  }
};

// Serves HTTPS with the certificate, answering like echo_handler.
struct TlsServer {
  asio::ssl::context context{asio::ssl::context::tls_server};
  LoopbackServer server;
  explicit TlsServer(const Certificate& certificate)
      : server([this](tcp::socket& socket, int) {
          asio::ssl::stream<tcp::socket&> stream(socket, context);
          boost::system::error_code error;
          stream.handshake(asio::ssl::stream_base::server, error);
          if (error) return;
          beast::flat_buffer buffer;
          while (auto request = read_request(stream, buffer)) {
            if (!write_response(stream, 200, fmt::format("tls {}", request->target()))) return;
          }
        }) {
    context.use_certificate_chain_file(certificate.cert.string());
    context.use_private_key_file(certificate.key.string(), asio::ssl::context::pem);
  }
};

// Relays bytes both ways between two sockets until one side closes.
void relay(int a, int b) {
  std::array<char, 16384> chunk{};
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{a, POLLIN, 0}, pollfd{b, POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), 5000) <= 0) return;
    for (std::size_t i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const int from = i == 0 ? a : b;
      const int to = i == 0 ? b : a;
      const ssize_t n = ::read(from, chunk.data(), chunk.size());
      if (n <= 0) return;
      if (::send(to, chunk.data(), static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) return;
    }
  }
}

}  // namespace

TEST_CASE("TLS: verification with a CA file, without it, and a host-name mismatch") {
  Certificate certificate;
  if (!certificate.ok) {
    MESSAGE("skipped: the openssl CLI could not make a test certificate");
    return;
  }
  // TlsServer's handler reads `context`, which is initialised before the server starts accepting.
  TlsServer tls(certificate);

  SUBCASE("trusted through ca_file") {
    auto options = quick_options();
    options.ca_file = certificate.cert;
    http::BeastTransport transport(options);
    for (int i = 0; i < 2; ++i) {
      auto response = transport.send(get(tls.server.url("/secure", "localhost", "https")));
      REQUIRE(response.has_value());
      CHECK(response->body == "tls /secure");
    }
    CHECK(transport.stats().connections_opened == 1);
    CHECK(transport.no_delay(tls.server.url("/", "localhost", "https")) == true);
  }
  SUBCASE("untrusted without ca_file") {
    http::BeastTransport transport(quick_options());
    auto response = transport.send(get(tls.server.url("/secure", "localhost", "https")));
    REQUIRE(response.has_error());
    CHECK(response.error().kind == util::ErrorKind::tls);
    CHECK(response.error().message.find(fmt::format(
              "TLS handshake with localhost:{} failed: certificate verify failed", tls.server.port())) == 0);
    CHECK(response.error().message.find("self-signed") != std::string::npos);
    CHECK(response.error().hint.find("--ca-file") != std::string::npos);
  }
  SUBCASE("host-name mismatch") {
    auto options = quick_options();
    options.ca_file = certificate.cert;
    http::BeastTransport transport(options);
    auto response = transport.send(get(tls.server.url("/secure", "127.0.0.1", "https")));
    REQUIRE(response.has_error());
    CHECK(response.error().kind == util::ErrorKind::tls);
    CHECK(response.error().message.find("mismatch") != std::string::npos);
  }
  SUBCASE("insecure_skip_tls_verify") {
    auto options = quick_options();
    options.insecure_skip_tls_verify = true;
    http::BeastTransport transport(options);
    auto response = transport.send(get(tls.server.url("/secure", "127.0.0.1", "https")));
    REQUIRE(response.has_value());
    CHECK(response->status == 200);
  }
  SUBCASE("an unreadable CA file") {
    auto options = quick_options();
    options.ca_file = certificate.dir.path / "missing.pem";
    http::BeastTransport transport(options);
    auto response = transport.send(get(tls.server.url("/secure", "localhost", "https")));
    REQUIRE(response.has_error());
    CHECK(response.error().message.find("missing.pem") != std::string::npos);
  }
}

TEST_CASE("https through a CONNECT proxy, with credentials; NO_PROXY bypasses it") {
  Certificate certificate;
  if (!certificate.ok) {
    MESSAGE("skipped: the openssl CLI could not make a test certificate");
    return;
  }
  TlsServer tls(certificate);
  std::mutex mutex;
  std::vector<std::string> connects;
  std::vector<std::string> authorizations;
  LoopbackServer proxy([&](tcp::socket& socket, int) {
    beast::flat_buffer buffer;
    bhttp::request_parser<bhttp::empty_body> parser;
    boost::system::error_code error;
    bhttp::read_header(socket, buffer, parser, error);
    if (error || parser.get().method() != bhttp::verb::connect) return;
    {
      std::lock_guard lock(mutex);
      connects.emplace_back(parser.get().target());
      authorizations.emplace_back(parser.get()[bhttp::field::proxy_authorization]);
    }
    tcp::socket upstream(socket.get_executor());
    upstream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), tls.server.port()), error);
    if (error) return;
    asio::write(socket, asio::buffer(std::string_view("HTTP/1.1 200 Connection established\r\n\r\n")), error);
    relay(socket.native_handle(), upstream.native_handle());
  });

  auto options = quick_options();
  options.ca_file = certificate.cert;
  options.https_proxy = fmt::format("http://ci-user:s3cret@127.0.0.1:{}", proxy.port());
  SUBCASE("through the tunnel") {
    http::BeastTransport transport(options);
    auto response = transport.send(get(tls.server.url("/via-proxy", "localhost", "https")));
    REQUIRE(response.has_value());
    CHECK(response->body == "tls /via-proxy");
    std::lock_guard lock(mutex);
    REQUIRE(connects.size() == 1);
    CHECK(connects[0] == fmt::format("localhost:{}", tls.server.port()));
    CHECK(authorizations[0] == "Basic Y2ktdXNlcjpzM2NyZXQ=");
  }
  SUBCASE("NO_PROXY") {
    options.no_proxy = "example.com, localhost";
    http::BeastTransport transport(options);
    auto response = transport.send(get(tls.server.url("/direct", "localhost", "https")));
    REQUIRE(response.has_value());
    CHECK(proxy.accepted() == 0);
  }
}

TEST_CASE("plain http through a proxy uses the absolute form") {
  std::string seen_target;
  std::string seen_authorization;
  LoopbackServer proxy([&](tcp::socket& socket, int) {
    beast::flat_buffer buffer;
    if (auto request = read_request(socket, buffer)) {
      seen_target = std::string(request->target());
      seen_authorization = std::string((*request)[bhttp::field::proxy_authorization]);
      write_response(socket, 200, "proxied");
    }
  });
  auto options = quick_options();
  options.http_proxy = fmt::format("127.0.0.1:{}", proxy.port());
  http::BeastTransport transport(options);
  auto response = transport.send(get("http://ml-pipeline.kubeflow:8888/apis/v2beta1/healthz"));
  REQUIRE(response.has_value());
  CHECK(response->body == "proxied");
  CHECK(seen_target == "http://ml-pipeline.kubeflow:8888/apis/v2beta1/healthz");
  CHECK(seen_authorization.empty());
}
