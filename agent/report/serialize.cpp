#include "report/serialize.hpp"

#include <boost/json/serialize.hpp>
#include <boost/locale/utf.hpp>

#include <array>
#include <optional>

namespace kfp::report {

namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view ellipsis = "…";

// The members every termination message keeps for as long as it can; the rest is a command's details.
constexpr std::array<std::string_view, 12> core_members = {
    "schema",   "command", "exit_code",  "outcome", "server", "namespace",
    "pipeline", "version", "experiment", "run",     "error",  "truncated"};

bool is_core(std::string_view key) {
  for (auto core : core_members) {
    if (key == core) return true;
  }
  return false;
}

std::string valid_utf8(std::string_view text) {
  using utf = boost::locale::utf::utf_traits<char>;
  std::string out;
  out.reserve(text.size());
  auto position = text.begin();
  while (position != text.end()) {
    const auto start = position;
    const auto code_point = utf::decode(position, text.end());
    if (code_point == boost::locale::utf::illegal || code_point == boost::locale::utf::incomplete) {
      // One replacement per offending byte; decoding resumes right after it.
      out += replacement_character;
      position = start + 1;
    } else {
      out.append(start, position);
    }
  }
  return out;
}

std::string clean(std::string_view text, const util::Secrets& secrets) {
  // Redact first: a secret is matched on the bytes as they came.
  return valid_utf8(secrets.redact(std::string(text)));
}

// Cuts valid UTF-8 to at most `limit` bytes, ending in "…", at a code point boundary.
void shorten(boost::json::string& text, std::size_t limit) {
  if (text.size() <= limit) return;
  std::size_t cut = limit > ellipsis.size() ? limit - ellipsis.size() : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text.append(ellipsis);
}

void shorten_strings(boost::json::value& value, std::size_t limit) {
  if (auto* text = value.if_string()) {
    shorten(*text, limit);
  } else if (auto* array = value.if_array()) {
    for (auto& item : *array) shorten_strings(item, limit);
  } else if (auto* object = value.if_object()) {
    for (auto& member : *object) shorten_strings(member.value(), limit);
  }
}

void cap_arrays(boost::json::value& value, std::size_t max_items) {
  if (auto* array = value.if_array()) {
    if (array->size() > max_items) array->resize(max_items);
    for (auto& item : *array) cap_arrays(item, max_items);
  } else if (auto* object = value.if_object()) {
    for (auto& member : *object) cap_arrays(member.value(), max_items);
  }
}

}  // namespace

void sanitize(boost::json::value& value, const util::Secrets& secrets) {
  if (auto* text = value.if_string()) {
    *text = clean(*text, secrets);
  } else if (auto* array = value.if_array()) {
    for (auto& item : *array) sanitize(item, secrets);
  } else if (auto* object = value.if_object()) {
    boost::json::object cleaned;
    cleaned.reserve(object->size());
    for (auto& member : *object) {
      sanitize(member.value(), secrets);
      cleaned[clean(member.key(), secrets)] = std::move(member.value());
    }
    *object = std::move(cleaned);
  }
}

std::string to_json_text(const Report& report, const util::Secrets& secrets) {
  boost::json::value value = to_json(report);
  sanitize(value, secrets);
  return boost::json::serialize(value);
}

std::string termination_message(const Report& report, const util::Secrets& secrets, std::size_t max_bytes) {
  boost::json::value value = to_json(report);
  sanitize(value, secrets);
  auto fitting = [&]() -> std::optional<std::string> {
    std::string text = boost::json::serialize(value);
    if (text.size() <= max_bytes) return text;
    return std::nullopt;
  };
  if (auto text = fitting()) return *text;

  auto& object = value.as_object();
  object["truncated"] = true;
  // Messages, hints and URLs first: they are the long strings, and the report file keeps them whole.
  for (std::size_t limit : {512, 256}) {
    shorten_strings(value, limit);
    if (auto text = fitting()) return *text;
  }
  for (std::size_t items : {32, 8, 2, 0}) {
    for (auto& member : object) {
      if (!is_core(member.key())) cap_arrays(member.value(), items);
    }
    if (auto text = fitting()) return *text;
  }
  for (auto it = object.begin(); it != object.end();) {
    it = is_core(it->key()) ? std::next(it) : object.erase(it);
  }
  if (auto text = fitting()) return *text;
  // 96 keeps digests (71 bytes), ids and most names whole.
  for (std::size_t limit : {128, 96, 32}) {
    shorten_strings(value, limit);
    if (auto text = fitting()) return *text;
  }
  // The least a reader needs; small whatever the report held.
  boost::json::object minimal;
  for (std::string_view key : {"schema", "command", "exit_code", "outcome"}) {
    if (auto* member = object.if_contains(key)) minimal[key] = *member;
  }
  if (auto* error = object.if_contains("error"); error && error->is_object()) {
    if (auto* kind = error->as_object().if_contains("kind")) minimal["error"] = {{"kind", *kind}};
  }
  minimal["truncated"] = true;
  value = std::move(minimal);
  if (auto text = fitting()) return *text;
  return R"({"truncated":true})";
}

}  // namespace kfp::report
