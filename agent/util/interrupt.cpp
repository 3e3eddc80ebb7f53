#include "util/interrupt.hpp"

#include <unistd.h>
#include <atomic>
#include <csignal>

namespace kfp::util {

namespace {

std::atomic<int> received_signal{0};

extern "C" void on_signal(int signal_number) {
  int expected = 0;
  if (!received_signal.compare_exchange_strong(expected, signal_number)) {
    // The user insists: stop now, with the conventional status.
    _exit(128 + signal_number);
  }
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and notice the flag
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool interrupted() noexcept {
  return received_signal.load() != 0;
}

void set_interrupted(bool value) noexcept {
  received_signal.store(value ? SIGINT : 0);
}

int interrupt_signal() noexcept {
  return received_signal.load();
}

}  // namespace kfp::util
