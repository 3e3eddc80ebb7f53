#include "api/multipart.hpp"

#include <fmt/format.h>

#include <random>

namespace kfp::api {

namespace {

std::string make_boundary() {
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::mt19937_64 random(std::random_device{}());
  std::uniform_int_distribution<std::size_t> pick(0, sizeof alphabet - 2);
  std::string boundary = "kfp-publish-";
  for (int i = 0; i < 24; ++i) boundary.push_back(alphabet[pick(random)]);
  return boundary;
}

// Quotes in a filename would end the header parameter early.
std::string safe_filename(const std::string& filename) {
  std::string out;
  for (char c : filename) out.push_back(c == '"' || c == '\\' || c == '\r' || c == '\n' ? '_' : c);
  return out;
}

}  // namespace

MultipartBody upload_body(const std::string& filename, http::BodyPiece content) {
  const std::string boundary = make_boundary();
  MultipartBody out;
  out.content_type = "multipart/form-data; boundary=" + boundary;
  out.body.pieces.push_back(
      {fmt::format("--{}\r\nContent-Disposition: form-data; name=\"uploadfile\"; "
                   "filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                   boundary, safe_filename(filename))});
  out.body.pieces.push_back(std::move(content));
  out.body.pieces.push_back({fmt::format("\r\n--{}--\r\n", boundary)});
  return out;
}

}  // namespace kfp::api
