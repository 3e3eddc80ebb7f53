#include "server.hpp"

#include "util/error.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fmt/format.h>

namespace kfp::emulator {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

Request to_request(http::request<http::string_body>& message) {
  Request request = make_request(std::string(message.method_string()), std::string(message.target()));
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers[name] = std::string(field.value());
  }
  request.body = std::move(message.body());
  return request;
}

tcp::socket& raw_socket(beast::tcp_stream& stream) {
  return stream.socket();
}
tcp::socket& raw_socket(beast::ssl_stream<beast::tcp_stream>& stream) {
  return beast::get_lowest_layer(stream).socket();
}

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(Handler& handler, Args&&... args)
      : handler_(handler), stream_(std::forward<Args>(args)...), timer_(stream_.get_executor()) {}

  void start() {
    boost::system::error_code ec;
    raw_socket(stream_).set_option(tcp::no_delay(true), ec);
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(idle_timeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](boost::system::error_code error) {
                                if (!error) self->read();
                              });
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(max_request_body);
    beast::get_lowest_layer(stream_).expires_after(idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(boost::system::error_code ec) {
    if (ec == http::error::body_limit) {
      Reply reply;
      reply.status = 413;
      reply.content_type = "text/plain; charset=utf-8";
      reply.body = "request body too large\n";
      keep_alive_ = false;
      send(std::move(reply));
      return;
    }
    if (ec) return close();
    auto message = parser_->release();
    keep_alive_ = message.keep_alive();
    request_ = to_request(message);
    // --latency: the request's half passes before the server acts, so concurrent clients meet
    // the race windows a real network gives them; the reply's half is added to the reply.
    auto before = handler_.request_latency(request_);
    if (before.count() > 0) {
      timer_.expires_after(before);
      timer_.async_wait([self = this->shared_from_this()](boost::system::error_code error) {
        if (!error) self->respond();
      });
      return;
    }
    respond();
  }

  void respond() {
    handler_.handle(std::move(request_),
                    [self = this->shared_from_this()](Reply reply) { self->answer(std::move(reply)); });
  }

  void answer(Reply reply) {
    if (reply.disposition == Disposition::reset) return reset();
    if (reply.delay.count() > 0) {
      timer_.expires_after(reply.delay);
      timer_.async_wait([self = this->shared_from_this(),
                         reply = std::move(reply)](boost::system::error_code error) mutable {
        if (!error) self->send(std::move(reply));
      });
      return;
    }
    send(std::move(reply));
  }

  void send(Reply reply) {
    if (reply.disposition == Disposition::lose) return close();
    out_ = serialize(reply, keep_alive_);
    if (reply.close_connection) keep_alive_ = false;
    body_ = std::move(reply.stream);
    write_out();
  }

  void write_out() {
    net::async_write(stream_, net::buffer(out_),
                     [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       if (self->body_) return self->pump();
                       if (!self->keep_alive_) return self->close();
                       self->read();
                     });
  }

  // A streamed body goes out one chunk per write, so that only one piece is ever held.
  void pump() {
    beast::get_lowest_layer(stream_).expires_after(idle_timeout);
    std::string chunk;
    if (body_->next(chunk)) {
      out_.clear();
      out_ += fmt::format("{:x}\r\n", chunk.size());
      out_ += chunk;
      out_ += "\r\n";
    } else {
      out_ = "0\r\n\r\n";
      body_.reset();
    }
    write_out();
  }

  void close() {
    boost::system::error_code ec;
    raw_socket(stream_).shutdown(tcp::socket::shutdown_both, ec);
    raw_socket(stream_).close(ec);
  }

  // SO_LINGER 0 makes close() send RST, as a crashed or reset peer would.
  void reset() {
    boost::system::error_code ec;
    raw_socket(stream_).set_option(net::socket_base::linger(true, 0), ec);
    raw_socket(stream_).close(ec);
  }

  Handler& handler_;
  Stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string out_;
  std::shared_ptr<BodyStream> body_;
  Request request_;
  bool keep_alive_ = true;
};

}  // namespace

Server::Server(net::io_context& io, Handler& handler, const Options& options)
    : handler_(handler), acceptor_(io) {
  auto colon = options.listen.rfind(':');
  if (colon == std::string::npos)
    throw util::Error(util::ErrorKind::usage, "--listen must be HOST:PORT, got " + options.listen);
  boost::system::error_code ec;
  auto address = net::ip::make_address(options.listen.substr(0, colon), ec);
  if (ec) throw util::Error(util::ErrorKind::usage, "--listen: bad address " + options.listen);
  unsigned long port = 0;
  try {
    port = std::stoul(options.listen.substr(colon + 1));
  } catch (const std::exception&) {
    throw util::Error(util::ErrorKind::usage, "--listen: bad port in " + options.listen);
  }
  if (port > 65535) throw util::Error(util::ErrorKind::usage, "--listen: bad port in " + options.listen);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint, ec);
  if (ec)
    throw util::Error(util::ErrorKind::usage, "cannot listen on " + options.listen + ": " + ec.message());
  acceptor_.listen(net::socket_base::max_listen_connections);
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty())
      throw util::Error(util::ErrorKind::usage, "--tls-cert and --tls-key go together");
    tls_.emplace(net::ssl::context::tls_server);
    tls_->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                      net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                      net::ssl::context::no_tlsv1_1);
    tls_->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) throw util::Error(util::ErrorKind::usage, "cannot load --tls-cert " + options.tls_cert_file);
    tls_->use_private_key_file(options.tls_key_file, net::ssl::context::pem, ec);
    if (ec) throw util::Error(util::ErrorKind::usage, "cannot load --tls-key " + options.tls_key_file);
  }
}

unsigned short Server::port() const {
  return acceptor_.local_endpoint().port();
}

std::string Server::address() const {
  return acceptor_.local_endpoint().address().to_string();
}

void Server::start() {
  accept();
}

void Server::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (!ec) {
      if (tls_)
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(handler_, std::move(socket), *tls_)
            ->start();
      else
        std::make_shared<Session<beast::tcp_stream>>(handler_, std::move(socket))->start();
    }
    if (acceptor_.is_open()) accept();
  });
}

}  // namespace kfp::emulator
