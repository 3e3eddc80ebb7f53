#pragma once
// Error replies in the real server's shapes: the grpc-gateway body on JSON endpoints (per
// gateway version), the upload endpoints' own {"error_message","error_details"} body, and
// net/http's plain text. FIDELITY.md section "Errors" cites each shape.

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
  failed_precondition = 9,
  aborted = 10,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  unauthenticated = 16,
};

[[nodiscard]] int http_status(Code code);

// A failure as KFP's util.UserError carries it: `message` is the internal chain (what
// err.Error() prints, each util.Wrap prepending "prefix: "), `user_message` the external message.
struct ApiError {
  Code code = Code::internal;
  std::string message;
  std::string user_message;
  int status_override = 0;  // non-zero: the HTTP status, when the server does not follow the code
  bool plain_text = false;  // answered with http.Error (text/plain), not a JSON body
  // A plain Go error, not a util.UserError: util.Wrap appends "\n<prefix>" and a stack trace, and
  // ToGRPCError answers it as code Internal with "Internal error: <%+v>" (1.8's auth failures).
  bool go_error = false;
};

[[nodiscard]] ApiError api_error(Code code, std::string message, std::string user_message = {});

// The constructors of backend/src/common/util/error.go, with their internal prefixes.
[[nodiscard]] ApiError invalid_input(const std::string& message);
[[nodiscard]] ApiError resource_not_found(std::string_view type, const std::string& id);
[[nodiscard]] ApiError already_exist(const std::string& message);
// NewInternalServerError(cause, message): code Internal, external "Internal Server Error".
[[nodiscard]] ApiError internal_server(const std::string& cause, const std::string& message);
[[nodiscard]] ApiError unauthenticated(const std::string& cause, const std::string& external);
[[nodiscard]] ApiError permission_denied(const std::string& cause, const std::string& external);
[[nodiscard]] ApiError plain_go_error(const std::string& message);
// util.Wrap: the internal chain gains "prefix: " in front; code and external message stay.
[[nodiscard]] ApiError wrap(ApiError error, std::string_view prefix);

// The gateway's error body for `version`: {"error"?,"code","message","details":[...]}.
[[nodiscard]] Reply gateway_error(ServerVersion version, const ApiError& error);
// The gateway's own routing answers (no route, wrong method).
[[nodiscard]] Reply gateway_not_found(ServerVersion version);
[[nodiscard]] Reply gateway_method_not_allowed(ServerVersion version);
// {"error_message","error_details"}: what the upload handlers' writeErrorToResponse writes.
// `json_content_type`: whether the handler had set Content-Type before failing (otherwise Go
// sniffs the body and sends text/plain; charset=utf-8). `with_stack`: the error was a
// github.com/pkg/errors value, whose %+v appends a Go stack trace to error_details.
[[nodiscard]] Reply upload_error(int status, const std::string& message, bool json_content_type,
                                 bool with_stack);
// net/http's http.Error: text/plain; charset=utf-8, nosniff, the message and a newline.
[[nodiscard]] Reply http_error(int status, const std::string& message);
[[nodiscard]] Reply text_reply(int status, std::string body);

// Content type Go's http.DetectContentType gives a body written without one (the subset of
// its sniffing table the emulator's bodies can reach).
[[nodiscard]] std::string sniffed_content_type(std::string_view body);

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
  // The same failure with `prefix: ` before its internal chain (util.Wrap).
  [[nodiscard]] ApiFailure wrapped(std::string_view prefix) const { return ApiFailure(wrap(error_, prefix)); }

 private:
  ApiError error_;
};

}  // namespace kfp::emulator
