#include "doctor/network.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include <memory>

namespace kfp::doctor {

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using tcp = asio::ip::tcp;

constexpr std::size_t max_addresses_shown = 4;

struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// Runs the operation already started on `ioc` for at most `timeout` and returns its `result`; on
// expiry calls `cancel`, lets the operation finish aborted, and returns timed_out.
template <class Cancel>
error_code run_with_deadline(asio::io_context& ioc, const error_code& result, util::Milliseconds timeout,
                             Cancel cancel) {
  ioc.restart();
  ioc.run_for(timeout);
  if (!ioc.stopped()) {
    cancel();
    ioc.run();
    return asio::error::timed_out;
  }
  return result;
}

std::string timeout_text(util::Milliseconds timeout) {
  return util::format_duration(timeout);
}

std::string name_of(X509_NAME* name) {
  if (name == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string not_after(const X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  ASN1_TIME_print(bio.get(), X509_get0_notAfter(certificate));
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string describe_certificate(SSL* handle) {
  X509Ptr certificate(SSL_get1_peer_certificate(handle));
  if (!certificate) return "no certificate";
  return fmt::format("certificate subject {}, issuer {}, valid until {}",
                     name_of(X509_get_subject_name(certificate.get())),
                     name_of(X509_get_issuer_name(certificate.get())), not_after(certificate.get()));
}

// SSL_set_tlsext_host_name is a macro with a C cast inside.
bool set_server_name(SSL* handle, const std::string& host) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
  return SSL_set_tlsext_host_name(handle, host.c_str()) == 1;
#pragma GCC diagnostic pop
}

bool is_ip_address(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

util::Failure network_failure(std::string message, std::string hint) {
  return util::fail(util::ErrorKind::network, std::move(message), std::move(hint));
}

Check probe_dns(asio::io_context& ioc, const http::Target& target, const NetworkOptions& options,
                tcp::resolver::results_type& endpoints) {
  tcp::resolver resolver(ioc);
  error_code result = asio::error::would_block;
  resolver.async_resolve(target.host, std::to_string(target.port),
                         [&](const error_code& ec, tcp::resolver::results_type found) {
                           result = ec;
                           endpoints = std::move(found);
                         });
  const error_code ec = run_with_deadline(ioc, result, options.timeout, [&] { resolver.cancel(); });
  if (ec) {
    const std::string why = ec == asio::error::timed_out
                                ? fmt::format("no answer within {}", timeout_text(options.timeout))
                                : ec.message();
    return fail("dns", network_failure(
                           fmt::format("cannot resolve {}: {}", target.host, why),
                           fmt::format("check the host in --host (KFP_HOST); {} resolves only where its DNS "
                                       "serves it (a *.svc.cluster.local name only inside the cluster: from "
                                       "outside use the gateway, https://HOST/pipeline)",
                                       target.host)));
  }
  if (is_ip_address(target.host))
    return ok("dns", fmt::format("{} is an IP address: no lookup", target.host));
  std::vector<std::string> addresses;
  for (const auto& entry : endpoints) {
    if (addresses.size() == max_addresses_shown) break;
    addresses.push_back(entry.endpoint().address().to_string());
  }
  return ok("dns", fmt::format("{} resolves to {}", target.host, fmt::join(addresses, ", ")));
}

Check probe_tcp(asio::io_context& ioc, const http::Target& target, const NetworkOptions& options,
                const tcp::resolver::results_type& endpoints, tcp::socket& socket) {
  error_code result = asio::error::would_block;
  tcp::endpoint connected;
  asio::async_connect(socket, endpoints, [&](const error_code& ec, const tcp::endpoint& endpoint) {
    result = ec;
    connected = endpoint;
  });
  const error_code ec = run_with_deadline(ioc, result, options.timeout, [&] { socket.close(); });
  if (ec == asio::error::connection_refused) {
    return fail("tcp", network_failure(
                           fmt::format("connection to {} refused: nothing listens there, or a NetworkPolicy "
                                       "rejects the connection",
                                       target.host_header),
                           !options.refused_fix.empty()
                               ? options.refused_fix
                               : "check the port in --host (the API server ml-pipeline listens on 8888, "
                                 "ml-pipeline-ui on 80, the gateway on 443) and that the server runs "
                                 "(kubectl -n kubeflow get pods -l app=ml-pipeline)"));
  }
  if (ec == asio::error::timed_out) {
    return fail("tcp", network_failure(fmt::format("no connection to {} within {}", target.host_header,
                                                   timeout_text(options.timeout)),
                                       !options.dropped_fix.empty()
                                           ? options.dropped_fix
                                           : "something drops the packets: a NetworkPolicy, a firewall or a "
                                             "security group between this pod and the server"));
  }
  if (ec) {
    return fail("tcp",
                network_failure(fmt::format("cannot connect to {}: {}", target.host_header, ec.message()),
                                "check the route from here to the server"));
  }
  return ok("tcp", fmt::format("connected to {}:{}", connected.address().to_string(), connected.port()));
}

Check probe_tls(asio::io_context& ioc, const http::Target& target, const NetworkOptions& options,
                tcp::socket& socket) {
  ssl::context context{ssl::context::tls_client};
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code setup;
  if (options.insecure_skip_tls_verify) {
    context.set_verify_mode(ssl::verify_none);
  } else {
    context.set_verify_mode(ssl::verify_peer);
    if (options.ca_file) {
      (void)context.load_verify_file(options.ca_file->string(), setup);
      if (setup) {
        return fail("tls",
                    util::fail(util::ErrorKind::usage,
                               fmt::format("cannot load the CA file {}: {}", options.ca_file->string(),
                                           setup.message()),
                               "--ca-file (KFP_CA_FILE) must name a readable PEM file of CA certificates"));
      }
    } else {
      (void)context.set_default_verify_paths(setup);
    }
  }
  ssl::stream<tcp::socket> stream(std::move(socket), context);
  SSL* handle = stream.native_handle();
  const bool ip = is_ip_address(target.host);
  if (!ip) (void)set_server_name(handle, target.host);
  if (!options.insecure_skip_tls_verify) {
    if (ip)
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), target.host.c_str());
    else
      SSL_set1_host(handle, target.host.c_str());
    stream.set_verify_callback(ssl::host_name_verification(target.host));
  }
  error_code result = asio::error::would_block;
  stream.async_handshake(ssl::stream_base::client, [&](const error_code& ec) { result = ec; });
  const error_code ec = run_with_deadline(ioc, result, options.timeout, [&] { stream.next_layer().close(); });
  if (!ec) {
    std::string detail = fmt::format("TLS handshake with {} ({}): {}", target.host_header,
                                     SSL_get_version(handle), describe_certificate(handle));
    if (options.insecure_skip_tls_verify) {
      return warn("tls", detail + "; NOT verified (--insecure-skip-tls-verify)",
                  "pass the server's CA with --ca-file instead of --insecure-skip-tls-verify");
    }
    return ok("tls", detail + "; verified");
  }
  const long verify = SSL_get_verify_result(handle);
  std::string reason = ec == asio::error::timed_out
                           ? fmt::format("no answer within {}", timeout_text(options.timeout))
                           : ec.message();
  std::string fix = "check that the server speaks TLS on this port (use http:// otherwise)";
  if (verify != X509_V_OK) {
    reason = fmt::format("{} ({}); {}", reason, X509_verify_cert_error_string(verify),
                         describe_certificate(handle));
    fix =
        verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH
            ? "use a --host name that the server certificate lists in its subjectAltName"
            : "pass the CA that signed the server certificate with --ca-file (KFP_CA_FILE); the system trust "
              "store does not know it";
  }
  return fail("tls",
              util::fail(util::ErrorKind::tls,
                         fmt::format("TLS handshake with {} failed: {}", target.host_header, reason), fix));
}

}  // namespace

std::vector<Check> probe_network(const http::Target& target, const NetworkOptions& options) {
  std::vector<Check> checks;
  asio::io_context ioc;
  tcp::resolver::results_type endpoints;
  tcp::socket socket(ioc);
  checks.push_back(probe_dns(ioc, target, options, endpoints));
  if (checks.back().status == Status::fail) {
    checks.push_back(skip("tcp", "no address to connect to"));
  } else {
    checks.push_back(probe_tcp(ioc, target, options, endpoints, socket));
  }
  if (target.scheme == http::Scheme::http) {
    checks.push_back(skip("tls", "plain http: no TLS"));
  } else if (checks.back().status != Status::ok) {
    checks.push_back(skip("tls", "no TCP connection"));
  } else {
    checks.push_back(probe_tls(ioc, target, options, socket));
  }
  return checks;
}

}  // namespace kfp::doctor
