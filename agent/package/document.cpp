#include "package/document.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <istream>
#include <optional>
#include <streambuf>
#include <utility>

namespace kfp::package {

namespace {

namespace json = boost::json;

util::Failure invalid(std::string message) {
  return util::fail(util::ErrorKind::invalid_package, std::move(message));
}

// Offset of the first byte that is not part of printable UTF-8 text, or npos.
std::size_t first_non_text_byte(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    auto lead = static_cast<unsigned char>(bytes[i]);
    if (lead < 0x80) {
      bool allowed_control = lead == '\t' || lead == '\n' || lead == '\r';
      if ((lead < 0x20 && !allowed_control) || lead == 0x7f) return i;
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t minimum = 0;
    if ((lead & 0xe0U) == 0xc0U) {
      length = 2;
      minimum = 0x80;
    } else if ((lead & 0xf0U) == 0xe0U) {
      length = 3;
      minimum = 0x800;
    } else if ((lead & 0xf8U) == 0xf0U) {
      length = 4;
      minimum = 0x10000;
    } else {
      return i;
    }
    if (i + length > bytes.size()) return i;
    std::uint32_t code_point = lead & (0x7fU >> length);
    for (std::size_t k = 1; k < length; ++k) {
      auto continuation = static_cast<unsigned char>(bytes[i + k]);
      if ((continuation & 0xc0U) != 0x80U) return i;
      code_point = (code_point << 6U) | (continuation & 0x3fU);
    }
    if (code_point < minimum || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

util::Failure not_text(const std::string& origin, unsigned char byte, std::uint64_t offset) {
  return invalid(
      fmt::format("{}: not UTF-8 text (byte 0x{:02x} at offset {}); a pipeline package "
                  "is YAML, JSON, or a .zip/.tar.gz archive",
                  origin, byte, offset));
}

// Bytes read at a time when a document is checked from a stream.
constexpr std::size_t shape_chunk_bytes = std::size_t{256} << 10;

bool is_flow_indicator(char c) {
  return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// A conservative tokenizer that estimates nesting without recursion: block levels from
// indentation plus every "- ", "? " and ": " on a line, flow levels from brackets outside quoted
// scalars, comments and block scalars. It may overestimate; it must not underestimate.
class ShapeScanner {
 public:
  explicit ShapeScanner(const std::string& origin) : origin_(origin) {}

  // Scans whole lines; a document may come in several calls, each ending at a line break.
  util::Result<void> run(std::string_view bytes) {
    std::size_t position = 0;
    while (position < bytes.size()) {
      std::size_t end = bytes.find('\n', position);
      if (end == std::string_view::npos) end = bytes.size();
      std::string_view line = bytes.substr(position, end - position);
      if (line.ends_with('\r')) line.remove_suffix(1);
      position = end + 1;
      ++line_number_;
      if (auto result = scan_line(line); !result) return result;
    }
    return {};
  }

 private:
  enum class Quote { none, single, double_ };

  util::Failure too_deep(std::size_t column) const {
    return util::fail(util::ErrorKind::invalid_package,
                      fmt::format("{}:{}:{}: YAML nests deeper than {} levels; refusing to parse it", origin_,
                                  line_number_, column + 1, max_nesting_depth));
  }
  util::Failure too_many_nodes(std::size_t column) const {
    return util::fail(util::ErrorKind::invalid_package,
                      fmt::format("{}:{}:{}: YAML holds more than {} nodes; refusing to parse it", origin_,
                                  line_number_, column + 1, max_yaml_nodes));
  }

  util::Result<void> scan_line(std::string_view line) {
    std::size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') ++indent;
    bool content_free = indent == line.size() || line[indent] == '#';
    std::size_t i = 0;
    if (quote_ == Quote::none) {
      if (block_scalar_parent_) {
        if (indent == line.size() || indent > *block_scalar_parent_) return {};
        block_scalar_parent_.reset();
      }
      bool marker =
          (line.starts_with("---") || line.starts_with("...")) && (line.size() == 3 || is_blank(line[3]));
      if (marker) {
        // Every marker may open a document, and each document costs yaml-cpp memory.
        if (++tokens_ > max_yaml_nodes) return too_many_nodes(0);
        indents_.clear();
        flow_ = 0;
        closed_top_flow_ = false;
        i = 3;
      } else {
        i = indent;
        if (!content_free && flow_ == 0) {
          while (!indents_.empty() && indents_.back() > indent) indents_.pop_back();
          if (indents_.empty() || indents_.back() < indent) indents_.push_back(indent);
        }
      }
    }

    std::size_t line_levels = 0;
    bool expect_node = true;
    bool in_plain = false;
    std::size_t node_column = indent;
    auto depth = [&] { return indents_.size() + line_levels + flow_; };

    for (; i < line.size(); ++i) {
      char c = line[i];
      if (quote_ == Quote::double_) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quote_ = Quote::none;
          expect_node = false;
        }
        continue;
      }
      if (quote_ == Quote::single) {
        if (c == '\'') {
          if (i + 1 < line.size() && line[i + 1] == '\'') {
            ++i;
          } else {
            quote_ = Quote::none;
            expect_node = false;
          }
        }
        continue;
      }
      if (is_blank(c)) continue;
      bool after_blank = i == 0 || is_blank(line[i - 1]);
      char next = i + 1 < line.size() ? line[i + 1] : ' ';
      if (c == '#' && after_blank) break;
      if (in_plain) {
        bool value_indicator = c == ':' && (is_blank(next) || (flow_ > 0 && is_flow_indicator(next)));
        if (value_indicator) {
          in_plain = false;
          expect_node = true;
          ++line_levels;
          if (depth() > max_nesting_depth) return too_deep(i);
          continue;
        }
        if (!(flow_ > 0 && is_flow_indicator(c))) continue;
        in_plain = false;
      }
      if (++tokens_ > max_yaml_nodes) return too_many_nodes(i);
      const bool after_top_flow = std::exchange(closed_top_flow_, false);
      switch (c) {
        case '[':
        case '{':
          if (expect_node || flow_ > 0) {
            ++flow_;
            expect_node = true;
            if (depth() > max_nesting_depth) return too_deep(i);
          } else {
            in_plain = true;
          }
          break;
        case ']':
        case '}':
          if (flow_ > 0) {
            --flow_;
            expect_node = false;
            closed_top_flow_ = flow_ == 0;
          } else {
            in_plain = true;
          }
          break;
        case ',':
          if (flow_ > 0) {
            expect_node = true;
          } else if (after_top_flow) {
            // yaml-cpp 0.7 never consumes this token: LoadAll returns documents without end.
            return util::fail(util::ErrorKind::invalid_package,
                              fmt::format("{}:{}:{}: a ',' after a flow collection, outside any collection; "
                                          "refusing to parse it",
                                          origin_, line_number_, i + 1));
          } else {
            in_plain = true;
          }
          break;
        case '"':
        case '\'':
          if (expect_node) {
            quote_ = c == '"' ? Quote::double_ : Quote::single;
            node_column = i;
          } else {
            in_plain = true;
          }
          break;
        case '-':
        case '?':
        case ':':
          if ((c == ':' && (is_blank(next) || flow_ > 0)) || (expect_node && is_blank(next))) {
            ++line_levels;
            if (c != ':') node_column = i;
            expect_node = true;
            if (depth() > max_nesting_depth) return too_deep(i);
          } else {
            in_plain = true;
            expect_node = false;
            node_column = i;
          }
          break;
        case '|':
        case '>':
          if (expect_node && flow_ == 0) {
            block_scalar_parent_ = node_column;
            i = line.size();
          } else {
            in_plain = true;
            expect_node = false;
          }
          break;
        case '&':
        case '!':
        case '*':
          while (i + 1 < line.size() && !is_blank(line[i + 1]) && !is_flow_indicator(line[i + 1])) ++i;
          if (c == '*') expect_node = false;
          break;
        default:
          in_plain = true;
          expect_node = false;
          node_column = i;
          break;
      }
    }
    return {};
  }

  const std::string& origin_;
  std::size_t line_number_ = 0;
  std::vector<std::size_t> indents_;
  std::size_t flow_ = 0;
  bool closed_top_flow_ = false;  // the last token closed a flow collection at flow level 0
  std::size_t tokens_ = 0;
  Quote quote_ = Quote::none;
  std::optional<std::size_t> block_scalar_parent_;
};

template <class Integer>
std::optional<Integer> parse_integer(std::string_view digits, int base) {
  Integer value{};
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (error != std::errc{} || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return value;
}

// Go's strconv.ParseInt(s, 0, 64) then ParseUint, as yaml.v3 resolves plain integers.
std::optional<json::value> resolve_integer(std::string_view text) {
  bool negative = false;
  std::string_view rest = text;
  if (rest.starts_with('+') || rest.starts_with('-')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  int base = 10;
  if (rest.size() > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X')) {
    base = 16;
    rest.remove_prefix(2);
  } else if (rest.size() > 2 && rest[0] == '0' && (rest[1] == 'o' || rest[1] == 'O')) {
    base = 8;
    rest.remove_prefix(2);
  } else if (rest.size() > 2 && rest[0] == '0' && (rest[1] == 'b' || rest[1] == 'B')) {
    base = 2;
    rest.remove_prefix(2);
  } else if (rest.size() > 1 && rest[0] == '0') {
    base = 8;
    rest.remove_prefix(1);
  }
  if (rest.empty() || rest.front() == '+' || rest.front() == '-') return std::nullopt;
  auto magnitude = parse_integer<std::uint64_t>(rest, base);
  if (!magnitude) return std::nullopt;
  constexpr std::uint64_t int64_limit = std::uint64_t{1} << 63U;
  if (negative) {
    if (*magnitude > int64_limit) return std::nullopt;
    if (*magnitude == int64_limit) return json::value(std::numeric_limits<std::int64_t>::min());
    return json::value(-static_cast<std::int64_t>(*magnitude));
  }
  if (*magnitude < int64_limit) return json::value(static_cast<std::int64_t>(*magnitude));
  if (text.starts_with('+')) return std::nullopt;  // ParseUint refuses a sign
  return json::value(*magnitude);
}

// yaml.v3's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool is_yaml_float(std::string_view text) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i - start;
  };
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < text.size() && text[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

enum class Resolved { value, not_json };

// A read-only stream over bytes owned elsewhere: YAML::LoadAll(std::string) would copy a document
// twice (into a string, then a stringstream), 60 MiB more peak memory for a 30 MiB package.
class ViewBuffer : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view bytes) {
    // std::streambuf takes char*; the get area is only ever read.
    char* begin = const_cast<char*>(bytes.data());
    setg(begin, begin, begin + bytes.size());
  }

 protected:
  // Enough seeking for tellg() and a rewind to where reading started.
  pos_type seekoff(off_type offset, std::ios_base::seekdir direction,
                   std::ios_base::openmode /*mode*/) override {
    char* target = direction == std::ios_base::beg   ? eback() + offset
                   : direction == std::ios_base::cur ? gptr() + offset
                                                     : egptr() + offset;
    if (target < eback() || target > egptr()) return pos_type(off_type(-1));
    setg(eback(), target, egptr());
    return pos_type(target - eback());
  }
  pos_type seekpos(pos_type position, std::ios_base::openmode mode) override {
    return seekoff(off_type(position), std::ios_base::beg, mode);
  }
};

// Resolves a plain scalar as yaml.v3 does when decoding into interface{}.
std::pair<Resolved, json::value> resolve_plain(std::string_view text) {
  static constexpr std::array nulls{"", "~", "null", "Null", "NULL"};
  static constexpr std::array trues{"true", "True", "TRUE"};
  static constexpr std::array falses{"false", "False", "FALSE"};
  static constexpr std::array specials{".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
                                       "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN"};
  for (std::string_view candidate : nulls) {
    if (text == candidate) return {Resolved::value, nullptr};
  }
  for (std::string_view candidate : trues) {
    if (text == candidate) return {Resolved::value, true};
  }
  for (std::string_view candidate : falses) {
    if (text == candidate) return {Resolved::value, false};
  }
  for (std::string_view candidate : specials) {
    if (text == candidate) return {Resolved::not_json, nullptr};
  }
  char first = text.front();
  bool numeric_start = (first >= '0' && first <= '9') || first == '+' || first == '-' || first == '.';
  if (numeric_start) {
    std::string plain;
    for (char c : text) {
      if (c != '_') plain += c;
    }
    if (auto integer = resolve_integer(plain)) return {Resolved::value, *integer};
    if (is_yaml_float(plain)) {
      double number = 0;
      std::string_view digits = plain;
      if (digits.starts_with('+')) digits.remove_prefix(1);
      auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
      if (error == std::errc{} && end == digits.data() + digits.size()) return {Resolved::value, number};
      if (error == std::errc::result_out_of_range) return {Resolved::not_json, nullptr};
    }
  }
  return {Resolved::value, json::string(text)};
}

bool is_string_tag(const std::string& tag) {
  return tag == "!" || tag == "tag:yaml.org,2002:str";
}

class JsonConverter {
 public:
  JsonConverter(NodeBudget& budget, const std::string& origin) : budget_(budget), origin_(origin) {}

  util::Result<json::value> convert(const YAML::Node& node, std::size_t depth) {
    if (depth > max_nesting_depth) {
      return invalid(fmt::format("{}: YAML nests deeper than {} levels (a recursive alias?)",
                                 location(origin_, node.Mark()), max_nesting_depth));
    }
    if (!budget_.take()) {
      return invalid(fmt::format("{}: YAML expands to more than {} nodes (an alias bomb?); refusing it",
                                 location(origin_, node.Mark()), max_yaml_nodes));
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: return json::value(nullptr);
      case YAML::NodeType::Scalar: return scalar(node);
      case YAML::NodeType::Sequence: {
        json::array array;
        array.reserve(node.size());
        for (const auto& child : node) {
          auto value = convert(child, depth + 1);
          if (!value) return value.error();
          array.push_back(std::move(*value));
        }
        return json::value(std::move(array));
      }
      case YAML::NodeType::Map: {
        json::object object;
        for (const auto& entry : node) {
          auto key = key_text(entry.first);
          if (!key) return key.error();
          if (object.contains(*key)) {
            return invalid(fmt::format("{}: invalid YAML: mapping key \"{}\" already defined",
                                       location(origin_, entry.first.Mark()), *key));
          }
          auto value = convert(entry.second, depth + 1);
          if (!value) return value.error();
          object.emplace(*key, std::move(*value));
        }
        return json::value(std::move(object));
      }
    }
    return json::value(nullptr);
  }

 private:
  util::Result<json::value> scalar(const YAML::Node& node) {
    if (is_string_tag(node.Tag())) return json::value(json::string(node.Scalar()));
    auto [resolved, value] = resolve_plain(node.Scalar());
    if (resolved == Resolved::not_json) {
      return invalid(fmt::format("{}: the value {} cannot be represented in JSON",
                                 location(origin_, node.Mark()), node.Scalar()));
    }
    return value;
  }

  util::Result<std::string> key_text(const YAML::Node& key) {
    if (!budget_.take()) {
      return invalid(fmt::format("{}: YAML expands to more than {} nodes; refusing it",
                                 location(origin_, key.Mark()), max_yaml_nodes));
    }
    if (key.Type() == YAML::NodeType::Scalar) {
      if (is_string_tag(key.Tag())) return key.Scalar();
      auto [resolved, value] = resolve_plain(key.Scalar());
      if (resolved == Resolved::value && value.is_string()) return std::string(value.get_string());
      return invalid(fmt::format("{}: mapping key {} is not a string; JSON cannot hold it",
                                 location(origin_, key.Mark()), key.Scalar()));
    }
    return invalid(fmt::format("{}: a mapping key is {}; JSON keys must be strings",
                               location(origin_, key.Mark()),
                               key.Type() == YAML::NodeType::Null ? "null" : "a collection"));
  }

  NodeBudget& budget_;
  const std::string& origin_;
};

}  // namespace

std::string location(const std::string& origin, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return origin;
  return fmt::format("{}:{}:{}", origin, mark.line + 1, mark.column + 1);
}

util::Result<void> check_yaml_shape(std::string_view bytes, const std::string& origin) {
  if (std::size_t offset = first_non_text_byte(bytes); offset != std::string_view::npos) {
    return not_text(origin, static_cast<unsigned char>(bytes[offset]), offset);
  }
  return ShapeScanner(origin).run(bytes);
}

util::Result<void> check_yaml_shape(std::istream& input, const std::string& origin,
                                    const std::function<void(std::string_view)>& consume) {
  ShapeScanner scanner(origin);
  std::string buffer(shape_chunk_bytes, '\0');
  std::size_t held = 0;    // bytes at the front of `buffer` not scanned yet (a partial line)
  std::uint64_t base = 0;  // file offset of buffer[0]
  for (;;) {
    if (held == buffer.size()) buffer.resize(buffer.size() * 2);  // a line longer than the buffer
    input.read(buffer.data() + held, static_cast<std::streamsize>(buffer.size() - held));
    const auto got = static_cast<std::size_t>(input.gcount());
    if (got == 0 && !input.eof()) return invalid(fmt::format("{}: read error", origin));
    consume(std::string_view(buffer).substr(held, got));
    const std::size_t filled = held + got;
    const bool last = got == 0 || input.eof();
    // A line break never sits inside a UTF-8 sequence, so line-aligned pieces check alone.
    std::size_t end = last ? filled : std::string_view(buffer.data(), filled).rfind('\n') + 1;
    if (end == 0 && !last) {  // rfind found nothing: npos + 1
      held = filled;
      continue;
    }
    std::string_view piece(buffer.data(), end);
    if (std::size_t offset = first_non_text_byte(piece); offset != std::string_view::npos) {
      return not_text(origin, static_cast<unsigned char>(piece[offset]), base + offset);
    }
    if (auto scanned = scanner.run(piece); !scanned) return scanned.error();
    if (last) return {};
    std::copy(buffer.begin() + static_cast<std::ptrdiff_t>(end),
              buffer.begin() + static_cast<std::ptrdiff_t>(filled), buffer.begin());
    held = filled - end;
    base += end;
  }
}

namespace {

// Ignores every event: only HandleNextDocument's count matters.
class DocumentCounter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& /*mark*/) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& /*mark*/, YAML::anchor_t /*anchor*/) override {}
  void OnAlias(const YAML::Mark& /*mark*/, YAML::anchor_t /*anchor*/) override {}
  void OnScalar(const YAML::Mark& /*mark*/, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                const std::string& /*value*/) override {}
  void OnSequenceStart(const YAML::Mark& /*mark*/, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                       YAML::EmitterStyle::value /*style*/) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& /*mark*/, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                  YAML::EmitterStyle::value /*style*/) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7 LoadAll loops without end on some malformed streams (a stray top-level ","):
// count the documents with a bounded event pass first, then rewind.
bool too_many_documents(std::istream& input) {
  const auto start = input.tellg();
  if (start == std::istream::pos_type(-1)) return false;  // not seekable: cannot pre-count
  bool too_many = false;
  {
    YAML::Parser parser(input);
    DocumentCounter counter;
    std::size_t documents = 0;
    while (parser.HandleNextDocument(counter)) {
      if (++documents > max_yaml_documents) {
        too_many = true;
        break;
      }
    }
  }
  input.clear();
  input.seekg(start);
  return too_many;
}

}  // namespace

