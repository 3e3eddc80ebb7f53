#pragma once
// The parts of an absolute http(s) URL the transport needs, parsed with Boost.URL.

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::http {

enum class Scheme { http, https };

struct Target {
  Scheme scheme = Scheme::http;
  std::string host;           // without brackets for IPv6 literals; what DNS, SNI and verification use
  std::uint16_t port = 80;    // the explicit port, else 80/443
  std::string host_header;    // host[:port] as the Host header and CONNECT want it (brackets kept)
  std::string origin_form;    // path?query, "/" when empty
  std::string absolute_form;  // scheme://host[:port]/path?query without user info or fragment
};

// Parses scheme://host[:port][/path][?query]. Fails with kind usage on anything else (another
// scheme, no host, a bad port); the message quotes the URL, which never carries a token.
[[nodiscard]] util::Result<Target> parse_target(std::string_view url);

// A --host value checked and normalized: an absolute http(s) URL (the scheme in any case) with a
// host, an optional port 1-65535 and an optional path prefix. Whitespace, user info (credentials),
// a query or a fragment are refused: each fails with kind usage naming the problem, and no message
// repeats user info. The result has the scheme in lower case and no trailing slash.
[[nodiscard]] util::Result<std::string> normalize_base_url(std::string_view url);

// The user info of every URL inside `text` ("user:pass" in "--host=http://user:pass@h/"), as written
// and percent-decoded, each followed by '@': the credentials to redact from every output.
[[nodiscard]] std::vector<std::string> url_credentials(std::string_view text);

// A URL as stored where others can read it (a pipeline version's code source URL, which every user of
// the KFP server sees): without user info ("x-access-token:TOKEN@", GitLab's
// "gitlab-ci-token:TOKEN@" in CI_REPOSITORY_URL) and without query parameters that carry credentials
// (credential_query_parameters). Text that is not a URL comes back as it was, minus any user info
// before '@' in an authority.
struct PublicUrl {
  std::string url;
  std::vector<std::string> removed;  // what was taken out ("user info", "query parameter token"), no values
};
[[nodiscard]] PublicUrl without_credentials(std::string_view url);

// The query parameters (compared without case) that carry credentials in URLs people copy: GitHub's
// raw links (`token`), GitLab's API (`private_token`, `access_token`, `job_token`), signed S3, GCS and
// Azure Blob URLs (`X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`, `X-Goog-Signature`,
// `X-Goog-Credential`, `sig`), and the generic `password`, `secret`, `client_secret`, `api_key`.
[[nodiscard]] bool is_credential_query_parameter(std::string_view name);

// "http" or "https".
[[nodiscard]] std::string_view to_string(Scheme scheme);

}  // namespace kfp::http
