#pragma once
// SIGINT/SIGTERM become a flag that long waits poll, so the program can cancel cleanly, write its
// report and exit 130 instead of dying mid-write.

namespace kfp::util {

// Installs the handlers (idempotent). A second signal while the first is handled ends the process.
void install_interrupt_handlers();

// True once SIGINT or SIGTERM arrived.
[[nodiscard]] bool interrupted() noexcept;

// For tests: sets or clears the flag as if a signal had (not) arrived.
void set_interrupted(bool value) noexcept;

// The signal that arrived (SIGINT or SIGTERM), 0 if none.
[[nodiscard]] int interrupt_signal() noexcept;

}  // namespace kfp::util
