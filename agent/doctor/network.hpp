#pragma once
// The network links of the chain, each probed on its own with a deadline: DNS for the host, a TCP
// connect, and for https a TLS handshake whose certificate is described as evidence.

#include "doctor/check.hpp"
#include "http/url.hpp"
#include "util/duration.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kfp::doctor {

struct NetworkOptions {
  util::Milliseconds timeout{30'000};  // each of resolve, connect and handshake
  std::optional<std::filesystem::path> ca_file;
  bool insecure_skip_tls_verify = false;
  // The fix of a connection refused, or dropped (no answer within the timeout), when the caller
  // knows the route's NetworkPolicy; empty: the generic advice.
  std::string refused_fix = {};
  std::string dropped_fix = {};
};

// The checks "dns", "tcp" and "tls" for `target`, in that order; a check after a failed one is
// skipped, and "tls" is skipped for http. Failures carry kind network (DNS, connect) or tls.
[[nodiscard]] std::vector<Check> probe_network(const http::Target& target, const NetworkOptions& options);

}  // namespace kfp::doctor
