#include "util/digest.hpp"

#include "util/error.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>

namespace kfp::util {

struct Sha256::Impl {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

Sha256::Sha256() : impl_(new Impl) {
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) != 1) {
    delete impl_;
    throw Error(ErrorKind::internal, "OpenSSL could not start a SHA-256 digest");
  }
}

Sha256::~Sha256() {
  delete impl_;
}

void Sha256::update(std::string_view bytes) {
  if (EVP_DigestUpdate(impl_->ctx.get(), bytes.data(), bytes.size()) != 1) {
    throw Error(ErrorKind::internal, "OpenSSL SHA-256 update failed");
  }
}

std::string Sha256::finish() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), md.data(), &length) != 1) {
    throw Error(ErrorKind::internal, "OpenSSL SHA-256 final failed");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex[md[i] >> 4U]);
    out.push_back(hex[md[i] & 0x0FU]);
  }
  return out;
}

std::string sha256_digest(std::string_view bytes) {
  Sha256 sha;
  sha.update(bytes);
  return sha.finish();
}

}  // namespace kfp::util
