#include "upload.hpp"

#include "package/archive.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <regex>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

std::string boundary_of(const std::string& content_type) {
  auto position = content_type.find("boundary=");
  if (position == std::string::npos) return {};
  std::string boundary = content_type.substr(position + 9);
  if (auto semicolon = boundary.find(';'); semicolon != std::string::npos) boundary.resize(semicolon);
  if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  return boundary;
}

// The value of `attribute="..."` (or unquoted) in a Content-Disposition header.
std::optional<std::string> disposition_attribute(const std::string& header, const std::string& attribute) {
  std::size_t from = 0;
  while ((from = header.find(attribute + "=", from)) != std::string::npos) {
    bool at_word_start = from == 0 || header[from - 1] == ' ' || header[from - 1] == ';';
    from += attribute.size() + 1;
    if (!at_word_start) continue;
    if (from < header.size() && header[from] == '"') {
      auto end = header.find('"', from + 1);
      return header.substr(from + 1, end == std::string::npos ? std::string::npos : end - from - 1);
    }
    auto end = header.find(';', from);
    return header.substr(from, end == std::string::npos ? std::string::npos : end - from);
  }
  return std::nullopt;
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::optional<UploadedFile> read_upload_file(const Request& request) {
  auto content_type = request.header("content-type").value_or("");
  if (!lowercase(content_type).starts_with("multipart/form-data")) return std::nullopt;
  auto boundary = boundary_of(content_type);
  if (boundary.empty()) return std::nullopt;
  const std::string& body = request.body;
  const std::string delimiter = "--" + boundary;
  auto position = body.find(delimiter);
  while (position != std::string::npos) {
    position += delimiter.size();
    if (body.compare(position, 2, "--") == 0) break;
    if (body.compare(position, 2, "\r\n") == 0) position += 2;
    auto header_end = body.find("\r\n\r\n", position);
    if (header_end == std::string::npos) break;
    std::string headers = body.substr(position, header_end - position);
    auto content_start = header_end + 4;
    auto next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string::npos) break;
    std::string disposition;
    std::size_t line_start = 0;
    while (line_start < headers.size()) {
      auto line_end = headers.find("\r\n", line_start);
      std::string line = headers.substr(line_start, line_end - line_start);
      if (lowercase(line).starts_with("content-disposition:")) disposition = line.substr(20);
      if (line_end == std::string::npos) break;
      line_start = line_end + 2;
    }
    auto name = disposition_attribute(disposition, "name");
    auto filename = disposition_attribute(disposition, "filename");
    // Go's FormFile only sees parts that carry a filename.
    if (name && *name == "uploadfile" && filename)
      return UploadedFile{*filename, body.substr(content_start, next - content_start)};
    position = next + 2;
  }
  return std::nullopt;
}

namespace {

json::value scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return json::string(text);
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  static const std::regex true_words("true|True|TRUE|yes|Yes|YES|on|On|ON");
  static const std::regex false_words("false|False|FALSE|no|No|NO|off|Off|OFF");
  if (std::regex_match(text, true_words)) return true;
  if (std::regex_match(text, false_words)) return false;
  static const std::regex integer("[-+]?[0-9]+");
  if (std::regex_match(text, integer)) {
    std::int64_t number = 0;
    const char* begin = text.data() + (text.front() == '+' ? 1 : 0);
    auto [end, ec] = std::from_chars(begin, text.data() + text.size(), number);
    if (ec == std::errc{} && end == text.data() + text.size()) return number;
  }
  static const std::regex decimal("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(text, decimal)) return std::stod(text);
  return json::string(text);
}

json::value node_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      json::array array;
      for (const auto& item : node) array.push_back(node_to_json(item));
      return array;
    }
    case YAML::NodeType::Map: {
      json::object object;
      for (const auto& item : node) object[item.first.as<std::string>()] = node_to_json(item.second);
      return object;
    }
  }
  return nullptr;
}

bool looks_like_json(const std::string& document) {
  for (char c : document) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    return c == '{';
  }
  return false;
}

bool has_suffix(const std::string& name, std::string_view suffix) {
  return name.ends_with(suffix);
}

}  // namespace

json::value yaml_to_json(const std::string& document) {
  auto nodes = YAML::LoadAll(document);
  std::vector<json::value> documents;
  for (const auto& node : nodes)
    if (!node.IsNull()) documents.push_back(node_to_json(node));
  if (documents.empty()) return nullptr;
  if (documents.size() == 1) return documents.front();
  json::object both;
  both["pipeline_spec"] = documents[0];
  both["platform_spec"] = documents[1];
  return both;
}

util::Result<std::string> read_pipeline_file(const UploadedFile& file, ServerVersion version) {
  using util::ErrorKind;
  // 1.8's messages end with a period; 2.x dropped it (server/util.go in each release).
  const std::string dot = is_v1_server(version) ? "." : "";
  const std::string read_error = "Error read pipeline file" + dot;
  if (file.content.size() > package::max_package_bytes)
    return util::fail(ErrorKind::invalid_package,
                      read_error + ": Invalid input error: File size too large. Maximum supported size: " +
                          std::to_string(package::max_package_bytes));
  const auto& name = file.filename;
  // The suffix test is case-sensitive, as the server's strings.HasSuffix.
  if (has_suffix(name, ".yaml") || has_suffix(name, ".yml") || has_suffix(name, ".json")) return file.content;
  if (auto format = package::sniff_archive(file.content)) {
    auto member = package::extract_pipeline_member(file.content, *format, name, package::max_package_bytes);
    if (!member)
      return util::fail(ErrorKind::invalid_package,
                        "Error decompress the pipeline file: Invalid input error: " + member.error().message);
    return std::move(member->bytes);
  }
  return util::fail(
      ErrorKind::invalid_package,
      "Invalid input error: Unexpected pipeline file format. Support .zip, .tar.gz, .json or YAML" + dot);
}

util::Result<JudgedPackage> parse_template(const std::string& document, const std::string& origin,
                                           ServerVersion version) {
  using util::ErrorKind;
  auto parsed = package::parse(document, origin);
  if (!parsed) return parsed.error();
  // A 1.8 server detects v2 IR with protojson, which reads JSON only.
  if (is_v1_server(version) && parsed->kind == package::Kind::pipeline_spec && !looks_like_json(document))
    return util::fail(ErrorKind::invalid_package, "unknown template format");
  JudgedPackage judged;
  try {
    judged.pipeline_spec = yaml_to_json(document);
  } catch (const std::exception& error) {
    return util::fail(ErrorKind::invalid_package,
                      std::string("unable to decode yaml document: ") + error.what());
  }
  judged.package = std::move(*parsed);
  return judged;
}

}  // namespace kfp::emulator
