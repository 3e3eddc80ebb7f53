// kfp-emulator: a test double of the Kubeflow Pipelines API server for integration tests,
// benchmarks and demos. Not a production server.

#include "app.hpp"
#include "gateway.hpp"
#include "jwt.hpp"
#include "options.hpp"
#include "server.hpp"
#include "ui_proxy.hpp"

#include "util/duration.hpp"
#include "util/error.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

namespace {

using namespace kfp::emulator;
namespace util = kfp::util;

std::chrono::milliseconds duration_flag(const std::string& text, const char* flag) {
  auto parsed = util::parse_duration(text);
  if (!parsed) throw util::Error(util::ErrorKind::usage, std::string(flag) + ": " + parsed.error().message);
  return *parsed;
}

// Like parse_duration, but a leading '-' makes a negative ttl (an already expired token).
std::chrono::seconds ttl_flag(const std::string& text) {
  bool negative = !text.empty() && text.front() == '-';
  auto magnitude = duration_flag(negative ? text.substr(1) : text, "--ttl");
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(magnitude);
  return negative ? -seconds : seconds;
}

int serve(Options options, std::optional<GatewaySettings> gateway) {
  boost::asio::io_context io{1};
  std::unique_ptr<Handler> handler;
  if (gateway)
    handler = std::make_unique<Gateway>(options, std::move(*gateway));
  else if (options.ui_proxy.empty())
    handler = std::make_unique<App>(options);
  else
    handler = std::make_unique<UiProxy>(io, options);
  Server server(io, *handler, options);
  server.start();
  std::cout << "listening on " << server.address() << ":" << server.port() << std::endl;
  io.run();
  return 0;
}

int run(int argc, char** argv) {
  CLI::App cli{
      "kfp-emulator: a TEST DOUBLE of the Kubeflow Pipelines API server (v2beta1 and v1beta1), for\n"
      "integration tests, benchmarks and demos. It keeps everything in memory and is NOT a\n"
      "production server. Control endpoints: /_emulator/outcomes, /_emulator/faults,\n"
      "/_emulator/requests, /_emulator/state."};
  Options options;
  std::string auth = "none", version = "2.17.0", run_duration = "2s", latency = "0s", principals;
  cli.add_option("--listen", options.listen, "HOST:PORT to listen on; port 0 picks a free one")
      ->capture_default_str();
  cli.add_option("--auth", auth, "none (single-user) or token (multi-user, RS256 bearer tokens)")
      ->check(CLI::IsMember({"none", "token"}))
      ->capture_default_str();
  cli.add_option("--token-key", options.token_key_file,
                 "RSA private key (PEM) whose public half verifies tokens");
  cli.add_option("--rbac", options.rbac_file,
                 "YAML list of {subject, namespace, allow: [\"*\"|\"resource/verb\"]} rules");
  cli.add_option("--istio-principals", principals,
                 "comma-separated cluster.local/ns/NS/sa/SA allowed by the mesh");
  cli.add_option("--server-version", version, "KFP server release to imitate: " + server_version_list())
      ->check([](const std::string& text) {
        return parse_server_version(text) ? std::string{} : "not one of " + server_version_list();
      })
      ->capture_default_str();
  cli.add_option("--run-duration", run_duration, "how long a run takes to finish")->capture_default_str();
  cli.add_option("--latency", latency,
                 "network latency of every API and upload request: half before the server acts, half "
                 "before the reply")
      ->capture_default_str();
  cli.add_option("--ui-proxy", options.ui_proxy,
                 "answer as the KFP UI server (ml-pipeline-ui) of --server-version 2.3.0 or 2.17.0 in front "
                 "of the API server at this http://HOST:PORT, instead of as the API server");
  cli.add_option("--tls-cert", options.tls_cert_file, "serve HTTPS with this certificate chain (PEM)");
  cli.add_option("--tls-key", options.tls_key_file, "private key of --tls-cert (PEM)");
  std::vector<std::string> gateway_files;
  std::string gateway_login = "oauth2-proxy";
  cli.add_option("--gateway", gateway_files,
                 "answer as the Kubeflow ingress gateway (Istio jwt_authn, oauth2-proxy, the ml-pipeline-ui "
                 "route under /pipeline) in front of the API server; FILE holds RequestAuthentication "
                 "manifests whose jwtRules are the trusted issuers (repeatable; needs --auth token)");
  cli.add_option(
         "--gateway-login", gateway_login,
         "what answers a request without an Authorization header: oauth2-proxy (Kubeflow's "
         "oauth2_proxy.cfg: 401 for API paths, else its sign-in page) or redirect (302 to the sign-in)")
      ->check(CLI::IsMember({"oauth2-proxy", "redirect"}))
      ->capture_default_str();
  std::int64_t gateway_clock_skew = 60;
  cli.add_option("--gateway-clock-skew", gateway_clock_skew,
                 "seconds a token is still taken after its exp (Envoy's clock_skew_seconds; Istio leaves the "
                 "default)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  auto* mint =
      cli.add_subcommand("mint-token", "print an RS256 service-account JWT as Kubernetes projects it");
  std::string key_file, subject, audience{kfp_audience}, ttl = "1h";
  mint->add_option("--key", key_file, "RSA private key (PEM)")->required();
  mint->add_option("--sub", subject, "system:serviceaccount:NAMESPACE:NAME")->required();
  mint->add_option("--aud", audience, "audience")->capture_default_str();
  mint->add_option("--ttl", ttl, "lifetime; negative for an expired token")->capture_default_str();
  cli.require_subcommand(0, 1);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return cli.exit(error);
  }

  if (mint->parsed()) {
    auto key = RsaKey::load(key_file).value();
    auto token =
        mint_token(key, MintRequest{subject, audience, ttl_flag(ttl)}, std::chrono::system_clock::now())
            .value();
    std::cout << token << std::endl;
    return 0;
  }
  options.auth = auth == "token" ? AuthMode::token : AuthMode::none;
  options.version = *parse_server_version(version);
  options.run_duration = duration_flag(run_duration, "--run-duration");
  options.latency = duration_flag(latency, "--latency");
  // The UI server's source is in the tree for these releases only (../shared/upstream).
  if (!options.ui_proxy.empty() && options.version != ServerVersion::v2_3_0 &&
      options.version != ServerVersion::v2_17_0)
    throw util::Error(util::ErrorKind::usage,
                      "--ui-proxy imitates the UI server of 2.3.0 or 2.17.0; pass --server-version");
  if (!gateway_files.empty() && (options.auth != AuthMode::token || !options.ui_proxy.empty()))
    throw util::Error(util::ErrorKind::usage, "--gateway fronts a multi-user API server: pass --auth token");
  std::size_t start = 0;
  while (start < principals.size()) {
    auto comma = principals.find(',', start);
    auto item = principals.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) options.istio_principals.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::optional<GatewaySettings> gateway;
  if (!gateway_files.empty())
    gateway = GatewaySettings{load_jwt_rules(gateway_files),
                              gateway_login == "redirect" ? LoginMode::redirect : LoginMode::oauth2_proxy,
                              gateway_clock_skew};
  return serve(std::move(options), std::move(gateway));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const util::Error& error) {
    std::cerr << "kfp-emulator: error: " << error.what() << "\n";
    if (!error.hint().empty()) std::cerr << "hint: " << error.hint() << "\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "kfp-emulator: error: " << error.what() << "\n";
    return 70;
  }
}
