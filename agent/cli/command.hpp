#pragma once
// A subcommand: declares its flags, does its work into the report, and renders text output.
// Commands throw util::Error; cli/app.cpp catches it in one place.

#include "cli/options.hpp"
#include "report/report.hpp"
#include "util/environment.hpp"
#include "util/log.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::cli {

struct Context {
  const GlobalOptions& options;
  const util::Environment& env;
  util::Log& log;
  // Every token the command reads goes here, so that no output channel shows it.
  util::Secrets& secrets;
};

class Command {
 public:
  virtual ~Command() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual std::string_view summary() const = 0;
  // Declares the command's own flags and positionals on its CLI11 subcommand.
  virtual void define(CLI::App& app) = 0;
  // Does the work, filling `report` as it goes, so a failure half-way still reports what was done.
  virtual void run(Context& context, report::Report& report) = 0;
  // Human-readable result for stdout (-o text). The default is the report's summary line.
  [[nodiscard]] virtual std::string render_text(const report::Report& report) const;
};

// The table of subcommands, in --help order.
[[nodiscard]] std::vector<std::unique_ptr<Command>> make_commands();

}  // namespace kfp::cli
