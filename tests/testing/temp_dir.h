// A scratch directory under $TMPDIR (else /tmp), removed with everything in
// it when the object goes.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace dse::testing {

class TempDir {
 public:
  // The directory is named <prefix>.XXXXXX; a failure to make it fails the
  // test and leaves path() empty.
  explicit TempDir(std::string_view prefix = "dse_test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Moving hands the directory over; the moved-from object removes nothing.
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, std::string())) {}
  TempDir& operator=(TempDir&&) = delete;

  const std::string& path() const { return path_; }
  // The path of `name` inside the directory.
  std::string File(std::string_view name) const;
  // Writes `content` to `name` (truncating) and returns its path; a failed
  // write fails the test.
  std::string Write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

}  // namespace dse::testing
