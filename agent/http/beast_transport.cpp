#include "http/beast_transport.hpp"

#include "http/proxy.hpp"
#include "http/url.hpp"
#include "util/interrupt.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/algorithm/string/predicate.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <vector>

#include <boost/none.hpp>

namespace kfp::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

// File pieces are read and written in chunks of this size, so memory does not grow with the file.
constexpr std::size_t kChunkBytes = std::size_t{64} * 1024;
// In-memory bodies up to this size go out with the header in one gather write.
constexpr std::uint64_t kSingleWriteBodyBytes = kChunkBytes;
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;
constexpr int kTotalTimeoutFactor = 2;
// How often a blocking step looks at the SIGINT/SIGTERM flag.
constexpr util::Milliseconds kInterruptPoll{50};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Owns a file descriptor opened for reading.
class ReadFd {
 public:
  explicit ReadFd(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~ReadFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ReadFd(const ReadFd&) = delete;
  ReadFd& operator=(const ReadFd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

struct Connection {
  std::string key;
  std::string peer;  // host:port the messages name
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<TlsStream> secure;
  beast::flat_buffer buffer;  // lives with the connection: bytes read past one response belong to it

  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // An idle keep-alive connection is usable when the peer has neither closed it nor sent anything
  // unasked (a close_notify, a 408): a non-blocking peek tells without consuming bytes.
  bool looks_alive() {
    if (buffer.size() > 0) return false;
    auto& socket = tcp().socket();
    if (!socket.is_open()) return false;
    char byte = 0;
    const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
};

enum class Stage { write, read };

// Where an exchange failed, so send() can decide whether resending is safe.
struct ExchangeState {
  Stage stage = Stage::write;
  error_code error;
  bool response_started = false;
  bool keep_alive = false;
};

bool is_idempotent(Method method) {
  return method == Method::get || method == Method::put || method == Method::del;
}

bhttp::verb to_verb(Method method) {
  switch (method) {
    case Method::get: return bhttp::verb::get;
    case Method::post: return bhttp::verb::post;
    case Method::put: return bhttp::verb::put;
    case Method::patch: return bhttp::verb::patch;
    case Method::del: return bhttp::verb::delete_;
  }
  return bhttp::verb::get;
}

bool is_closed_by_peer(const error_code& error) {
  return error == asio::error::eof || error == asio::error::connection_reset ||
         error == asio::error::broken_pipe || error == asio::error::connection_aborted ||
         error == asio::error::not_connected || error == ssl::error::stream_truncated ||
         error == bhttp::error::end_of_stream;
}

bool is_ip_address(const std::string& host) {
  error_code error;
  (void)asio::ip::make_address(host, error);
  return !error;
}

util::Failure network(std::string message, std::string hint = {}) {
  return util::fail(util::ErrorKind::network, std::move(message), std::move(hint));
}

// The fields the transport owns; a caller's copy of them is ignored.
bool is_transport_field(std::string_view name) {
  for (std::string_view owned :
       {"host", "content-length", "user-agent", "transfer-encoding", "proxy-authorization", "expect"}) {
    if (boost::algorithm::iequals(name, owned)) return true;
  }
  return false;
}

// SSL_set_tlsext_host_name is a macro with a C cast inside.
bool set_server_name(SSL* handle, const std::string& host) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
  return SSL_set_tlsext_host_name(handle, host.c_str()) == 1;
#pragma GCC diagnostic pop
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

struct BeastTransport::Impl {
  TransportOptions options;
  asio::io_context ioc;
  // Made on the first https connection: loading the system trust store is most of the CPU time of
  // a whole http-only run (~88 % of its instructions under callgrind).
  std::optional<ssl::context> tls;
  std::optional<util::Failure> tls_setup_failure;
  std::map<std::string, std::unique_ptr<Connection>> pool;
  TransportStats stats;
  // The stream the current step runs on, closed when a signal arrives during the exchange.
  beast::tcp_stream* active = nullptr;
  bool interruptible = false;  // no signal had arrived when this exchange began
  bool abandoned = false;      // a signal cut this exchange short
  // Request::within as a point in time: no step of this exchange runs past it.
  std::optional<SteadyTime> cap;
  std::optional<util::Milliseconds> cap_length;

  // The timeout of the next step: the per-step timeout, cut to what is left of the cap.
  util::Milliseconds step_timeout() const {
    if (!cap) return options.timeout;
    const auto left = std::chrono::duration_cast<util::Milliseconds>(*cap - std::chrono::steady_clock::now());
    return std::clamp(left, util::Milliseconds{1}, options.timeout);
  }

  // A request started after the signal (terminating the run on the way out) runs to its timeouts.
  bool interrupt_now() {
    if (!abandoned && interruptible && util::interrupted()) abandoned = true;
    return abandoned;
  }

  explicit Impl(TransportOptions opts) : options(std::move(opts)) {}

  // The TLS client context, configured once; fails (every time) when the CA file or the system
  // trust store cannot be loaded.
  util::Result<ssl::context*> tls_context() {
    if (tls_setup_failure) return *tls_setup_failure;
    if (tls) return &*tls;
    ssl::context& context = tls.emplace(ssl::context::tls_client);
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (options.insecure_skip_tls_verify) {
      context.set_verify_mode(ssl::verify_none);
      return &context;
    }
    context.set_verify_mode(ssl::verify_peer);
    error_code error;
    if (options.ca_file) {
      (void)context.load_verify_file(options.ca_file->string(), error);
      if (error) {
        tls_setup_failure = util::fail(
            util::ErrorKind::usage,
            fmt::format("cannot load the CA file {}: {}", options.ca_file->string(), error.message()),
            "--ca-file (KFP_CA_FILE) must name a readable PEM file of CA certificates");
      }
    } else {
      (void)context.set_default_verify_paths(error);
      if (error) {
        tls_setup_failure = util::fail(util::ErrorKind::tls,
                                       fmt::format("cannot load the system trust store: {}", error.message()),
                                       "pass the server's CA with --ca-file");
      }
    }
    if (tls_setup_failure) return *tls_setup_failure;
    return &context;
  }

  util::Milliseconds total_timeout() const {
    const auto total = options.total_timeout ? *options.total_timeout : options.timeout * kTotalTimeoutFactor;
    return cap ? std::min(total, step_timeout()) : total;
  }

  std::string timeout_text() const {
    if (cap_length && *cap_length < options.timeout)
      return fmt::format("{} (the time left)", util::format_duration(*cap_length));
    return util::format_duration(options.timeout);
  }

  // Runs the io_context until the operation started by `start` calls its handler. Every operation
  // is on a beast::tcp_stream with an armed expiry, so each one completes.
  template <class Start>
  error_code run(Start&& start) {
    ioc.restart();
    std::optional<error_code> outcome;
    std::forward<Start>(start)([&outcome](error_code error, auto&&...) { outcome = error; });
    bool closed = false;
    while (!outcome) {
      // Without this, a signal waits for the step's timeout: asio resumes its wait after EINTR.
      if (!closed && interrupt_now() && active != nullptr) {
        active->close();
        closed = true;
      }
      if (ioc.run_one_for(kInterruptPoll) == 0 && ioc.stopped()) return asio::error::operation_aborted;
    }
    return *outcome;
  }

  util::Result<tcp::resolver::results_type> resolve(const std::string& host, std::uint16_t port) {
    // getaddrinfo runs on asio's resolver thread and cannot be cancelled, so a timer races it and
    // the handlers share their state with whichever outlives this call.
    struct State {
      bool done = false;
      bool timed_out = false;
      error_code error;
      tcp::resolver::results_type results;
    };
    auto state = std::make_shared<State>();
    tcp::resolver resolver(ioc);
    asio::steady_timer timer(ioc, step_timeout());
    ioc.restart();
    resolver.async_resolve(host, std::to_string(port),
                           [state](error_code error, tcp::resolver::results_type results) {
                             state->done = true;
                             state->error = error;
                             state->results = std::move(results);
                           });
    timer.async_wait([state](error_code error) {
      if (!error) state->timed_out = true;
    });
    while (!state->done && !state->timed_out && !interrupt_now()) {
      if (ioc.run_one_for(kInterruptPoll) == 0 && ioc.stopped()) break;
    }
    timer.cancel();
    if (!state->done) {
      resolver.cancel();
      return network(fmt::format("cannot resolve {}: no answer within {}", host, timeout_text()),
                     "check the host name and the cluster DNS");
    }
    if (state->error) {
      return network(fmt::format("cannot resolve {}: {}", host, state->error.message()),
                     "check the host name in --host (KFP_HOST) and the DNS");
    }
    return state->results;
  }

  util::Result<std::unique_ptr<beast::tcp_stream>> connect_tcp(const std::string& host, std::uint16_t port,
                                                               const std::string& peer) {
    auto endpoints = resolve(host, port);
    if (!endpoints) return endpoints.error();
    auto stream = std::make_unique<beast::tcp_stream>(ioc);
    active = stream.get();
    stream->expires_after(step_timeout());
    const error_code error =
        run([&](auto handler) { stream->async_connect(*endpoints, std::move(handler)); });
    if (error == beast::error::timeout) {
      return network(fmt::format("no response from {} within {} (connect)", peer, timeout_text()));
    }
    if (error == asio::error::connection_refused) {
      return network(fmt::format("connection to {} refused", peer),
                     "is the server running and the port right?");
    }
    if (error) return network(fmt::format("cannot connect to {}: {}", peer, error.message()));
    // Headers and a streamed body go out in several writes; Nagle would hold the later ones back.
    stream->socket().set_option(tcp::no_delay(true));
    return stream;
  }

  util::Result<void> open_tunnel(beast::tcp_stream& stream, const Proxy& proxy, const Target& target) {
    bhttp::request<bhttp::empty_body> request{bhttp::verb::connect, target.host_header, 11};
    request.set(bhttp::field::host, target.host_header);
    request.set(bhttp::field::user_agent, options.user_agent);
    if (proxy.authorization) request.set(bhttp::field::proxy_authorization, *proxy.authorization);
    stream.expires_after(step_timeout());
    error_code error = run([&](auto handler) { bhttp::async_write(stream, request, std::move(handler)); });
    if (error) {
      return network(fmt::format("cannot send CONNECT {} to the proxy {}: {}", target.host_header,
                                 proxy.host_header, error.message()));
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::empty_body> parser;
    parser.skip(true);  // a CONNECT answer has no body: the tunnel starts right after the header
    parser.header_limit(kMaxHeaderBytes);
    stream.expires_after(step_timeout());
    error = run([&](auto handler) { bhttp::async_read_header(stream, buffer, parser, std::move(handler)); });
    if (error == beast::error::timeout) {
      return network(
          fmt::format("no response from the proxy {} within {}", proxy.host_header, timeout_text()));
    }
    if (error) {
      return network(
          fmt::format("the proxy {} failed to answer CONNECT: {}", proxy.host_header, error.message()));
    }
    const auto& response = parser.get();
    if (response.result_int() / 100 != 2) {
      const std::string hint =
          response.result_int() == 407
              ? "put the proxy credentials in the proxy URL: http://user:password@proxy:port"
              : "check HTTPS_PROXY and NO_PROXY";
      return network(fmt::format("the proxy {} refused the tunnel to {}: {} {}", proxy.host_header,
                                 target.host_header, response.result_int(), response.reason()),
                     hint);
    }
    if (buffer.size() > 0) {
      return network(fmt::format("the proxy {} sent data before the TLS handshake", proxy.host_header));
    }
    return {};
  }

  util::Failure handshake_failure(const error_code& error, TlsStream& stream, const Target& target) {
    std::string reason = error.message();
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) reason += fmt::format(" ({})", X509_verify_cert_error_string(verify));
    if (error == beast::error::timeout) reason = fmt::format("no answer within {}", timeout_text());
    std::string hint = "pass the server's CA certificate with --ca-file (KFP_CA_FILE)";
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      hint = "use a --host name that the server certificate lists in its subjectAltName";
    } else if (verify == X509_V_OK && error != beast::error::timeout) {
      hint = "check that the server speaks TLS on this port (use http:// otherwise)";
    }
    return util::fail(util::ErrorKind::tls,
                      fmt::format("TLS handshake with {} failed: {}", target.host_header, reason), hint);
  }

  util::Result<std::unique_ptr<Connection>> open(const std::string& key, const Target& target,
                                                 const std::optional<Proxy>& proxy) {
    auto connection = std::make_unique<Connection>();
    connection->key = key;
    connection->peer = proxy && target.scheme == Scheme::http
                           ? fmt::format("the proxy {}", proxy->host_header)
                           : target.host_header;
    auto stream = proxy
                      ? connect_tcp(proxy->host, proxy->port, fmt::format("the proxy {}", proxy->host_header))
                      : connect_tcp(target.host, target.port, target.host_header);
    if (!stream) return stream.error();
    ++stats.connections_opened;
    if (target.scheme == Scheme::http) {
      connection->plain = std::move(*stream);
      return connection;
    }
    if (proxy) {
      if (auto tunnel = open_tunnel(**stream, *proxy, target); !tunnel) return tunnel.error();
    }
    auto context = tls_context();
    if (!context) return context.error();
    connection->secure = std::make_unique<TlsStream>(std::move(**stream), **context);
    SSL* handle = connection->secure->native_handle();
    const bool ip = is_ip_address(target.host);
    // RFC 6066: SNI carries DNS names only.
    if (!ip && !set_server_name(handle, target.host)) {
      return util::fail(util::ErrorKind::tls, fmt::format("cannot set the TLS server name {}", target.host));
    }
    if (!options.insecure_skip_tls_verify) {
      // OpenSSL's own check names the mismatch in the verify result; the asio callback enforces it.
      if (ip)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), target.host.c_str());
      else
        SSL_set1_host(handle, target.host.c_str());
      connection->secure->set_verify_callback(ssl::host_name_verification(target.host));
    }
    active = &connection->tcp();
    connection->tcp().expires_after(step_timeout());
    const error_code error = run([&](auto handler) {
      connection->secure->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (error) return handshake_failure(error, *connection->secure, target);
    return connection;
  }

  util::Result<void> write_file_piece(auto& stream, Connection& connection, const BodyPiece::FileRange& range,
                                      std::uint64_t& sent, std::uint64_t total,
                                      const ProgressCallback& progress, ExchangeState& state) {
    ReadFd file(range.path);
    if (file.get() < 0) {
      return util::fail(util::ErrorKind::usage,
                        fmt::format("cannot open {}: {}", range.path.string(), std::strerror(errno)));
    }
    std::vector<char> chunk(kChunkBytes);
    std::uint64_t done = 0;
    while (done < range.length) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, range.length - done));
      const ssize_t n = ::pread(file.get(), chunk.data(), want, static_cast<off_t>(range.offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return util::fail(
            util::ErrorKind::usage,
            fmt::format("cannot read {} at offset {}: {}", range.path.string(), range.offset + done,
                        n < 0 ? std::strerror(errno) : "the file is shorter than expected"));
      }
      connection.tcp().expires_after(step_timeout());
      const auto buffer = asio::buffer(chunk.data(), static_cast<std::size_t>(n));
      state.error = run([&](auto handler) { asio::async_write(stream, buffer, std::move(handler)); });
      if (state.error) return write_failure(connection, state.error);
      done += static_cast<std::uint64_t>(n);
      sent += static_cast<std::uint64_t>(n);
      if (progress) progress(sent, total);
    }
    return {};
  }

  util::Failure write_failure(const Connection& connection, const error_code& error) {
    if (error == beast::error::timeout) {
      return network(fmt::format("{} did not accept the request within {}", connection.peer, timeout_text()));
    }
    return network(
        fmt::format("connection to {} lost while sending the request: {}", connection.peer, error.message()));
  }

  template <class Stream>
  util::Result<void> write_request(Stream& stream, Connection& connection, bhttp::request_header<>&& header,
                                   const Body& body, const ProgressCallback& progress, ExchangeState& state) {
    state.stage = Stage::write;
    const std::uint64_t total = body.size();
    const bool in_memory = std::all_of(body.pieces.begin(), body.pieces.end(), [](const BodyPiece& piece) {
      return std::holds_alternative<std::string>(piece.content);
    });
    if (in_memory && total <= kSingleWriteBodyBytes) {
      bhttp::request<bhttp::string_body> message{std::move(header)};
      for (const auto& piece : body.pieces) message.body() += std::get<std::string>(piece.content);
      connection.tcp().expires_after(step_timeout());
      state.error = run([&](auto handler) { bhttp::async_write(stream, message, std::move(handler)); });
      if (state.error) return write_failure(connection, state.error);
      if (progress && total > 0) progress(total, total);
      return {};
    }
    bhttp::request<bhttp::empty_body> message{std::move(header)};
    bhttp::request_serializer<bhttp::empty_body> serializer{message};
    connection.tcp().expires_after(step_timeout());
    state.error =
        run([&](auto handler) { bhttp::async_write_header(stream, serializer, std::move(handler)); });
    if (state.error) return write_failure(connection, state.error);
    std::uint64_t sent = 0;
    for (const auto& piece : body.pieces) {
      if (const auto* text = std::get_if<std::string>(&piece.content)) {
        for (std::size_t offset = 0; offset < text->size(); offset += kChunkBytes) {
          const std::size_t size = std::min(kChunkBytes, text->size() - offset);
          connection.tcp().expires_after(step_timeout());
          state.error = run([&](auto handler) {
            asio::async_write(stream, asio::buffer(text->data() + offset, size), std::move(handler));
          });
          if (state.error) return write_failure(connection, state.error);
          sent += size;
          if (progress) progress(sent, total);
        }
      } else {
        auto written = write_file_piece(stream, connection, std::get<BodyPiece::FileRange>(piece.content),
                                        sent, total, progress, state);
        if (!written) return written;
      }
    }
    return {};
  }

  // The rest of a 2xx answer whose header `header_parser` has read, given to `sink` piece by piece
  // (beast's buffer_body relay pattern): the parser changes body type before any body octet is
  // parsed, and each read fills one fixed buffer, so memory stays the same whatever the body's size.
  template <class Stream, class Arm, class Fail>
  util::Result<Response> read_into_sink(Stream& stream, Connection& connection, ExchangeState& state,
                                        bhttp::response_parser<bhttp::string_body>&& header_parser,
                                        BodySink& sink, Arm& arm, Fail& failure) {
    bhttp::response_parser<bhttp::buffer_body> parser{std::move(header_parser)};
    parser.body_limit(boost::none);
    sink.begin();
    std::vector<char> chunk(kChunkBytes);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      if (!arm()) return failure(beast::error::timeout);
      error_code error = run([&](auto handler) {
        bhttp::async_read_some(stream, connection.buffer, parser, std::move(handler));
      });
      if (error == bhttp::error::need_buffer) error = {};
      const std::size_t filled = chunk.size() - parser.get().body().size;
      if (filled > 0) sink.append(std::string_view(chunk.data(), filled));
      if (error) {
        util::Failure failed = failure(error);
        state.response_started = true;  // the body had begun: never sent again
        return failed;
      }
    }
    Response response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      response.headers.fields.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    state.keep_alive = parser.get().keep_alive();
    return response;
  }

