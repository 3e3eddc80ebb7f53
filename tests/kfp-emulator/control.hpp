#pragma once
// Test controls reached under /_emulator/ (DESIGN.md section 5): injected faults, queued run
// outcomes and the request log.

#include "message.hpp"
#include "store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace kfp::emulator {

enum class FaultKind { status, delay, lost_response, reset };

struct Fault {
  std::string method;  // empty: any method
  std::string path;    // a prefix of the request path
  FaultKind kind = FaultKind::status;
  int status = 503;
  std::chrono::milliseconds delay{0};
  int count = 1;
};

struct LoggedRequest {
  std::string method, path, query;
  int status = 0;  // 0: the connection was reset or the response lost
  std::string fault;
};

// The request log keeps at most this many entries (the oldest are dropped), so long demos and
// benchmarks do not grow without bound.
inline constexpr std::size_t max_logged_requests = 100'000;

class Control {
 public:
  // Parses {"method","path","kind","status","delay","count"}; throws ApiFailure (400) when invalid.
  void add_fault(const boost::json::object& body);
  void clear_faults() { faults_.clear(); }
  // The first fault matching the request, its count consumed.
  [[nodiscard]] std::optional<Fault> take_fault(const std::string& method, const std::string& path);
  [[nodiscard]] boost::json::array faults_json() const;

  // Parses {"outcome","count"} and the task plan (tasks.hpp TaskPlan): "failed_task",
  // "message", "log" (or "log_base64"), "log_bytes", "log_source" ("pod", "archive", "gone");
  // throws ApiFailure (400) when invalid.
  void add_outcome(const boost::json::object& body);
  void clear_outcomes() { outcomes_.clear(); }
  // The outcome for the next run created (SUCCEEDED when none is queued), with its task plan.
  [[nodiscard]] std::pair<Outcome, TaskPlan> next_outcome();
  [[nodiscard]] boost::json::array outcomes_json() const;

  void log(LoggedRequest entry) {
    if (log_.size() >= max_logged_requests) log_.pop_front();
    log_.push_back(std::move(entry));
  }
  void clear_log() { log_.clear(); }
  [[nodiscard]] boost::json::array log_json() const;

 private:
  std::deque<Fault> faults_;
  struct QueuedOutcome {
    Outcome outcome;
    TaskPlan plan;
    int count;
  };
  std::deque<QueuedOutcome> outcomes_;
  std::deque<LoggedRequest> log_;
};

[[nodiscard]] std::string_view to_string(FaultKind kind);

}  // namespace kfp::emulator
