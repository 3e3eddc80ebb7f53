#pragma once
// Test helper: builds .zip and .tar.gz archives in memory with libarchive's writer, so hostile
// archives are generated at run time instead of being committed.

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kfp::package::testing {

enum class WriteFormat { zip, tar_gzip };

struct Entry {
  std::string name;
  std::string content;
  bool directory = false;
};

class ArchiveWriter {
 public:
  explicit ArchiveWriter(WriteFormat format) : handle_(archive_write_new()) {
    if (format == WriteFormat::zip) {
      archive_write_set_format_zip(handle_.get());
    } else {
      archive_write_set_format_pax_restricted(handle_.get());
      archive_write_add_filter_gzip(handle_.get());
    }
    archive_write_set_bytes_in_last_block(handle_.get(), 1);
    if (archive_write_open(handle_.get(), &output_, nullptr, &ArchiveWriter::write_callback, nullptr) !=
        ARCHIVE_OK) {
      throw std::runtime_error(archive_error_string(handle_.get()));
    }
  }

  void add(const Entry& entry) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> header(archive_entry_new(),
                                                                         &archive_entry_free);
    archive_entry_set_pathname(header.get(), entry.name.c_str());
    archive_entry_set_filetype(header.get(), entry.directory ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(header.get(), entry.directory ? 0755 : 0644);
    archive_entry_set_size(header.get(), entry.directory ? 0 : static_cast<la_int64_t>(entry.content.size()));
    if (archive_write_header(handle_.get(), header.get()) != ARCHIVE_OK) {
      throw std::runtime_error(archive_error_string(handle_.get()));
    }
    if (!entry.directory) write_data(entry.content);
  }

  // Adds a member of `size` zero bytes without holding it in memory (a compression bomb).
  void add_zeros(const std::string& name, std::size_t size) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> header(archive_entry_new(),
                                                                         &archive_entry_free);
    archive_entry_set_pathname(header.get(), name.c_str());
    archive_entry_set_filetype(header.get(), AE_IFREG);
    archive_entry_set_perm(header.get(), 0644);
    archive_entry_set_size(header.get(), static_cast<la_int64_t>(size));
    if (archive_write_header(handle_.get(), header.get()) != ARCHIVE_OK) {
      throw std::runtime_error(archive_error_string(handle_.get()));
    }
    const std::string chunk(std::size_t{1} << 20, '\0');
    for (std::size_t written = 0; written < size; written += chunk.size()) {
      write_data(std::string_view(chunk).substr(0, std::min(chunk.size(), size - written)));
    }
  }

  std::string finish() {
    if (archive_write_close(handle_.get()) != ARCHIVE_OK) {
      throw std::runtime_error(archive_error_string(handle_.get()));
    }
    return std::move(output_);
  }

 private:
  struct Free {
    void operator()(archive* handle) const noexcept { archive_write_free(handle); }
  };

  void write_data(std::string_view data) {
    if (archive_write_data(handle_.get(), data.data(), data.size()) < 0) {
      throw std::runtime_error(archive_error_string(handle_.get()));
    }
  }

  static la_ssize_t write_callback(archive*, void* client, const void* buffer, size_t length) {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
    return static_cast<la_ssize_t>(length);
  }

  std::string output_;
  std::unique_ptr<archive, Free> handle_;
};

inline std::string make_archive(WriteFormat format, const std::vector<Entry>& entries) {
  ArchiveWriter writer(format);
  for (const auto& entry : entries) writer.add(entry);
  return writer.finish();
}

}  // namespace kfp::package::testing
