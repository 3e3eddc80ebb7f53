#include "api/json_fields.hpp"

namespace kfp::api {

std::string string_field(const boost::json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

bool bool_field(const boost::json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->value().is_bool() && it->value().as_bool();
}

const boost::json::object& object_of(const boost::json::value& value) {
  static const boost::json::object empty;
  return value.is_object() ? value.as_object() : empty;
}

std::optional<boost::json::value> first_item(const ApiReply& reply, std::string_view key) {
  const auto& object = object_of(reply.json);
  auto it = object.find(key);
  if (it == object.end() || !it->value().is_array() || it->value().as_array().empty()) return std::nullopt;
  return it->value().as_array().front();
}

}  // namespace kfp::api
