#pragma once
// The report as the JSON text each output channel writes: redacted of every secret and valid UTF-8
// whatever the strings held (a file name that is not UTF-8, a server's bytes), so any consumer parses it.

#include "report/report.hpp"
#include "util/log.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>

namespace kfp::report {

// The kubelet reads at most this many bytes of the termination-message file, keeping the *last* ones
// (kubernetes pkg/kubelet/container/runtime.go MaxContainerTerminationMessageLength = 1024 * 4;
// pkg/kubelet/kuberuntime/kuberuntime_container.go getTerminationMessage: tail.ReadAtMost).
inline constexpr std::size_t max_termination_message_bytes = 4096;

// Replaces every secret in every string and key of `value`, and every byte that is not part of valid
// UTF-8 with U+FFFD (as Go's encoding/json does), recursively.
void sanitize(boost::json::value& value, const util::Secrets& secrets);

// The whole report as one line of JSON, sanitized. No trailing newline.
[[nodiscard]] std::string to_json_text(const Report& report, const util::Secrets& secrets);

// The report as compact JSON of at most `max_bytes` bytes, always valid: when the whole report does
// not fit, long strings are shortened (at a UTF-8 boundary, ending in "…"), then the lists in the
// command's details, then the details are left out, and "truncated": true says so. The schema,
// command, exit code, outcome and error kind are always there. No trailing newline.
[[nodiscard]] std::string termination_message(const Report& report, const util::Secrets& secrets,
                                              std::size_t max_bytes = max_termination_message_bytes);

}  // namespace kfp::report
