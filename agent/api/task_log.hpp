#pragma once
// The last lines of a task's log, read from the API server's run-log endpoint with bounded memory:
// the body streams through a ring of the last N lines, each line capped, so a log of any size costs
// the same. Lines come out readable: terminal escapes stripped, invalid UTF-8 replaced.
// (Secrets are redacted where the text is written, as for every output: util::Secrets.)

#include "api/connection.hpp"
#include "http/transport.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace kfp::api {

// A longer line keeps its first this many bytes and ends in "…": a tail is for reading.
inline constexpr std::size_t max_log_line_bytes = 2048;

// One line of a container's log as a person should read it: ANSI/VT escape sequences (CSI, OSC and
// the two-byte ones) removed, a carriage return's overwrite applied (what follows the last \r, as a
// terminal shows progress bars), other control characters except tab dropped, and every byte that
// starts no well-formed UTF-8 sequence replaced by U+FFFD.
[[nodiscard]] std::string clean_log_line(std::string_view line);

// Keeps the last `max_lines` lines of what is appended, in memory bounded by
// (max_lines + 1) * max_line_bytes whatever the input's size.
class LogTail final : public http::BodySink {
 public:
  explicit LogTail(std::size_t max_lines, std::size_t max_line_bytes = max_log_line_bytes);
  void begin() override;
  void append(std::string_view piece) override;
  // The kept lines, cleaned (clean_log_line), joined by "\n"; the unfinished last line included.
  [[nodiscard]] std::string text() const;
  // Bytes appended since begin().
  [[nodiscard]] std::uint64_t bytes_seen() const { return bytes_seen_; }
  // The unfinished last line as received (capped): where the log endpoint appends its error.
  [[nodiscard]] const std::string& partial_line() const { return partial_; }
  void drop_partial_line() { partial_.clear(); }

 private:
  void finish_line();

  std::size_t max_lines_;
  std::size_t max_line_bytes_;
  std::deque<std::string> lines_;
  std::string partial_;
  bool partial_cut_ = false;
  std::uint64_t bytes_seen_ = 0;
};

struct TaskLog {
  std::string tail;   // the last lines, cleaned; may be empty
  std::string error;  // set when the server said, inside its answer, that the log could not be read
};

// GET /apis/v1alpha1/runs/{run_id}/nodes/{node_id}/log (main.go registers it on 1.8.5 :152 and on
// 2.0.5-2.17.0; server/run_log_server.go). `node_id` is the pod's name: ResourceManager.ReadLog
// streams GetLogs(nodeId) of the container "main" (1.8.5 resource_manager.go:600-605, 2.17.0
// :1176-1183), falling back to the log archive when the pod is gone. The handler has already
// answered 200 when ReadLog fails, so such a failure arrives as {"error_message", "error_details"}
// appended to the body (run_log_server.go: WriteHeader(200) before ReadLog, writeErrorToResponse
// after): it is taken out of the tail and returned as TaskLog::error. Fails as Connection::call does
// (a non-2xx status, the network, `within`).
[[nodiscard]] util::Result<TaskLog> read_task_log(Connection& connection, const std::string& run_id,
                                                  const std::string& node_id, std::size_t max_lines,
                                                  std::optional<util::Milliseconds> within = std::nullopt);

}  // namespace kfp::api
