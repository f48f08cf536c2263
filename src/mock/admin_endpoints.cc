// The /mock/ admin endpoints: tick, reset, state, deployments and faults.
// They steer the simulated account and report what the list endpoint saw.
#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "common/decimal.h"
#include "common/log.h"
#include "mock/api.h"
#include "mock/api_internal.h"
#include "mock/json_writer.h"

namespace dse::mock {

using detail::AdminError;
using detail::kJson;

namespace {

constexpr int64_t kMaxTicksPerRequest = 1000000;

// Query parameters, urlencoded form fields and multipart fields alike.
FormFields Fields(const httplib::Request& req) {
  FormFields fields(req.params.begin(), req.params.end());
  for (const auto& [name, file] : req.files) fields.emplace(name, file.content);
  return fields;
}

const std::string* Field(const FormFields& fields, const std::string& key) {
  auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

void WriteOptionalNumberOrText(JsonWriter& w, const std::optional<std::string>& text) {
  if (!text) {
    w.Null();
  } else if (auto n = ParseDecimal<int64_t>(*text)) {
    w.Int(*n);
  } else {
    w.String(*text);
  }
}

}  // namespace

void MockApi::PostTick(const httplib::Request& req, httplib::Response& res) {
  const FormFields fields = Fields(req);
  int64_t tick = 0;
  {
    std::lock_guard lock(mu_);
    CountRequest(req);
    int64_t n = 1;
    if (const std::string* text = Field(fields, "n")) {
      auto parsed = ParseDecimal<int64_t>(*text);
      if (!parsed || *parsed < 1 || *parsed > kMaxTicksPerRequest) {
        return AdminError(res, 400, "field n: expected an integer in [1, 1000000], got \"" + *text + "\"");
      }
      n = *parsed;
    }
    fleet_.Advance(n);
    tick = fleet_.tick();
  }
  log::Debug("ticked", {{"tick", std::to_string(tick)}});
  JsonWriter w;
  w.BeginObject().Key("tick").Int(tick).EndObject();
  res.set_content(w.Take(), kJson);
}

void MockApi::PostReset(const httplib::Request& req, httplib::Response& res) {
  JsonWriter w;
  {
    std::lock_guard lock(mu_);
    fleet_.Reset();
    faults_.Clear();
    counters_ = Counters{};
    responses_ = 0;
    CountRequest(req);
    w.BeginObject()
        .Key("tick")
        .Int(fleet_.tick())
        .Key("deployments")
        .Int(static_cast<int64_t>(fleet_.size()));
    w.EndObject();
  }
  res.set_content(w.Take(), kJson);
}

std::string MockApi::StateJson() const {
  const Counters& c = counters_;
  JsonWriter w;
  w.BeginObject();
  w.Key("tick").Int(fleet_.tick());
  w.Key("deployments").Int(static_cast<int64_t>(fleet_.size()));
  w.Key("workspace_id").String(workspace_id_);
  w.Key("envelope").String(EnvelopeName(options_.envelope));
  w.Key("requests_total").Int(c.requests);
  w.Key("requests_by_path").BeginObject();
  for (const auto& [path, count] : c.by_path) w.Key(path).Int(count);
  w.EndObject();
  w.Key("list_requests").Int(c.list_requests);
  w.Key("auth_failures").Int(c.auth_failures);
  w.Key("workspace_denials").Int(c.workspace_denials);
  w.Key("invalid_parameters").Int(c.invalid_parameters);
  w.Key("faults_applied").Int(c.faults_applied);
  w.Key("faults_pending").Int(static_cast<int64_t>(faults_.faults().size()));
  w.Key("delays_in_flight").Int(delays_in_flight_.load());
  w.Key("last_page_no");
  WriteOptionalNumberOrText(w, c.last_page_no);
  w.Key("last_page_size");
  WriteOptionalNumberOrText(w, c.last_page_size);
  w.Key("last_workspace_header").Bool(c.last_had_workspace);
  w.Key("last_workspace");
  if (c.last_had_workspace) {
    w.String(c.last_workspace);
  } else {
    w.Null();
  }
  w.Key("last_user_agent");
  if (c.last_user_agent) {
    w.String(*c.last_user_agent);
  } else {
    w.Null();
  }
  w.Key("last_proxy_authorization");
  if (c.last_proxy_authorization) {
    w.String(*c.last_proxy_authorization);
  } else {
    w.Null();
  }
  w.EndObject();
  return w.Take();
}

void MockApi::GetState(const httplib::Request& req, httplib::Response& res) {
  std::string body;
  {
    std::lock_guard lock(mu_);
    CountRequest(req);
    body = StateJson();
  }
  res.set_content(std::move(body), kJson);
}

void MockApi::PostDeployments(const httplib::Request& req, httplib::Response& res) {
  static const std::array<std::string, 14> kKnown = {
      "count",          "set",           "add",         "remove",
      "status",         "name",          "model_name",  "capacity",
      "ready_capacity", "base_capacity", "fail_reason", "pre_paid_gmt_expired_unix",
      "ptu_input_tpm",  "ptu_output_tpm"};
  const FormFields fields = Fields(req);
  std::lock_guard lock(mu_);
  CountRequest(req);
  for (const auto& [key, value] : fields) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      return AdminError(res, 400, "unknown field " + key);
    }
  }
  int actions = 0;
  for (const char* action : {"count", "set", "add", "remove"}) actions += fields.count(action) != 0 ? 1 : 0;
  if (actions != 1) return AdminError(res, 400, "give exactly one of count=, set=, add=, remove=");

