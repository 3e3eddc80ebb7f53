#pragma once
// One factory per subcommand, each in its own <name>_command.cpp.

#include "cli/command.hpp"

#include <memory>

namespace kfp::cli {

[[nodiscard]] std::unique_ptr<Command> make_validate_command();
[[nodiscard]] std::unique_ptr<Command> make_publish_command();
[[nodiscard]] std::unique_ptr<Command> make_run_command();
[[nodiscard]] std::unique_ptr<Command> make_apply_command();
[[nodiscard]] std::unique_ptr<Command> make_doctor_command();
[[nodiscard]] std::unique_ptr<Command> make_version_command();

}  // namespace kfp::cli
