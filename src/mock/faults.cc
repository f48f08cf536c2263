#include "mock/faults.h"

#include <array>
#include <limits>
#include <optional>
#include <utility>

#include "common/decimal.h"

namespace dse::mock {
namespace {

struct KindName {
  FaultKind kind;
  std::string_view name;
};

constexpr std::array<KindName, 13> kKinds = {{
    {FaultKind::kHttp, "http"},
    {FaultKind::kHtml, "html"},
    {FaultKind::kDelay, "delay"},
    {FaultKind::kTruncate, "truncate"},
    {FaultKind::kOversize, "oversize"},
    {FaultKind::kDeep, "deep"},
    {FaultKind::kWrongTypes, "wrong_types"},
    {FaultKind::kDuplicates, "duplicates"},
    {FaultKind::kLyingTotal, "lying_total"},
    {FaultKind::kEmptyBody, "empty_body"},
    {FaultKind::kInvalidJson, "invalid_json"},
    {FaultKind::kClose, "close"},
    {FaultKind::kTrickle, "trickle"},
}};

constexpr std::array<std::string_view, 11> kFields = {
    "kind", "times", "page", "status", "code", "message", "retry_after", "ms", "bytes", "depth", "total"};

const std::string* Field(const FormFields& fields, std::string_view key) {
  auto it = fields.find(std::string(key));
  return it == fields.end() ? nullptr : &it->second;
}

// Reads an optional integer field within [min, max] into `out`.
Status ReadInt(const FormFields& fields, std::string_view key, int64_t min, int64_t max, int64_t& out) {
  const std::string* text = Field(fields, key);
  if (text == nullptr) return Status::Ok();
  const std::optional<int64_t> value = ParseDecimal<int64_t>(*text);
  if (!value) {
    return Error{"field " + std::string(key) + ": not an integer: \"" + *text + "\""};
  }
  if (*value < min || *value > max) {
    return Error{"field " + std::string(key) + ": " + *text + " is outside [" + std::to_string(min) + ", " +
                 std::to_string(max) + "]"};
  }
  out = *value;
  return Status::Ok();
}

constexpr int64_t kMaxDelayMs = 3600 * 1000;
constexpr int64_t kMaxTrickleMs = 60 * 1000;
constexpr int64_t kMaxBytes = int64_t{8} << 30;
constexpr int64_t kMaxDepth = 100000000;
constexpr int64_t kMaxTimes = 1000000;

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

std::string DefaultErrorCode(int status) {
  switch (status) {
    case 400: return "InvalidParameter";
    case 401: return "InvalidApiKey";
    case 403: return "AccessDenied";
    case 404: return "NotFound";
    case 409: return "Conflict";
    case 429: return "Throttling";
    default: return status >= 500 ? "InternalError" : "BadRequest";
  }
}

std::string DefaultErrorMessage(std::string_view code) {
  if (code == "InvalidApiKey") return "Invalid API-key provided.";
  if (code == "AccessDenied") return "Access denied.";
  if (code == "NotFound") return "Not found.";
  if (code == "Conflict") return "Conflict.";
  if (code == "InvalidParameter") return "Invalid parameter.";
  if (code == "Throttling" || code == "Throttling.RateQuota") {
    return "Requests rate limit exceeded, please try again later.";
  }
  if (code == "Arrearage") return "Access denied, please make sure your account is in good standing.";
  if (code == "InternalError")
    return "An internal error has occured, please try again later or contact service support.";
  return "Simulated fault.";
}

Result<Fault> ParseFault(const FormFields& fields) {
  for (const auto& [key, value] : fields) {
    bool known = false;
    for (auto k : kFields) known = known || k == key;
    if (!known) return Error{"unknown field " + key};
  }
  const std::string* kind = Field(fields, "kind");
  if (kind == nullptr) return Error{"field kind: missing"};
  Fault f;
  bool found = false;
  for (const auto& k : kKinds) {
    if (k.name == *kind) {
      f.kind = k.kind;
      found = true;
    }
  }
  if (!found) {
    std::string names;
    for (const auto& k : kKinds) names += (names.empty() ? "" : ", ") + std::string(k.name);
    return Error{"field kind: unknown kind \"" + *kind + "\" (one of " + names + ")"};
  }

  if (Status s = ReadInt(fields, "times", 0, kMaxTimes, f.times); !s.ok()) return Error{s.error()};
  if (Field(fields, "page") != nullptr) {
    int64_t page = 1;
    if (Status s = ReadInt(fields, "page", 1, std::numeric_limits<int64_t>::max(), page); !s.ok())
      return Error{s.error()};
    f.page = page;
  }

  int64_t status = 0;
  switch (f.kind) {
    case FaultKind::kHttp:
      status = 500;
      if (Status s = ReadInt(fields, "status", 200, 599, status); !s.ok()) return Error{s.error()};
      f.status = static_cast<int>(status);
      if (const std::string* code = Field(fields, "code")) {
        if (!code->empty()) f.code = *code;  // an empty code= leaves "code" out of the body
      } else {
        f.code = DefaultErrorCode(f.status);
      }
      if (const std::string* message = Field(fields, "message")) {
        if (!message->empty()) f.message = *message;
      } else {
        f.message = DefaultErrorMessage(f.code.value_or(""));
      }
      if (const std::string* retry = Field(fields, "retry_after")) f.retry_after = *retry;
      break;
    case FaultKind::kHtml:
      status = 502;
      if (Status s = ReadInt(fields, "status", 200, 599, status); !s.ok()) return Error{s.error()};
      f.status = static_cast<int>(status);
      break;
    case FaultKind::kDelay:
      if (Field(fields, "ms") == nullptr) return Error{"field ms: missing (delay needs ms=)"};
      if (Status s = ReadInt(fields, "ms", 0, kMaxDelayMs, f.delay_ms); !s.ok()) return Error{s.error()};
      break;
    case FaultKind::kTrickle:
      if (Field(fields, "ms") == nullptr) return Error{"field ms: missing (trickle needs ms=)"};
      if (Status s = ReadInt(fields, "ms", 1, kMaxTrickleMs, f.delay_ms); !s.ok()) return Error{s.error()};
      break;
    case FaultKind::kTruncate:
      if (Status s = ReadInt(fields, "bytes", 0, kMaxBytes, f.bytes); !s.ok()) return Error{s.error()};
      break;
    case FaultKind::kOversize:
      if (Field(fields, "bytes") == nullptr) return Error{"field bytes: missing (oversize needs bytes=)"};
      if (Status s = ReadInt(fields, "bytes", 1, kMaxBytes, f.bytes); !s.ok()) return Error{s.error()};
      break;
    case FaultKind::kDeep:
      if (Field(fields, "depth") == nullptr) return Error{"field depth: missing (deep needs depth=)"};
      if (Status s = ReadInt(fields, "depth", 1, kMaxDepth, f.depth); !s.ok()) return Error{s.error()};
      break;
    case FaultKind::kLyingTotal:
      if (Field(fields, "total") == nullptr) return Error{"field total: missing (lying_total needs total=)"};
      if (Status s = ReadInt(fields, "total", std::numeric_limits<int64_t>::min(),
                             std::numeric_limits<int64_t>::max(), f.total);
          !s.ok())
        return Error{s.error()};
      break;
    case FaultKind::kWrongTypes:
    case FaultKind::kDuplicates:
    case FaultKind::kEmptyBody:
    case FaultKind::kInvalidJson:
    case FaultKind::kClose: break;
  }
  return f;
}

void WriteFault(JsonWriter& w, const Fault& f) {
  w.BeginObject();
  w.Key("kind").String(FaultKindName(f.kind));
  w.Key("times").Int(f.times);
  w.Key("page");
  if (f.page) {
    w.Int(*f.page);
  } else {
    w.Null();
  }
  switch (f.kind) {
    case FaultKind::kHttp:
      w.Key("status").Int(f.status);
      if (f.code) w.Key("code").String(*f.code);
      if (f.message) w.Key("message").String(*f.message);
      if (f.retry_after) w.Key("retry_after").String(*f.retry_after);
      break;
    case FaultKind::kHtml: w.Key("status").Int(f.status); break;
    case FaultKind::kDelay:
    case FaultKind::kTrickle: w.Key("ms").Int(f.delay_ms); break;
    case FaultKind::kTruncate:
    case FaultKind::kOversize: w.Key("bytes").Int(f.bytes); break;
    case FaultKind::kDeep: w.Key("depth").Int(f.depth); break;
    case FaultKind::kLyingTotal: w.Key("total").Int(f.total); break;
    default: break;
  }
  w.EndObject();
}

std::optional<Fault> FaultQueue::Take(int64_t page_no) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->page && *it->page != page_no) continue;
    Fault taken = *it;
    if (it->times > 0 && --it->times == 0) faults_.erase(it);
    return taken;
  }
  return std::nullopt;
}

}  // namespace dse::mock
