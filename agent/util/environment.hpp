#pragma once
// Environment variables behind an interface, so option resolution and CI detection are unit-tested
// with a map instead of the process environment.

#include <map>
#include <optional>
#include <string>

namespace kfp::util {

class Environment {
 public:
  virtual ~Environment() = default;
  // The variable's value; unset and empty are both "absent".
  [[nodiscard]] virtual std::optional<std::string> get(const std::string& name) const = 0;
};

class ProcessEnvironment final : public Environment {
 public:
  [[nodiscard]] std::optional<std::string> get(const std::string& name) const override;
};

class MapEnvironment final : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  [[nodiscard]] std::optional<std::string> get(const std::string& name) const override;
  void set(const std::string& name, std::string value) { values_[name] = std::move(value); }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace kfp::util
