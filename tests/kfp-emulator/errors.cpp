#include "errors.hpp"

#include <boost/json.hpp>

namespace kfp::emulator {

namespace json = boost::json;

int http_status(Code code) {
  switch (code) {
    case Code::invalid_argument: return 400;
    case Code::not_found: return 404;
    case Code::already_exists: return 409;
    case Code::permission_denied: return 403;
    case Code::aborted: return 409;
    case Code::unimplemented: return 501;
    case Code::internal: return 500;
    case Code::unavailable: return 503;
    case Code::unauthenticated: return 401;
  }
  return 500;
}

ApiError api_error(Code code, std::string message, std::string user_message) {
  ApiError error;
  error.code = code;
  if (user_message.empty()) user_message = message;
  error.message = std::move(message);
  error.user_message = std::move(user_message);
  return error;
}

Reply gateway_error(ServerVersion version, const ApiError& error) {
  json::object body;
  auto code = static_cast<int>(error.code);
  if (!is_gateway_v2(version)) body["error"] = error.message;
  body["code"] = code;
  body["message"] = error.message;
  json::object detail;
  detail["@type"] = "type.googleapis.com/google.rpc.Status";
  detail["code"] = code;
  detail["message"] = error.user_message;
  body["details"] = json::array{detail};
  Reply reply;
  reply.status = error.status_override != 0 ? error.status_override : http_status(error.code);
  reply.body = json::serialize(body);
  return reply;
}

Reply upload_error(int status, const std::string& message) {
  Reply reply;
  reply.status = status;
  reply.body = json::serialize(json::object{{"error_message", message}, {"error_details", message}});
  return reply;
}

Reply text_reply(int status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body = std::move(body);
  return reply;
}

}  // namespace kfp::emulator
