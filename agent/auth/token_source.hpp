#pragma once
// The bearer token, read from a file afresh on every use: the kubelet rotates projected
// service-account tokens in place, so a copy taken at start-up goes stale in long waits.

#include "util/error.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace kfp::auth {

// No real token comes near this; a bigger file is not a token.
constexpr std::size_t kMaxTokenBytes = std::size_t{64} * 1024;

class TokenSource {
 public:
  explicit TokenSource(std::filesystem::path path) : path_(std::move(path)) {}

  // The file's content without surrounding whitespace; nullopt when the file does not exist (the
  // caller then sends no Authorization header). Fails with kind unauthenticated, naming the path
  // and never the content, when the file is unreadable, a directory, empty, over kMaxTokenBytes,
  // or holds whitespace or control characters inside the token.
  [[nodiscard]] util::Result<std::optional<std::string>> token() const;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace kfp::auth
