#pragma once
// Where the bearer token comes from. Every source hands out the token per request (nullopt: send no
// Authorization header) and registers each token it obtains with the process's util::Secrets the
// moment it has it, so that no output channel can show it.

#include "util/error.hpp"
#include "util/log.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace kfp::auth {

// No real token comes near this; a bigger file is not a token.
constexpr std::size_t kMaxTokenBytes = std::size_t{64} * 1024;

// Supplies the bearer token for each request; nullopt sends no Authorization header. Failures carry
// kind unauthenticated (or usage for a misconfiguration) and never the token.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  [[nodiscard]] virtual util::Result<std::optional<std::string>> token() = 0;
};

// A token file's content without surrounding whitespace; nullopt when the file does not exist (the
// caller then sends no Authorization header). Fails with kind unauthenticated, naming the path
// and never the content, when the file is unreadable, a directory, empty, over kMaxTokenBytes,
// or holds whitespace or control characters inside the token.
[[nodiscard]] util::Result<std::optional<std::string>> read_token_file(const std::filesystem::path& path);

// The `file` source: the file read afresh for every request, because the kubelet rotates projected
// service-account tokens in place and a copy taken at start-up goes stale in long waits.
class FileTokenSource final : public TokenSource {
 public:
  FileTokenSource(std::filesystem::path path, util::Secrets& secrets)
      : path_(std::move(path)), secrets_(secrets) {}
  [[nodiscard]] util::Result<std::optional<std::string>> token() override;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  util::Secrets& secrets_;
};

}  // namespace kfp::auth
