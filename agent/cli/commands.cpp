#include "cli/commands.hpp"
#include "cli/command.hpp"

namespace kfp::cli {

std::vector<std::unique_ptr<Command>> make_commands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(make_validate_command());
  commands.push_back(make_publish_command());
  commands.push_back(make_run_command());
  commands.push_back(make_apply_command());
  commands.push_back(make_doctor_command());
  commands.push_back(make_version_command());
  return commands;
}

}  // namespace kfp::cli
