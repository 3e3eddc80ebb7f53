#pragma once
// The database the real server writes to, as far as a client can meet it: the MySQL column sizes
// of each release's models (gorm tags; strings without a size are VARCHAR(255)) and the
// model-length validation of 2.15+ (validation/length.go). MySQL runs in strict mode, so a value
// over a column's size fails the INSERT with error 1406 after the handler's earlier side effects.
// FIDELITY.md "Column limits" lists every limit with its source.

#include "errors.hpp"
#include "options.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kfp::emulator {

// A column of one table: "experiments.Description".
struct Column {
  std::string_view table;
  std::string_view name;
};

// The column's size in characters on `version`; nullopt for TEXT columns (no limit the emulator
// models).
[[nodiscard]] std::optional<std::size_t> column_size(ServerVersion version, Column column);

// MySQL counts VARCHAR sizes in characters (utf8mb4 code points), not bytes.
[[nodiscard]] std::size_t utf8_length(std::string_view text);

// The go-sql-driver error text for the first value over its column, if any:
// "Error 1406 (22001): Data too long for column 'Description' at row 1".
[[nodiscard]] std::optional<std::string> insert_error(
    ServerVersion version, std::string_view table,
    const std::vector<std::pair<std::string_view, std::string>>& values);

// validation.ValidateModel (2.15+): the first field over its limit, counted in bytes (Go len),
// as the InvalidInputError "Model.Field length cannot exceed N"; nullopt when all fit or the
// release does not validate.
[[nodiscard]] std::optional<ApiError> model_length_error(
    ServerVersion version, std::string_view model,
    const std::vector<std::pair<std::string_view, std::string>>& fields);

}  // namespace kfp::emulator
