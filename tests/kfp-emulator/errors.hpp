#pragma once
// Error replies in the real server's shapes (NOTES.md section E): the grpc-gateway body on JSON
// endpoints, the upload endpoints' own {"error_message","error_details"} body, and plain text.

#include "message.hpp"
#include "options.hpp"

#include <string>

namespace kfp::emulator {

// gRPC codes the server uses, with the HTTP status grpc-gateway maps each to.
enum class Code {
  invalid_argument = 3,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  aborted = 10,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  unauthenticated = 16,
};

[[nodiscard]] int http_status(Code code);

// A failure raised by a handler; `message` is the wrapped internal chain, `user_message` the
// external message the server puts in details[0].
struct ApiError {
  Code code = Code::internal;
  std::string message;
  std::string user_message;
  int status_override = 0;  // non-zero: the HTTP status, when the server does not follow the code
  bool plain_text = false;  // answered with http.Error (text/plain), not a JSON body
};

[[nodiscard]] ApiError api_error(Code code, std::string message, std::string user_message = {});

// {"code","message","details":[google.rpc.Status]} (+ "error" on gateway v1 servers).
[[nodiscard]] Reply gateway_error(ServerVersion version, const ApiError& error);
// {"error_message","error_details"} with the given status.
[[nodiscard]] Reply upload_error(int status, const std::string& message);
[[nodiscard]] Reply text_reply(int status, std::string body);

}  // namespace kfp::emulator

namespace kfp::emulator {

// Thrown by handlers; the dispatcher renders it in the endpoint's error shape.
class ApiFailure : public std::exception {
 public:
  explicit ApiFailure(ApiError error) : error_(std::move(error)) {}
  ApiFailure(Code code, std::string message, std::string user_message = {})
      : error_(api_error(code, std::move(message), std::move(user_message))) {}
  [[nodiscard]] const ApiError& error() const noexcept { return error_; }
  [[nodiscard]] const char* what() const noexcept override { return error_.message.c_str(); }

 private:
  ApiError error_;
};

}  // namespace kfp::emulator
