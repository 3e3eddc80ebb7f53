#pragma once
// The multipart/form-data body of the upload endpoints: one part named "uploadfile" with a
// filename (the server ignores a part without one, and picks the format by its suffix).

#include "http/transport.hpp"

#include <filesystem>
#include <string>

namespace kfp::api {

struct MultipartBody {
  http::Body body;
  std::string content_type;  // "multipart/form-data; boundary=..."
};

// The part's content comes from `content`: a file range streamed from disk or bytes in memory.
[[nodiscard]] MultipartBody upload_body(const std::string& filename, http::BodyPiece content);

}  // namespace kfp::api
