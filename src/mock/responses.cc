#include "mock/responses.h"

#include <algorithm>

#include "mock/json_writer.h"

namespace dse::mock {
namespace {

// Never appears raw in our JSON (control characters are escaped inside
// strings), so it can mark where a streamed value goes.
constexpr char kMarker = '\x01';

void WriteDeployment(JsonWriter& w, const Deployment& d, size_t position, size_t count, bool wrong_types) {
  // With wrong_types, mutation k lands on record min(k, count - 1).
  auto mutated = [&](size_t k) { return wrong_types && position == std::min(k, count - 1); };
  w.BeginObject();
  if (!mutated(2)) w.Key("deployed_model").String(d.deployed_model);
  if (d.name) w.Key("name").String(*d.name);
  w.Key("gmt_create").String(FormatApiTime(d.created_at));
  w.Key("gmt_modified").String(FormatApiTime(d.modified_at));
  if (mutated(1)) {
    w.Key("status").Int(1);
  } else {
    w.Key("status").String(d.status);
  }
  w.Key("model_name").String(d.model_name);
  w.Key("base_model").String(d.base_model);
  w.Key("base_capacity").Int(d.base_capacity);
  if (mutated(0)) {
    // Not a numeric string: those are numbers since the second release.
    w.Key("capacity").String(std::to_string(d.capacity) + " units");
  } else {
    w.Key("capacity").Int(d.capacity);
  }
  w.Key("ready_capacity").Int(d.ready_capacity);
  w.Key("workspace_id").String(d.workspace_id);
  w.Key("charge_type").String(d.charge_type);
  if (d.plan) w.Key("plan").String(*d.plan);
  if (d.model_unit_spec) w.Key("model_unit_spec").String(*d.model_unit_spec);
  if (d.rpm_limit && d.rpm_limit_as_string) {
    w.Key("rpm_limit").String(std::to_string(*d.rpm_limit));
  } else if (d.rpm_limit) {
    w.Key("rpm_limit").Int(*d.rpm_limit);
  }
  if (d.tpm_limit) w.Key("tpm_limit").Int(*d.tpm_limit);
  if (d.ptu_capacity) {
    w.Key("ptu_capacity").BeginObject();
    w.Key("input_tpm").Int(d.ptu_capacity->input_tpm);
    w.Key("output_tpm").Int(d.ptu_capacity->output_tpm);
    w.EndObject();
  }
  if (d.pre_paid_expires_at) w.Key("pre_paid_gmt_expired").String(FormatApiTime(*d.pre_paid_expires_at));
  if (d.ptu_service_tier) w.Key("ptu_service_tier").String(*d.ptu_service_tier);
  if (d.overflow_strategy) w.Key("overflow_strategy").String(*d.overflow_strategy);
  if (d.fail_reason) w.Key("fail_reason").String(*d.fail_reason);
  w.Key("creator").String(d.creator);
  w.Key("modifier").String(d.modifier);
  w.EndObject();
}

std::string Render(const PageBody& page, std::string_view extra_key) {
  JsonWriter w;
  w.BeginObject();
  w.Key("request_id").String(page.request_id);
  w.Key(page.envelope).BeginObject();
  w.Key("page_no").Int(page.page_no);
  w.Key("page_size").Int(page.page_size);
  w.Key("total").Int(page.total);
  if (!extra_key.empty()) w.Key(extra_key).Raw(std::string_view(&kMarker, 1));
  w.Key("deployments").BeginArray();
  for (size_t i = 0; i < page.deployments.size(); ++i) {
    WriteDeployment(w, page.deployments[i], i, page.deployments.size(), page.wrong_types);
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace

std::string RenderPage(const PageBody& page) { return Render(page, {}); }

SplitBody RenderPageAround(const PageBody& page, std::string_view key) {
  std::string whole = Render(page, key);
  const size_t at = whole.find(kMarker);
  return SplitBody{whole.substr(0, at), whole.substr(at + 1)};
}

std::string RenderError(std::string_view request_id, const std::optional<std::string>& code,
                        const std::optional<std::string>& message) {
  JsonWriter w;
  w.BeginObject();
  w.Key("request_id").String(request_id);
  if (code) w.Key("code").String(*code);
  if (message) w.Key("message").String(*message);
  w.EndObject();
  return w.Take();
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Temporarily Unavailable";
    case 504: return "Gateway Time-out";
    default: return status >= 500 ? "Server Error" : "Error";
  }
}

std::string RenderGatewayPage(int status) {
  const std::string title = std::to_string(status) + " " + std::string(ReasonPhrase(status));
  return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
         "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
}

void StreamedBody::AddText(std::string text) {
  size_ += text.size();
  if (!text.empty()) segments_.push_back(Segment{std::move(text), 0, 0});
}

void StreamedBody::AddRun(char c, int64_t count) {
  if (count <= 0) return;
  size_ += static_cast<uint64_t>(count);
  segments_.push_back(Segment{{}, c, static_cast<uint64_t>(count)});
}

std::string StreamedBody::Read(uint64_t offset, uint64_t max) const {
  std::string out;
  uint64_t start = 0;
  for (const Segment& s : segments_) {
    const uint64_t len = s.length();
    if (out.size() >= max) break;
    if (offset < start + len) {
      const uint64_t from = offset > start ? offset - start : 0;
      const uint64_t n = std::min(len - from, max - out.size());
      if (s.count != 0) {
        out.append(static_cast<size_t>(n), s.fill);
      } else {
        out.append(s.text, static_cast<size_t>(from), static_cast<size_t>(n));
      }
      offset = start + from + n;
    }
    start += len;
  }
  return out;
}

}  // namespace dse::mock
