// libFuzzer target: run parameters as --param would give them (publish::resolve_parameters over
// newline-separated name=value lines against a fixed set of declared inputs) and each value through
// publish::convert_text for every declared type.

#include "publish/parameters.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using kfp::package::InputParameter;
using kfp::package::ParameterType;

constexpr std::array<ParameterType, 6> kTypes{ParameterType::string,        ParameterType::number_integer,
                                              ParameterType::number_double, ParameterType::boolean,
                                              ParameterType::list,          ParameterType::structure};

std::vector<InputParameter> declared_inputs() {
  std::vector<InputParameter> inputs;
  const std::array<const char*, 6> names{"message", "epochs", "rate", "shuffle", "layers", "config"};
  for (std::size_t i = 0; i < kTypes.size(); ++i) {
    InputParameter input;
    input.name = names[i];
    input.type = kTypes[i];
    input.optional = i % 2 == 0;
    inputs.push_back(input);
  }
  return inputs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<InputParameter> declared = declared_inputs();
  const std::string text(reinterpret_cast<const char*>(data), size);
  kfp::publish::ParameterInput input;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    input.assignments.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  (void)kfp::publish::resolve_parameters(input, declared);
  for (const auto type : kTypes) (void)kfp::publish::convert_text("p", text, type);
  return 0;
}