  template <class Stream>
  util::Result<Response> read_response(Stream& stream, Connection& connection, ExchangeState& state,
                                       std::size_t max_body_bytes, BodySink* sink) {
    state.stage = Stage::read;
    const auto total = total_timeout();
    const SteadyTime deadline = std::chrono::steady_clock::now() + total;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(max_body_bytes);
    parser.header_limit(kMaxHeaderBytes);

    // Each read gets the per-step timeout, cut short by what is left of the whole-response deadline.
    auto arm = [&]() -> bool {
      const auto left =
          std::chrono::duration_cast<util::Milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= util::Milliseconds{0}) return false;
      connection.tcp().expires_after(std::min(left, step_timeout()));
      return true;
    };
    auto failure = [&](const error_code& error) -> util::Failure {
      state.error = error;
      state.response_started = parser.got_some() || connection.buffer.size() > 0;
      if (error == bhttp::error::body_limit) {
        return network(
            fmt::format("the response body from {} is over {} bytes", connection.peer, max_body_bytes));
      }
      if (error == bhttp::error::header_limit) {
        return network(
            fmt::format("the response headers from {} are over {} bytes", connection.peer, kMaxHeaderBytes));
      }
      if (error == beast::error::timeout) {
        const bool overall =
            std::chrono::steady_clock::now() + step_timeout() > deadline && parser.got_some();
        if (overall) {
          return network(fmt::format("the response from {} did not complete within {}", connection.peer,
                                     util::format_duration(total)));
        }
        return network(fmt::format("no response from {} within {}", connection.peer, timeout_text()),
                       "raise --request-timeout if the server is just slow");
      }
      if (is_closed_by_peer(error)) {
        if (!state.response_started) {
          return network(fmt::format("{} closed the connection without answering", connection.peer));
        }
        return network(fmt::format("connection to {} lost while reading the response: {}", connection.peer,
                                   error.message()));
      }
      return network(fmt::format("cannot read the response from {}: {}", connection.peer, error.message()));
    };

