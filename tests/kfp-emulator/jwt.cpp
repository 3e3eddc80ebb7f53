#include "jwt.hpp"

#include "util/base64.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <boost/json.hpp>

#include <cstdio>
#include <random>
#include <vector>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

EVP_PKEY* as_pkey(const std::shared_ptr<void>& key) {
  return static_cast<EVP_PKEY*>(key.get());
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

struct MdContextFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using MdContext = std::unique_ptr<EVP_MD_CTX, MdContextFree>;

std::string random_uid() {
  std::random_device device;
  std::uniform_int_distribution<int> digit(0, 15);
  std::string uid = "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx";
  for (char& c : uid)
    if (c == 'x') c = "0123456789abcdef"[digit(device)];
  return uid;
}

}  // namespace

void RsaKey::Free::operator()(void* key) const {
  EVP_PKEY_free(static_cast<EVP_PKEY*>(key));
}

util::Result<RsaKey> RsaKey::load(const std::filesystem::path& pem_file) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(pem_file.c_str(), "rb"));
  if (!file) return util::fail(util::ErrorKind::usage, "cannot read token key " + pem_file.string());
  EVP_PKEY* key = PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr);
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return util::fail(util::ErrorKind::usage, pem_file.string() + " is not an RSA private key in PEM",
                      "generate one with: openssl genrsa -out key.pem 2048");
  }
  RsaKey result;
  result.key_ = std::shared_ptr<void>(key, Free{});
  return result;
}

std::string RsaKey::sign(std::string_view data) const {
  MdContext context(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, as_pkey(key_)) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1)
    throw util::Error(util::ErrorKind::internal, "RS256 signing failed");
  std::string signature(length, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    throw util::Error(util::ErrorKind::internal, "RS256 signing failed");
  signature.resize(length);
  return signature;
}

bool RsaKey::verify(std::string_view data, std::string_view signature) const {
  MdContext context(EVP_MD_CTX_new());
  if (!context || EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, as_pkey(key_)) != 1)
    return false;
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

util::Result<std::string> mint_token(const RsaKey& key, const MintRequest& request,
                                     std::chrono::system_clock::time_point now) {
  constexpr std::string_view prefix = "system:serviceaccount:";
  std::string_view subject = request.subject;
  auto colon = subject.rfind(':');
  if (!subject.starts_with(prefix) || colon <= prefix.size())
    return util::fail(util::ErrorKind::usage, "subject must look like system:serviceaccount:NAMESPACE:NAME");
  std::string ns{subject.substr(prefix.size(), colon - prefix.size())};
  std::string sa{subject.substr(colon + 1)};
  auto issued = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto expires = issued + request.ttl.count();
  // An expired token must also have been valid once, so iat/nbf move back with a negative ttl.
  auto issued_at = request.ttl.count() < 0 ? expires - 3600 : issued;
  auto uid = random_uid();
  json::object claims;
  claims["aud"] = json::array{json::string(request.audience)};
  claims["exp"] = expires;
  claims["iat"] = issued_at;
  claims["nbf"] = issued_at;
  claims["iss"] = kubernetes_issuer;
  claims["sub"] = request.subject;
  claims["kubernetes.io.namespace"] = ns;
  claims["kubernetes.io.serviceaccount.name"] = sa;
  claims["kubernetes.io"] =
      json::object{{"namespace", ns}, {"serviceaccount", json::object{{"name", sa}, {"uid", uid}}}};
  json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "kfp-emulator"}};
  std::string signing_input =
      util::base64url_encode(json::serialize(header)) + "." + util::base64url_encode(json::serialize(claims));
  return signing_input + "." + util::base64url_encode(key.sign(signing_input));
}

namespace {

std::vector<std::string_view> split_token(std::string_view token) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::int64_t number_claim(const json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) return 0;
  if (value->is_int64()) return value->as_int64();
  if (value->is_double()) return static_cast<std::int64_t>(value->as_double());
  return 0;
}

}  // namespace

std::optional<json::object> decode_segment(std::string_view segment) {
  auto bytes = util::base64url_decode(segment);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  auto value = json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return value.as_object();
}

TokenCheck verify_token(const RsaKey& key, std::string_view token,
                        std::chrono::system_clock::time_point now) {
  TokenCheck check;
  auto parts = split_token(token);
  if (parts.size() != 3) return check;
  auto claims = decode_segment(parts[1]);
  auto signature = util::base64url_decode(parts[2]);
  if (!claims || !signature) return check;
  check.claims = std::move(*claims);
  if (const auto* sub = check.claims.if_contains("sub"); sub != nullptr && sub->is_string())
    check.subject = std::string(sub->as_string());
  auto signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!key.verify(signing_input, *signature)) {
    check.verdict = TokenVerdict::bad_signature;
    return check;
  }
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (number_claim(check.claims, "exp") <= seconds) {
    check.verdict = TokenVerdict::expired;
    return check;
  }
  if (number_claim(check.claims, "nbf") > seconds) {
    check.verdict = TokenVerdict::not_yet_valid;
    return check;
  }
  bool audience_ok = false;
  if (const auto* aud = check.claims.if_contains("aud")) {
    if (aud->is_string()) audience_ok = aud->as_string() == kfp_audience;
    if (aud->is_array())
      for (const auto& item : aud->as_array())
        if (item.is_string() && item.as_string() == kfp_audience) audience_ok = true;
  }
  check.verdict = audience_ok ? TokenVerdict::valid : TokenVerdict::wrong_audience;
  return check;
}

std::string unverified_subject(std::string_view token) {
  auto parts = split_token(token);
  if (parts.size() != 3) return {};
  auto claims = decode_segment(parts[1]);
  if (!claims) return {};
  if (const auto* sub = claims->if_contains("sub"); sub != nullptr && sub->is_string())
    return std::string(sub->as_string());
  return {};
}

}  // namespace kfp::emulator
