#include "yaml/load.hpp"

#include "yaml/utf8.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <streambuf>
#include <utility>

namespace kfp::yaml {

namespace {

// Offset of the first byte that is not part of printable UTF-8 text, or npos.
std::size_t first_non_text_byte(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    const bool allowed_control = byte == '\t' || byte == '\n' || byte == '\r';
    if ((byte < 0x20 && !allowed_control) || byte == 0x7f) return i;
    const std::size_t length = utf8_sequence_length(bytes, i);
    if (length == 0) return i;
    i += length;
  }
  return std::string_view::npos;
}

// The byte at `offset` of `piece`, whose first line is line `first_line` of the file.
util::Failure not_text(const Source& source, std::string_view piece, std::size_t offset,
                       std::size_t first_line, std::uint64_t file_offset) {
  const std::string_view before = piece.substr(0, offset);
  const auto line = first_line + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start = before.rfind('\n');
  const std::size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  return util::fail(
      source.kind,
      fmt::format("{}:{}:{}: not UTF-8 text (byte 0x{:02x} at offset {}); YAML and JSON are "
                  "UTF-8 text",
                  source.origin, line, column, static_cast<unsigned char>(piece[offset]), file_offset));
}

// Bytes read at a time when a text is checked from a stream.
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
  explicit ShapeScanner(const Source& source) : source_(source) {}

  // Scans whole lines; a text may come in several calls, each ending at a line break.
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

  // Lines scanned so far.
  [[nodiscard]] std::size_t lines() const noexcept { return line_number_; }

 private:
  enum class Quote { none, single, double_ };

  util::Failure refuse(std::size_t column, std::string_view what) const {
    return util::fail(source_.kind, fmt::format("{}:{}:{}: {}; refusing to parse it", source_.origin,
                                                line_number_, column + 1, what));
  }
  util::Failure too_deep(std::size_t column) const {
    return refuse(column, fmt::format("YAML nests deeper than {} levels", source_.limits.max_depth));
  }
  util::Failure too_many_nodes(std::size_t column) const {
    return refuse(column, fmt::format("YAML holds more than {} nodes", source_.limits.max_nodes));
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
        if (++tokens_ > source_.limits.max_nodes) return too_many_nodes(0);
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
    const std::size_t max_depth = source_.limits.max_depth;

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
          if (depth() > max_depth) return too_deep(i);
          continue;
        }
        if (!(flow_ > 0 && is_flow_indicator(c))) continue;
        in_plain = false;
      }
      if (++tokens_ > source_.limits.max_nodes) return too_many_nodes(i);
      const bool after_top_flow = std::exchange(closed_top_flow_, false);
      switch (c) {
        case '[':
        case '{':
          if (expect_node || flow_ > 0) {
            ++flow_;
            expect_node = true;
            if (depth() > max_depth) return too_deep(i);
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
            return refuse(i, "a ',' after a flow collection, outside any collection");
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
            if (depth() > max_depth) return too_deep(i);
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

  const Source& source_;
  std::size_t line_number_ = 0;
  std::vector<std::size_t> indents_;
  std::size_t flow_ = 0;
  bool closed_top_flow_ = false;  // the last token closed a flow collection at flow level 0
  std::size_t tokens_ = 0;
  Quote quote_ = Quote::none;
  std::optional<std::size_t> block_scalar_parent_;
};

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

// Ignores every event but where documents start: only the count matters.
class DocumentCounter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { last_start = mark; }
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

  YAML::Mark last_start = YAML::Mark::null_mark();
};

// yaml-cpp 0.7 LoadAll loops without end on some malformed streams (a stray top-level ","):
// count the documents with a bounded event pass first, then rewind. Returns where the first
// document past the limit starts, if there is one.
std::optional<YAML::Mark> first_document_past_limit(std::istream& input, std::size_t max_documents) {
  const auto start = input.tellg();
  if (start == std::istream::pos_type(-1)) return std::nullopt;  // not seekable: cannot pre-count
  std::optional<YAML::Mark> past;
  {
    YAML::Parser parser(input);
    DocumentCounter counter;
    std::size_t documents = 0;
    while (parser.HandleNextDocument(counter)) {
      if (++documents > max_documents) {
        past = counter.last_start;
        break;
      }
    }
  }
  input.clear();
  input.seekg(start);
  return past;
}

}  // namespace

