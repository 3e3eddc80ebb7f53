#pragma once
// Content digests (nettle's SHA-256, which needs no library initialisation). Cannot fail.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace kfp::util {

// "sha256:" followed by 64 lowercase hex digits.
[[nodiscard]] std::string sha256_digest(std::string_view bytes);

// Incremental form, for content streamed from disk.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  [[nodiscard]] std::string finish();  // "sha256:<hex>"

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace kfp::util