    if (!arm()) return failure(beast::error::timeout);
    error_code error = run([&](auto handler) {
      bhttp::async_read_header(stream, connection.buffer, parser, std::move(handler));
    });
    if (error) return failure(error);
    const unsigned status = parser.get().result_int();
    if (sink != nullptr && status >= 200 && status < 300) {
      return read_into_sink(stream, connection, state, std::move(parser), *sink, arm, failure);
    }
    while (!parser.is_done()) {
      if (!arm()) return failure(beast::error::timeout);
      error = run([&](auto handler) {
        bhttp::async_read_some(stream, connection.buffer, parser, std::move(handler));
      });
      if (error) return failure(error);
    }
    auto message = parser.release();
    Response response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers.fields.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    state.keep_alive = message.keep_alive();
    response.body = std::move(message.body());
    return response;
  }

  util::Result<Response> exchange(Connection& connection, const Target& target,
                                  const std::optional<Proxy>& proxy, const Request& request,
                                  const ProgressCallback& progress, ExchangeState& state) {
    active = &connection.tcp();
    const bool absolute = proxy && target.scheme == Scheme::http;
    bhttp::request_header<> header;
    header.method(to_verb(request.method));
    header.target(absolute ? target.absolute_form : target.origin_form);
    header.version(11);
    header.set(bhttp::field::host, target.host_header);
    header.set(bhttp::field::user_agent, options.user_agent);
    for (const auto& [name, value] : request.headers.fields) {
      if (has_line_break(name) || has_line_break(value)) {
        return util::fail(
            util::ErrorKind::internal,
            fmt::format("the request header {} contains a line break", has_line_break(name) ? "name" : name));
      }
      if (!is_transport_field(name)) header.set(name, value);
    }
    if (absolute && proxy->authorization)
      header.set(bhttp::field::proxy_authorization, *proxy->authorization);
    const std::uint64_t size = request.body.size();
    if (size > 0 || request.method == Method::post || request.method == Method::put ||
        request.method == Method::patch) {
      header.set(bhttp::field::content_length, std::to_string(size));
    }
    const bool caller_closes =
        boost::algorithm::iequals(request.headers.get("Connection").value_or(""), "close");

    auto run_exchange = [&](auto& stream) -> util::Result<Response> {
      if (auto written = write_request(stream, connection, std::move(header), request.body, progress, state);
          !written) {
        return written.error();
      }
      auto response = read_response(
          stream, connection, state,
          request.max_response_bytes != 0 ? request.max_response_bytes : options.max_response_bytes,
          request.body_sink);
      if (caller_closes) state.keep_alive = false;
      return response;
    };
    if (connection.secure) return run_exchange(*connection.secure);
    return run_exchange(*connection.plain);
  }

  util::Result<Response> send(const Request& request, const ProgressCallback& progress) {
    auto target = parse_target(request.url);
    if (!target) return target.error();
    auto proxy = select_proxy(options, *target);
    if (!proxy) return proxy.error();
    const std::string key =
        *proxy && target->scheme == Scheme::http
            ? fmt::format("http-proxy://{}", (*proxy)->host_header)
            : fmt::format("{}://{}:{}{}", to_string(target->scheme), target->host, target->port,
                          *proxy ? fmt::format(" via {}", (*proxy)->host_header) : std::string());

    bool reused = false;
    if (auto found = pool.find(key); found != pool.end()) {
      if (found->second->looks_alive()) {
        reused = true;
        ++stats.connections_reused;
      } else {
        ++stats.stale_reconnects;
        pool.erase(found);
      }
    }
    for (int attempt = 0;; ++attempt) {
      if (!reused) {
        auto opened = open(key, *target, *proxy);
        if (!opened) return opened.error();
        pool[key] = std::move(*opened);
      }
      Connection& connection = *pool[key];
      ExchangeState state;
      auto response = exchange(connection, *target, *proxy, request, progress, state);
      if (response) {
        if (!state.keep_alive) pool.erase(key);
        return response;
      }
      pool.erase(key);
      // A reused connection can die between our liveness check and the server reading the request.
      const bool safe_to_resend = state.stage == Stage::write || is_idempotent(request.method);
      if (!abandoned && reused && attempt == 0 && !state.response_started && state.error &&
          state.error != beast::error::timeout && safe_to_resend) {
        ++stats.stale_reconnects;
        reused = false;
        continue;
      }
      return response;
    }
  }
};