Source package_source(std::string origin) {
  return Source{std::move(origin), util::ErrorKind::invalid_package, package_limits, Author::compiler};
}

Source file_source(std::string origin, util::ErrorKind kind) {
  return Source{std::move(origin), kind, file_limits, Author::person};
}

std::string location(const std::string& origin, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return origin;
  return fmt::format("{}:{}:{}", origin, mark.line + 1, mark.column + 1);
}

util::Result<void> check_shape(std::string_view bytes, const Source& source) {
  if (std::size_t offset = first_non_text_byte(bytes); offset != std::string_view::npos) {
    return not_text(source, bytes, offset, 1, offset);
  }
  return ShapeScanner(source).run(bytes);
}

util::Result<void> check_shape(std::istream& input, const Source& source,
                               const std::function<void(std::string_view)>& consume) {
  ShapeScanner scanner(source);
  std::string buffer(shape_chunk_bytes, '\0');
  std::size_t held = 0;    // bytes at the front of `buffer` not scanned yet (a partial line)
  std::uint64_t base = 0;  // file offset of buffer[0]
  for (;;) {
    if (held == buffer.size()) buffer.resize(buffer.size() * 2);  // a line longer than the buffer
    input.read(buffer.data() + held, static_cast<std::streamsize>(buffer.size() - held));
    const auto got = static_cast<std::size_t>(input.gcount());
    if (got == 0 && !input.eof())
      return util::fail(source.kind, fmt::format("{}: read error", source.origin));
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
      return not_text(source, piece, offset, scanner.lines() + 1, base + offset);
    }
    if (auto scanned = scanner.run(piece); !scanned) return scanned.error();
    if (last) return {};
    std::copy(buffer.begin() + static_cast<std::ptrdiff_t>(end),
              buffer.begin() + static_cast<std::ptrdiff_t>(filled), buffer.begin());
    held = filled - end;
    base += end;
  }
}

util::Result<std::vector<YAML::Node>> load_checked_documents(std::istream& input, const Source& source) {
  const std::size_t max_documents = source.limits.max_documents;
  try {
    if (auto past = first_document_past_limit(input, max_documents)) {
      std::string what = max_documents == 1 ? std::string("a second YAML document; this file holds one")
                                            : fmt::format("more than {} YAML documents", max_documents);
      return util::fail(source.kind,
                        fmt::format("{}: {} (or a stray top-level ',' that the parser reads as documents "
                                    "without end); refusing it",
                                    location(source.origin, *past), what));
    }
    return YAML::LoadAll(input);
  } catch (const YAML::DeepRecursion& error) {
    return util::fail(source.kind, fmt::format("{}: YAML nests too deeply for the parser; refusing it",
                                               location(source.origin, error.mark)));
  } catch (const YAML::Exception& error) {
    return util::fail(source.kind,
                      fmt::format("{}: invalid YAML: {}", location(source.origin, error.mark), error.msg));
  } catch (const std::exception& error) {
    return util::fail(source.kind, fmt::format("{}: invalid YAML: {}", source.origin, error.what()));
  }
}

util::Result<std::vector<YAML::Node>> load_documents(std::string_view bytes, const Source& source) {
  if (auto shape = check_shape(bytes, source); !shape) return shape.error();
  ViewBuffer buffer(bytes);
  std::istream input(&buffer);
  return load_checked_documents(input, source);
}

util::Result<YAML::Node> load_document(std::string_view bytes, const Source& source) {
  // YAML::Node converts from almost anything, a Failure included: name the error side.
  auto failed = [](util::Failure failure) {
    return util::Result<YAML::Node>(boost::system::in_place_error, std::move(failure));
  };
  auto documents = load_documents(bytes, source);
  if (!documents) return failed(documents.error());
  if (documents->empty()) return YAML::Node(YAML::NodeType::Null);
  if (documents->size() > 1) {
    return failed(util::fail(source.kind, fmt::format("{}: a second YAML document; this file holds one",
                                                      location(source.origin, (*documents)[1].Mark()))));
  }
  return documents->front();
}

}  // namespace kfp::yaml
