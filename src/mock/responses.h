// Bodies the mock sends: list pages (also the deliberately broken ones),
// DashScope error bodies and gateway pages. Pure functions, no HTTP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mock/fleet.h"

namespace dse::mock {

struct PageBody {
  std::string request_id;
  std::string_view envelope = "output";  // "output" or "data"
  int64_t page_no = 1;
  int64_t page_size = 50;
  int64_t total = 0;
  std::vector<Deployment> deployments;
  // The wrong_types fault: record 0 gets capacity as a string, record 1
  // status as a number, record 2 no deployed_model (on shorter pages the last
  // record takes the rest).
  bool wrong_types = false;
};

// The list response, compact, fields in the order of the API reference.
std::string RenderPage(const PageBody& page);

// RenderPage split around an extra member of the envelope object, named
// `key`, placed before "deployments": the body is prefix + value + suffix.
// Lets huge values be streamed instead of built in memory.
struct SplitBody {
  std::string prefix;
  std::string suffix;
};
SplitBody RenderPageAround(const PageBody& page, std::string_view key);

// {"request_id":…,"code":…,"message":…}; an absent code or message is left out.
std::string RenderError(std::string_view request_id, const std::optional<std::string>& code,
                        const std::optional<std::string>& message);

// An nginx-style error page, as a gateway in front of the API sends it.
std::string RenderGatewayPage(int status);

std::string_view ReasonPhrase(int status);

// A body made of literal text and long runs of one character, produced piece
// by piece so that a multi-gigabyte body costs no memory.
class StreamedBody {
 public:
  void AddText(std::string text);
  void AddRun(char c, int64_t count);
  uint64_t size() const { return size_; }
  // Up to `max` bytes starting at `offset`.
  std::string Read(uint64_t offset, uint64_t max) const;

 private:
  struct Segment {
    std::string text;  // when count == 0
    char fill = 0;
    uint64_t count = 0;
    uint64_t length() const { return count != 0 ? count : text.size(); }
  };
  std::vector<Segment> segments_;
  uint64_t size_ = 0;
};

}  // namespace dse::mock
