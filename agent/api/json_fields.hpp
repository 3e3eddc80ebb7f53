#pragma once
// Tolerant reading of the API's JSON: the server omits zero values, so an absent or mistyped
// field reads as empty rather than failing.

#include "api/connection.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace kfp::api {

// The string member `key`, or "" when absent or not a string.
[[nodiscard]] std::string string_field(const boost::json::object& object, std::string_view key);

// The boolean member `key`, false when absent or not a boolean.
[[nodiscard]] bool bool_field(const boost::json::object& object, std::string_view key);

// `value` as an object, or an empty object when it is anything else.
[[nodiscard]] const boost::json::object& object_of(const boost::json::value& value);

// The first element of the list `key` in a list response; nullopt for an empty or absent list.
[[nodiscard]] std::optional<boost::json::value> first_item(const ApiReply& reply, std::string_view key);

}  // namespace kfp::api