BeastTransport::BeastTransport(TransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

BeastTransport::~BeastTransport() = default;

util::Result<Response> BeastTransport::send(const Request& request, const ProgressCallback& progress) {
  impl_->interruptible = !util::interrupted();
  impl_->abandoned = false;
  impl_->cap_length = request.within;
  impl_->cap.reset();
  if (request.within) {
    if (*request.within <= util::Milliseconds{0}) {
      return util::fail(util::ErrorKind::network, "no time left to send the request");
    }
    impl_->cap = std::chrono::steady_clock::now() + *request.within;
  }
  auto response = impl_->send(request, progress);
  impl_->active = nullptr;
  if (!response && impl_->abandoned) {
    impl_->pool.clear();
    return util::fail(util::ErrorKind::interrupted, "interrupted: the request in progress was abandoned");
  }
  return response;
}

TransportStats BeastTransport::stats() const {
  return impl_->stats;
}

std::optional<bool> BeastTransport::no_delay(std::string_view url) const {
  auto target = parse_target(url);
  if (!target) return std::nullopt;
  const std::string prefix = fmt::format("{}://{}:{}", to_string(target->scheme), target->host, target->port);
  for (auto& [key, connection] : impl_->pool) {
    if (!key.starts_with(prefix)) continue;
    tcp::no_delay option;
    error_code error;
    connection->tcp().socket().get_option(option, error);
    if (error) return std::nullopt;
    return option.value();
  }
  return std::nullopt;
}

std::unique_ptr<Transport> make_beast_transport(TransportOptions options) {
  return std::make_unique<BeastTransport>(std::move(options));
}

}  // namespace kfp::http