util::Result<std::vector<YAML::Node>> parse_yaml_documents(std::istream& input, const std::string& origin) {
  try {
    if (too_many_documents(input)) {
      return invalid(
          fmt::format("{}: more than {} YAML documents (or a stray top-level ',' that the parser "
                      "reads as documents without end); refusing it",
                      origin, max_yaml_documents));
    }
    return YAML::LoadAll(input);
  } catch (const YAML::DeepRecursion& error) {
    return invalid(
        fmt::format("{}: YAML nests too deeply for the parser; refusing it", location(origin, error.mark)));
  } catch (const YAML::Exception& error) {
    return invalid(fmt::format("{}: invalid YAML: {}", location(origin, error.mark), error.msg));
  } catch (const std::exception& error) {
    return invalid(fmt::format("{}: invalid YAML: {}", origin, error.what()));
  }
}

util::Result<std::vector<YAML::Node>> parse_yaml_documents(std::string_view bytes,
                                                           const std::string& origin) {
  ViewBuffer buffer(bytes);
  std::istream input(&buffer);
  return parse_yaml_documents(input, origin);
}

util::Result<json::value> to_json(const YAML::Node& node, NodeBudget& budget, const std::string& origin) {
  return JsonConverter(budget, origin).convert(node, 0);
}

}  // namespace kfp::package
