// Faults queued by tests (POST /mock/faults) and applied, first in first out,
// to the next list requests.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "mock/json_writer.h"

namespace dse::mock {

// Same shape as httplib::Params, so handlers pass query and form fields
// through without this file knowing about HTTP.
using FormFields = std::multimap<std::string, std::string>;

enum class FaultKind {
  kHttp,         // an error status with a DashScope error body
  kHtml,         // a gateway's HTML error page
  kDelay,        // wait, then answer normally
  kTruncate,     // full Content-Length, part of the body, then close
  kOversize,     // a valid JSON body of `bytes` bytes (never less than the page itself)
  kDeep,         // arrays nested `depth` deep inside the envelope
  kWrongTypes,   // capacity a string, status a number, a record without id
  kDuplicates,   // the page repeats the previous page's entries
  kLyingTotal,   // `total` replaced by a made-up value
  kEmptyBody,    // 200 with no body
  kInvalidJson,  // 200 with a body that is not JSON
  kClose,        // the connection closes before any response
  kTrickle,      // the whole response, headers first, one byte every `delay_ms` (plain HTTP only)
};

struct Fault {
  FaultKind kind = FaultKind::kHttp;
  int status = 0;                          // http, html
  std::optional<std::string> code;         // http; absent: no "code" in the body
  std::optional<std::string> message;      // http; absent: no "message" in the body
  std::optional<std::string> retry_after;  // http: Retry-After header value
  int64_t delay_ms = 0;                    // delay; trickle: between bytes
  int64_t bytes = 0;                       // oversize: body size; truncate: bytes sent (0: half)
  int64_t depth = 0;                       // deep
  int64_t total = 0;                       // lying_total
  std::optional<int64_t> page;             // only list requests for this page_no
  int64_t times = 1;                       // uses left; 0 means until cleared
};

std::string_view FaultKindName(FaultKind kind);

// Builds a fault from admin fields (kind=, times=, page= and the kind's own
// fields). Unknown fields and out-of-range values are errors naming the field.
Result<Fault> ParseFault(const FormFields& fields);

void WriteFault(JsonWriter& w, const Fault& fault);

// Not thread-safe: the owner serializes access.
class FaultQueue {
 public:
  void Push(Fault fault) { faults_.push_back(std::move(fault)); }
  // The oldest fault that applies to a list request for `page_no`, with one
  // use consumed; nullopt when none applies.
  std::optional<Fault> Take(int64_t page_no);
  void Clear() { faults_.clear(); }
  const std::deque<Fault>& faults() const { return faults_; }

 private:
  std::deque<Fault> faults_;
};

// The DashScope error code a status usually carries, and the message the
// real service sends with a code.
std::string DefaultErrorCode(int status);
std::string DefaultErrorMessage(std::string_view code);

}  // namespace dse::mock