  DeploymentEdit edit;
  auto text = [&](const std::string& key, std::optional<std::string>& target) {
    if (const std::string* v = Field(fields, key)) target = *v;
  };
  auto number = [&](const std::string& key, std::optional<int64_t>& target) {
    const std::string* v = Field(fields, key);
    if (v == nullptr) return true;
    auto n = ParseDecimal<int64_t>(*v);
    if (!n || *n < 0) return false;
    target = *n;
    return true;
  };
  text("status", edit.status);
  text("name", edit.name);
  text("model_name", edit.model_name);
  text("fail_reason", edit.fail_reason);
  for (auto [key, target] :
       {std::pair{"capacity", &edit.capacity}, std::pair{"ready_capacity", &edit.ready_capacity},
        std::pair{"base_capacity", &edit.base_capacity},
        std::pair{"pre_paid_gmt_expired_unix", &edit.pre_paid_expires_at},
        std::pair{"ptu_input_tpm", &edit.ptu_input_tpm}, std::pair{"ptu_output_tpm", &edit.ptu_output_tpm}}) {
    if (!number(key, *target)) {
      return AdminError(res, 400, std::string("field ") + key + ": expected a non-negative integer");
    }
  }
  const bool has_edit = edit.status || edit.name || edit.model_name || edit.capacity || edit.ready_capacity ||
                        edit.base_capacity || edit.fail_reason || edit.pre_paid_expires_at ||
                        edit.ptu_input_tpm || edit.ptu_output_tpm;

  Status status = Status::Ok();
  if (const std::string* count = Field(fields, "count")) {
    auto n = ParseDecimal<int64_t>(*count);
    if (has_edit) return AdminError(res, 400, "count= takes no other field");
    if (!n || *n < 0 || *n > static_cast<int64_t>(kMaxFleetSize)) {
      return AdminError(res, 400, "field count: expected an integer in [0, 100000]");
    }
    status = fleet_.Regenerate(static_cast<size_t>(*n));
  } else if (const std::string* id = Field(fields, "set")) {
    if (!fleet_.Find(*id)) return AdminError(res, 404, "no deployment " + *id);
    status = fleet_.Pin(*id, edit);
  } else if (const std::string* added = Field(fields, "add")) {
    if (fleet_.Find(*added)) return AdminError(res, 409, "deployment " + *added + " already exists");
    status = fleet_.Add(*added, edit);
  } else if (const std::string* removed = Field(fields, "remove")) {
    if (has_edit) return AdminError(res, 400, "remove= takes no other field");
    if (!fleet_.Find(*removed)) return AdminError(res, 404, "no deployment " + *removed);
    status = fleet_.Remove(*removed);
  }
  if (!status.ok()) return AdminError(res, 400, status.error());
  JsonWriter w;
  w.BeginObject().Key("tick").Int(fleet_.tick()).Key("deployments").Int(static_cast<int64_t>(fleet_.size()));
  w.EndObject();
  res.set_content(w.Take(), kJson);
}

void MockApi::PostFault(const httplib::Request& req, httplib::Response& res) {
  Result<Fault> fault = ParseFault(Fields(req));
  JsonWriter w;
  {
    std::lock_guard lock(mu_);
    CountRequest(req);
    if (!fault.ok()) return AdminError(res, 400, fault.error());
    faults_.Push(*fault);
    w.BeginObject();
    w.Key("queued");
    WriteFault(w, *fault);
    w.Key("faults_pending").Int(static_cast<int64_t>(faults_.faults().size()));
    w.EndObject();
  }
  res.set_content(w.Take(), kJson);
}

void MockApi::GetFaults(const httplib::Request& req, httplib::Response& res) {
  JsonWriter w;
  {
    std::lock_guard lock(mu_);
    CountRequest(req);
    w.BeginObject().Key("faults").BeginArray();
    for (const Fault& f : faults_.faults()) WriteFault(w, f);
    w.EndArray().EndObject();
  }
  res.set_content(w.Take(), kJson);
}

void MockApi::DeleteFaults(const httplib::Request& req, httplib::Response& res) {
  int64_t cleared = 0;
  {
    std::lock_guard lock(mu_);
    CountRequest(req);
    cleared = static_cast<int64_t>(faults_.faults().size());
    faults_.Clear();
  }
  JsonWriter w;
  w.BeginObject().Key("cleared").Int(cleared).EndObject();
  res.set_content(w.Take(), kJson);
}

}  // namespace dse::mock
