#include "package/package.hpp"

#include "package/archive.hpp"
#include "package/validate.hpp"
#include "util/digest.hpp"
#include "util/file.hpp"
#include "yaml/load.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <optional>

namespace kfp::package {

namespace {

constexpr std::string_view default_upload_filename = "pipeline.yaml";

util::Failure invalid(std::string message, std::string hint = {}) {
  return util::fail(util::ErrorKind::invalid_package, std::move(message), std::move(hint));
}

// The server's own test: taken as a document when the name ends so, case-sensitively.
bool has_document_suffix(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
}

std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

// The archive format a file name announces, whatever its case.
std::optional<ArchiveFormat> archive_suffix(std::string_view name) {
  std::string lowered = lower(name);
  if (lowered.ends_with(".zip")) return ArchiveFormat::zip;
  if (lowered.ends_with(".tar.gz") || lowered.ends_with(".tgz")) return ArchiveFormat::tar_gzip;
  return std::nullopt;
}

std::string base_name(std::string_view path) {
  std::size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

util::Failure too_large(const std::string& origin, std::size_t size) {
  return invalid(fmt::format("{}: {} bytes, over the server's limit of {} bytes (32 MiB)", origin, size,
                             max_package_bytes));
}

bool starts_json(std::string_view bytes) {
  const std::size_t first = bytes.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && bytes[first] == '{';
}

util::Result<Package> finish(Package package, const std::string& origin) {
  if (package.document.size() > max_package_bytes) return too_large(origin, package.document.size());
  if (auto inspected = inspect_document(package, origin); !inspected) return inspected.error();
  package.digest = util::sha256_digest(package.document);
  package.document_size = package.document.size();
  package.json_document = starts_json(package.document);
  return package;
}

// A large plain document is never held: one pass digests it and runs the byte checks, a second
// lets yaml-cpp parse it from the file, so memory grows with its YAML tree, not with its bytes.
util::Result<Package> finish_from_disk(Package package, const std::filesystem::path& path,
                                       const std::string& origin) {
  std::ifstream input(path, std::ios::binary);
  if (!input) return invalid(fmt::format("cannot open {}", origin));
  util::Sha256 digest;
  std::uint64_t size = 0;
  std::optional<bool> json;
  auto consume = [&](std::string_view bytes) {
    digest.update(bytes);
    size += bytes.size();
    if (!json && bytes.find_first_not_of(" \t\r\n") != std::string_view::npos) json = starts_json(bytes);
  };
  if (auto shape = yaml::check_shape(input, yaml::package_source(origin), consume); !shape)
    return shape.error();
  if (size > max_package_bytes) return too_large(origin, static_cast<std::size_t>(size));
  input.clear();
  input.seekg(0);
  if (auto inspected = inspect_document(package, input, origin); !inspected) return inspected.error();
  package.digest = digest.finish();
  package.document_size = size;
  package.json_document = json.value_or(false);
  return package;
}

// A regular file the server takes by its name, too large to be worth holding in memory.
bool stream_from_disk(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error) || !has_document_suffix(path.filename().string()))
    return false;
  const auto size = std::filesystem::file_size(path, error);
  return !error && size > max_in_memory_document_bytes && size <= max_package_bytes;
}

util::Result<Package> from_archive(const std::string& bytes, ArchiveFormat format, const std::string& origin,
                                   Package package) {
  auto member = extract_pipeline_member(bytes, format, origin, max_package_bytes);
  if (!member) return member.error();
  package.member = member->name;
  package.document = std::move(member->bytes);
  return finish(std::move(package), fmt::format("{}!{}", origin, member->name));
}

}  // namespace

util::Result<Package> parse(std::string document, const std::string& origin) {
  Package package;
  package.source = origin;
  std::string name = base_name(origin);
  package.upload_filename = has_document_suffix(name) ? name : std::string(default_upload_filename);
  package.document = std::move(document);
  return finish(std::move(package), origin);
}

util::Result<Package> parse_upload(std::string bytes, const std::string& filename) {
  if (bytes.size() > max_package_bytes) return too_large(filename, bytes.size());
  Package package;
  package.source = filename;
  package.upload_filename = filename;
  if (has_document_suffix(filename)) {
    package.document = std::move(bytes);
    return finish(std::move(package), filename);
  }
  if (auto format = sniff_archive(bytes)) return from_archive(bytes, *format, filename, std::move(package));
  return invalid(
      fmt::format("{}: Unexpected pipeline file format. Support .zip, .tar.gz, .json or YAML", filename));
}

util::Result<Package> load(const std::filesystem::path& path) {
  const std::string origin = path.string();
  if (stream_from_disk(path)) {
    Package package;
    package.source = path;
    package.upload_filename = path.filename().string();
    return finish_from_disk(std::move(package), path, origin);
  }
  auto bytes = util::read_file(path, max_package_bytes, util::ErrorKind::invalid_package);
  if (!bytes) {
    util::Failure failure = bytes.error();
    if (failure.hint.empty()) failure.hint = "the server refuses packages over 32 MiB";
    return failure;
  }
  Package package;
  package.source = path;
  const std::string name = path.filename().string();

  if (has_document_suffix(name)) {
    package.upload_filename = name;
    package.document = std::move(*bytes);
    return finish(std::move(package), origin);
  }
  if (auto format = sniff_archive(*bytes)) {
    auto loaded = from_archive(*bytes, *format, origin, std::move(package));
    if (loaded) loaded->upload_filename = base_name(loaded->member);
    return loaded;
  }
  if (auto format = archive_suffix(name)) {
    return invalid(
        fmt::format("{}: named like a {} but lacks its signature; the server answers "
                    "\"Unexpected pipeline file format\"",
                    origin, *format == ArchiveFormat::zip ? "zip archive" : "gzipped tarball"));
  }
  // Not a name the server would take as is: judge the content, and upload it under a name it takes.
  std::string stem = path.stem().string();
  std::string extension = lower(path.extension().string());
  bool known_extension = extension == ".yaml" || extension == ".yml" || extension == ".json";
  package.upload_filename = (known_extension ? stem : name) + ".yaml";
  package.warnings.push_back(
      fmt::format("{} does not end in .yaml, .yml or .json; it is read as YAML and "
                  "uploaded as {}",
                  name, package.upload_filename));
  package.document = std::move(*bytes);
  return finish(std::move(package), origin);
}

util::Result<Package> parse_api_pipeline_spec(const boost::json::value& pipeline_spec,
                                              const std::string& origin) {
  const boost::json::object* wrapper = pipeline_spec.if_object();
  const boost::json::value* inner = wrapper != nullptr ? wrapper->if_contains("pipeline_spec") : nullptr;
  if (inner == nullptr) return parse(boost::json::serialize(pipeline_spec), origin);
  auto package = parse(boost::json::serialize(*inner), origin);
  if (package) package->has_platform_spec = wrapper->contains("platform_spec");
  return package;
}

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::pipeline_spec: return "PipelineSpec";
    case Kind::argo_workflow: return "Workflow";
  }
  return "PipelineSpec";
}

std::string_view to_string(ParameterType type) {
  switch (type) {
    case ParameterType::string: return "STRING";
    case ParameterType::number_integer: return "NUMBER_INTEGER";
    case ParameterType::number_double: return "NUMBER_DOUBLE";
    case ParameterType::boolean: return "BOOLEAN";
    case ParameterType::list: return "LIST";
    case ParameterType::structure: return "STRUCT";
  }
  return "STRING";
}

}  // namespace kfp::package
