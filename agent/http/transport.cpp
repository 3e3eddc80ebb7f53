#include "http/transport.hpp"

#include <boost/algorithm/string/predicate.hpp>

namespace kfp::http {

std::string_view to_string(Method method) {
  switch (method) {
    case Method::get: return "GET";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::patch: return "PATCH";
    case Method::del: return "DELETE";
  }
  return "GET";
}

void Headers::set(std::string name, std::string value) {
  for (auto& field : fields) {
    if (boost::algorithm::iequals(field.first, name)) {
      field.second = std::move(value);
      return;
    }
  }
  fields.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& field : fields) {
    if (boost::algorithm::iequals(field.first, name)) return field.second;
  }
  return std::nullopt;
}

std::uint64_t Body::size() const {
  std::uint64_t total = 0;
  for (const auto& piece : pieces) {
    if (const auto* text = std::get_if<std::string>(&piece.content))
      total += text->size();
    else
      total += std::get<BodyPiece::FileRange>(piece.content).length;
  }
  return total;
}

Body Body::text(std::string content) {
  Body body;
  body.pieces.push_back(BodyPiece{std::move(content)});
  return body;
}

}  // namespace kfp::http
