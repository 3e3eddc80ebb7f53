#include "api/task_log.hpp"

#include "api/calls.hpp"
#include "api/query.hpp"
#include "yaml/utf8.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>

namespace kfp::api {

namespace {

constexpr char escape = '\x1b';
constexpr char bell = '\x07';
constexpr std::string_view ellipsis = "…";
// What run_log_server.go writeErrorToResponse appends: a marshalled api.Error.
constexpr std::string_view error_body_start = "{\"error_message\":";

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Where the escape sequence starting at text[at] (an ESC) ends: one past its last byte.
std::size_t escape_end(std::string_view text, std::size_t at) {
  if (at + 1 >= text.size()) return text.size();
  const char kind = text[at + 1];
  if (kind == '[') {
    // CSI: parameter and intermediate bytes, then one final byte in 0x40-0x7E (ECMA-48 5.4).
    std::size_t i = at + 2;
    while (i < text.size() && (text[i] < 0x40 || text[i] > 0x7E)) ++i;
    return std::min(i + 1, text.size());
  }
  if (kind == ']' || kind == 'P' || kind == '_' || kind == '^') {
    // OSC, DCS, APC, PM: a string ended by BEL or ST (ESC \).
    for (std::size_t i = at + 2; i < text.size(); ++i) {
      if (text[i] == bell) return i + 1;
      if (text[i] == escape && i + 1 < text.size() && text[i + 1] == '\\') return i + 2;
    }
    return text.size();
  }
  // A two-byte sequence (ESC 7, ESC =, ESC ( B's first part and the like).
  return at + 2;
}

// The message in `rest`, what follows `"error_message":` in the handler's error body; the body may
// have been cut at the line cap (error_details holds a stack trace), so only the string is parsed.
std::string error_message_of(std::string_view rest) {
  const auto open = rest.find('"');
  if (open != std::string_view::npos) {
    for (std::size_t i = open + 1; i < rest.size(); ++i) {
      if (rest[i] == '\\') {
        ++i;
      } else if (rest[i] == '"') {
        boost::system::error_code ec;
        auto parsed = boost::json::parse(rest.substr(open, i - open + 1), ec);
        if (!ec && parsed.is_string() && !parsed.as_string().empty()) return std::string(parsed.as_string());
        break;
      }
    }
  }
  return "the server could not read the log";
}

}  // namespace

std::string clean_log_line(std::string_view line) {
  // A progress bar rewrites its line after \r: the terminal shows what follows the last one.
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (const auto cr = line.rfind('\r'); cr != std::string_view::npos) line.remove_prefix(cr + 1);
  std::string kept;
  kept.reserve(line.size());
  for (std::size_t i = 0; i < line.size();) {
    const char c = line[i];
    if (c == escape) {
      i = escape_end(line, i);
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7F) {
      ++i;
      continue;
    }
    kept.push_back(c);
    ++i;
  }
  return yaml::coerce_utf8(kept);
}

LogTail::LogTail(std::size_t max_lines, std::size_t max_line_bytes)
    : max_lines_(max_lines), max_line_bytes_(max_line_bytes) {}

void LogTail::begin() {
  lines_.clear();
  partial_.clear();
  partial_cut_ = false;
  bytes_seen_ = 0;
}

void LogTail::finish_line() {
  if (max_lines_ == 0) {
    partial_.clear();
    partial_cut_ = false;
    return;
  }
  std::string line = clean_log_line(partial_);
  if (partial_cut_) line += ellipsis;
  partial_.clear();
  partial_cut_ = false;
  if (lines_.size() == max_lines_) lines_.pop_front();
  lines_.push_back(std::move(line));
}

void LogTail::append(std::string_view piece) {
  bytes_seen_ += piece.size();
  while (!piece.empty()) {
    const auto newline = piece.find('\n');
    const std::string_view part = piece.substr(0, newline);
    if (!partial_cut_) {
      const std::size_t room = max_line_bytes_ - std::min(max_line_bytes_, partial_.size());
      if (part.size() <= room) {
        partial_.append(part);
      } else {
        std::size_t cut = room;
        while (cut > 0 && is_continuation(part[cut])) --cut;  // at a UTF-8 boundary
        partial_.append(part.substr(0, cut));
        partial_cut_ = true;
      }
    }
    if (newline == std::string_view::npos) break;
    finish_line();
    piece.remove_prefix(newline + 1);
  }
}

std::string LogTail::text() const {
  std::string out;
  // An unfinished last line is one of the N.
  const bool partial = !partial_.empty() && max_lines_ > 0;
  const std::size_t skip = partial && lines_.size() == max_lines_ ? 1 : 0;
  for (std::size_t i = skip; i < lines_.size(); ++i) {
    if (!out.empty()) out.push_back('\n');
    out += lines_[i];
  }
  if (partial) {
    if (!out.empty()) out.push_back('\n');
    out += clean_log_line(partial_);
    if (partial_cut_) out += ellipsis;
  }
  return out;
}

util::Result<TaskLog> read_task_log(Connection& connection, const std::string& run_id,
                                    const std::string& node_id, std::size_t max_lines,
                                    std::optional<util::Milliseconds> within) {
  LogTail tail(max_lines);
  ApiRequest request = get_request(
      fmt::format("/apis/v1alpha1/runs/{}/nodes/{}/log", percent_encode(run_id), percent_encode(node_id)));
  request.body_sink = &tail;
  request.within = within;
  auto reply = connection.call(request, fmt::format("read the log of {}", node_id));
  if (!reply) return reply.error();
  TaskLog log;
  // The handler's late error, appended to whatever the log had written (run_log_server.go).
  const std::string last = tail.partial_line();
  if (const auto at = last.find(error_body_start); at != std::string::npos) {
    log.error = error_message_of(std::string_view(last).substr(at + error_body_start.size()));
    tail.drop_partial_line();
    if (at > 0) tail.append(std::string_view(last).substr(0, at));
  }
  log.tail = tail.text();
  return log;
}

}  // namespace kfp::api
