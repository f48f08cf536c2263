#include "mock/api.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <utility>

#include "common/log.h"
#include "common/splitmix.h"
#include "mock/json_writer.h"
#include "mock/responses.h"

namespace dse::mock {
namespace {

constexpr int64_t kMaxTicksPerRequest = 1000000;
constexpr size_t kMaxTrackedPaths = 64;  // stray clients must not grow the state without bound
constexpr size_t kStreamChunk = 64 * 1024;
constexpr const char* kJson = "application/json";

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

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

void AdminError(httplib::Response& res, int status, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("error").String(message).EndObject();
  res.status = status;
  res.set_content(w.Take(), kJson);
}

void ApiError(httplib::Response& res, int status, std::string_view request_id, std::string code,
              std::string message) {
  res.status = status;
  res.set_content(RenderError(request_id, std::move(code), std::move(message)), kJson);
}

// Serves `body` with its full length announced; with `cut` set, stops after
// that many bytes and returns false, which makes httplib drop the connection.
void SetStreamedContent(httplib::Response& res, std::shared_ptr<const StreamedBody> body,
                        std::optional<uint64_t> cut) {
  const uint64_t size = body->size();
  res.set_content_provider(
      static_cast<size_t>(size), kJson,
      [body = std::move(body), cut](size_t offset, size_t length, httplib::DataSink& sink) {
        const uint64_t limit = cut ? *cut : body->size();
        if (offset >= limit) return false;
        const uint64_t n = std::min<uint64_t>({length, kStreamChunk, limit - offset});
        const std::string piece = body->Read(offset, n);
        return sink.write(piece.data(), piece.size());
      });
}

void WriteOptionalNumberOrText(JsonWriter& w, const std::optional<std::string>& text) {
  if (!text) {
    w.Null();
  } else if (auto n = ParseInt(*text)) {
    w.Int(*n);
  } else {
    w.String(*text);
  }
}

}  // namespace

std::optional<Envelope> ParseEnvelope(std::string_view text) {
  if (text == "output") return Envelope::kOutput;
  if (text == "data") return Envelope::kData;
  if (text == "alternate") return Envelope::kAlternate;
  return std::nullopt;
}

std::string_view EnvelopeName(Envelope envelope) {
  switch (envelope) {
    case Envelope::kOutput: return "output";
    case Envelope::kData: return "data";
    case Envelope::kAlternate: return "alternate";
  }
  return "output";
}

MockApi::MockApi(ApiOptions api, FleetOptions fleet)
    : options_(std::move(api)), workspace_id_(fleet.workspace_id), fleet_(std::move(fleet)) {}

void MockApi::Register(httplib::Server& server) {
  auto bind = [this](void (MockApi::*handler)(const httplib::Request&, httplib::Response&)) {
    return
        [this, handler](const httplib::Request& req, httplib::Response& res) { (this->*handler)(req, res); };
  };
  const std::map<std::string, httplib::Server::Handler> posts = {
      {"/mock/tick", bind(&MockApi::PostTick)},
      {"/mock/reset", bind(&MockApi::PostReset)},
      {"/mock/deployments", bind(&MockApi::PostDeployments)},
      {"/mock/faults", bind(&MockApi::PostFault)},
  };
  server.Get("/api/v1/deployments", bind(&MockApi::ListDeployments));
  server.Get("/mock/state", bind(&MockApi::GetState));
  server.Get("/mock/faults", bind(&MockApi::GetFaults));
  server.Delete("/mock/faults", bind(&MockApi::DeleteFaults));
  for (const auto& [path, handler] : posts) server.Post(path, handler);
  // httplib 0.11 answers 400 to a POST that announces no body length, which
  // is what `curl -X POST URL?n=1` sends. Admin fields may all be in the
  // query, so such POSTs are served here, before httplib looks for a body.
  server.set_pre_routing_handler([posts](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "POST" || req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    auto it = posts.find(req.path);
    if (it == posts.end()) return httplib::Server::HandlerResponse::Unhandled;
    it->second(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Routes match in registration order, so these only catch the rest.
  server.Get(".*", bind(&MockApi::NotFound));
  server.Post(".*", bind(&MockApi::NotFound));
  server.Put(".*", bind(&MockApi::NotFound));
  server.Patch(".*", bind(&MockApi::NotFound));
  server.Delete(".*", bind(&MockApi::NotFound));
}

void MockApi::SetConnectionCloser(std::function<void(const httplib::Request&)> closer) {
  closer_ = std::move(closer);
}

void MockApi::SetConnectionFinder(std::function<int(const httplib::Request&)> finder) {
  finder_ = std::move(finder);
}

void MockApi::Trickle(const httplib::Request& req, const std::string& response, int64_t ms) {
  const int fd = finder_ ? finder_(req) : -1;
  if (fd < 0) {
    log::Warn("trickle fault needs a plain-HTTP connection; answering 500 instead");
    return;
  }
  ++delays_in_flight_;
  for (char c : response) {
    if (::send(fd, &c, 1, MSG_NOSIGNAL) != 1) break;  // the client has gone
    if (!WaitUnlessShutdown(ms)) break;
  }
  --delays_in_flight_;
  // httplib's own answer, written after this, goes nowhere.
  ::shutdown(fd, SHUT_RDWR);
}

std::string MockApi::NextRequestId() {
  const uint64_t seq = request_seq_.fetch_add(1) + 1;
  const uint64_t a = SplitMix(options_.seed * kSplitMixGamma + seq);
  const uint64_t b = SplitMix(a + seq);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFull));
  return buf;
}

void MockApi::CountRequest(const httplib::Request& req) {
  ++counters_.requests;
  if (counters_.by_path.count(req.path) != 0 || counters_.by_path.size() < kMaxTrackedPaths) {
    ++counters_.by_path[req.path];
  } else {
    ++counters_.by_path["(other)"];
  }
}

std::optional<MockApi::ListTicket> MockApi::Admit(const httplib::Request& req, httplib::Response& res,
                                                  const std::string& request_id) {
  struct Refusal {
    int status;
    std::string code;
    std::string message;
  };
  std::optional<Refusal> refusal;
  ListTicket ticket;
  {
    std::lock_guard lock(mu_);
    CountRequest(req);
    ++counters_.list_requests;
    Counters& c = counters_;
    c.last_page_no = req.has_param("page_no") ? std::optional(req.get_param_value("page_no")) : std::nullopt;
    c.last_page_size =
        req.has_param("page_size") ? std::optional(req.get_param_value("page_size")) : std::nullopt;
    c.last_had_workspace = req.has_header("X-DashScope-WorkSpace");
    c.last_workspace = req.get_header_value("X-DashScope-WorkSpace");
    c.last_user_agent =
        req.has_header("User-Agent") ? std::optional(req.get_header_value("User-Agent")) : std::nullopt;
    c.last_proxy_authorization = req.has_header("Proxy-Authorization")
                                     ? std::optional(req.get_header_value("Proxy-Authorization"))
                                     : std::nullopt;

    if (req.get_header_value("Authorization") != "Bearer " + options_.api_key) {
      ++c.auth_failures;
      refusal = Refusal{401, "InvalidApiKey", "Invalid API-key provided."};
    } else if (c.last_had_workspace && c.last_workspace != workspace_id_) {
      ++c.workspace_denials;
      refusal =
          Refusal{403, "AccessDenied",
                  "Access denied: this API-key has no permission for workspace " + c.last_workspace + "."};
    } else {
      if (c.last_page_no) {
        auto n = ParseInt(*c.last_page_no);
        if (!n || *n < 1) {
          refusal = Refusal{400, "InvalidParameter",
                            "Parameter page_no must be a positive integer, got \"" + *c.last_page_no + "\"."};
        } else {
          ticket.page_no = *n;
        }
      }
      if (!refusal && c.last_page_size) {
        auto n = ParseInt(*c.last_page_size);
        if (!n || *n < 1 || *n > options_.max_page_size) {
          refusal =
              Refusal{400, "InvalidParameter",
                      "Parameter page_size must be between 1 and " + std::to_string(options_.max_page_size) +
                          ", got \"" + *c.last_page_size + "\"."};
        } else {
          ticket.page_size = *n;
        }
      }
      if (refusal) {
        ++c.invalid_parameters;
      } else {
        ticket.fault = faults_.Take(ticket.page_no);
        if (ticket.fault) ++c.faults_applied;
      }
    }
  }
  if (refusal) {
    ApiError(res, refusal->status, request_id, std::move(refusal->code), std::move(refusal->message));
    return std::nullopt;
  }
  if (ticket.fault) {
    log::Info("applying fault", {{"kind", std::string(FaultKindName(ticket.fault->kind))},
                                 {"page_no", std::to_string(ticket.page_no)},
                                 {"request_id", request_id}});
  }
  return ticket;
}

bool MockApi::WaitUnlessShutdown(int64_t ms) {
  std::unique_lock lock(shutdown_mu_);
  return !shutdown_cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return shutting_down_; });
}

void MockApi::Shutdown() {
  {
    std::lock_guard lock(shutdown_mu_);
    shutting_down_ = true;
  }
  shutdown_cv_.notify_all();
}

void MockApi::ListDeployments(const httplib::Request& req, httplib::Response& res) {
  const std::string request_id = NextRequestId();
  res.set_header("X-Request-Id", request_id);
  std::optional<ListTicket> ticket = Admit(req, res, request_id);
  if (!ticket) return;
  if (ticket->fault && ticket->fault->kind == FaultKind::kDelay) {
    // Only this worker waits; the state lock is free meanwhile.
    ++delays_in_flight_;
    const bool waited = WaitUnlessShutdown(ticket->fault->delay_ms);
    --delays_in_flight_;
    if (!waited) {
      // The server is going away: the client sees the connection drop, as
      // it would with a real server, not an early answer.
      if (closer_) closer_(req);
      res.status = 503;
      return;
    }
  }
  Respond(*ticket, request_id, req, res);
}

void MockApi::Respond(const ListTicket& ticket, const std::string& request_id, const httplib::Request& req,
                      httplib::Response& res) {
  const std::optional<Fault>& fault = ticket.fault;
  const FaultKind kind = fault ? fault->kind : FaultKind::kDelay;
  PageBody page;
  page.request_id = request_id;
  page.page_no = ticket.page_no;
  page.page_size = ticket.page_size;
  {
    std::lock_guard lock(mu_);
    const auto size = static_cast<uint64_t>(fleet_.size());
    const auto page_size = static_cast<uint64_t>(ticket.page_size);
    const auto index = static_cast<uint64_t>(ticket.page_no - 1);
    // Past the end (or absurd page numbers): an empty page, not an overflow.
    const uint64_t offset = index > size / page_size ? size : index * page_size;
    page.total = static_cast<int64_t>(size);
    page.deployments = fleet_.Page(static_cast<size_t>(offset), static_cast<size_t>(page_size));
    if (fault && kind == FaultKind::kDuplicates) {
      // Page 1 has no previous page, so it repeats itself.
      std::vector<Deployment> previous =
          ticket.page_no > 1 && offset >= page_size
              ? fleet_.Page(static_cast<size_t>(offset - page_size), static_cast<size_t>(page_size))
              : page.deployments;
      previous.insert(previous.end(), page.deployments.begin(), page.deployments.end());
      page.deployments = std::move(previous);
    }
    switch (options_.envelope) {
      case Envelope::kOutput: page.envelope = "output"; break;
      case Envelope::kData: page.envelope = "data"; break;
      case Envelope::kAlternate: page.envelope = responses_ % 2 == 0 ? "output" : "data"; break;
    }
    ++responses_;
  }

  res.status = 200;
  if (!fault) {
    res.set_content(RenderPage(page), kJson);
    return;
  }
  switch (fault->kind) {
    case FaultKind::kDelay:
    case FaultKind::kDuplicates: res.set_content(RenderPage(page), kJson); break;
    case FaultKind::kWrongTypes:
      page.wrong_types = true;
      res.set_content(RenderPage(page), kJson);
      break;
    case FaultKind::kLyingTotal:
      page.total = fault->total;
      res.set_content(RenderPage(page), kJson);
      break;
    case FaultKind::kHttp:
      res.status = fault->status;
      if (fault->retry_after) res.set_header("Retry-After", *fault->retry_after);
      res.set_content(RenderError(request_id, fault->code, fault->message), kJson);
      break;
    case FaultKind::kHtml:
      res.status = fault->status;
      res.set_content(RenderGatewayPage(fault->status), "text/html");
      break;
    case FaultKind::kTruncate: {
      auto body = std::make_shared<StreamedBody>();
      body->AddText(RenderPage(page));
      // Always short by at least one byte, whatever bytes= asked for.
      const uint64_t cut = fault->bytes > 0 ? std::min(static_cast<uint64_t>(fault->bytes), body->size() - 1)
                                            : body->size() / 2;
      SetStreamedContent(res, std::move(body), cut);
      break;
    }
    case FaultKind::kOversize: {
      SplitBody split = RenderPageAround(page, "padding");
      split.prefix += '"';
      split.suffix.insert(split.suffix.begin(), '"');
      const auto frame = static_cast<int64_t>(split.prefix.size() + split.suffix.size());
      auto body = std::make_shared<StreamedBody>();
      body->AddText(std::move(split.prefix));
      body->AddRun('x', fault->bytes - frame);
      body->AddText(std::move(split.suffix));
      SetStreamedContent(res, std::move(body), std::nullopt);
      break;
    }
    case FaultKind::kDeep: {
      SplitBody split = RenderPageAround(page, "nested");
      auto body = std::make_shared<StreamedBody>();
      body->AddText(std::move(split.prefix));
      body->AddRun('[', fault->depth);
      body->AddRun(']', fault->depth);
      body->AddText(std::move(split.suffix));
      SetStreamedContent(res, std::move(body), std::nullopt);
      break;
    }
    case FaultKind::kEmptyBody: res.set_content("", kJson); break;
    case FaultKind::kInvalidJson:
      // A trailing comma inside an object, and the document never closes.
      res.set_content("{\"request_id\":\"" + request_id + "\",\"" + std::string(page.envelope) +
                          "\":{\"page_no\":" + std::to_string(page.page_no) + ",\"total\":" +
                          std::to_string(page.total) + ",\"deployments\":[{\"deployed_model\":\"broken\",}]",
                      kJson);
      break;
    case FaultKind::kClose:
      if (closer_) closer_(req);
      res.status = 500;
      res.set_content("", kJson);
      break;
    case FaultKind::kTrickle: {
      const std::string body = RenderPage(page);
      Trickle(req,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: " + request_id +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                  body,
              fault->delay_ms);
      res.status = 500;
      res.set_content("", kJson);
      break;
    }
  }
}

void MockApi::PostTick(const httplib::Request& req, httplib::Response& res) {
  const FormFields fields = Fields(req);
  int64_t tick = 0;
  {
    std::lock_guard lock(mu_);
    CountRequest(req);
    int64_t n = 1;
    if (const std::string* text = Field(fields, "n")) {
      auto parsed = ParseInt(*text);
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

void MockApi::Advance(int64_t ticks) {
  std::lock_guard lock(mu_);
  fleet_.Advance(ticks);
}

int64_t MockApi::tick() const {
  std::lock_guard lock(mu_);
  return fleet_.tick();
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
    auto n = ParseInt(*v);
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
    auto n = ParseInt(*count);
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

void MockApi::NotFound(const httplib::Request& req, httplib::Response& res) {
  {
    std::lock_guard lock(mu_);
    CountRequest(req);
  }
  if (req.path.rfind("/api/", 0) == 0) {
    const std::string request_id = NextRequestId();
    res.set_header("X-Request-Id", request_id);
    return ApiError(res, 404, request_id, "NotFound", "Not found: " + req.method + " " + req.path);
  }
  AdminError(res, 404, "no such endpoint: " + req.method + " " + req.path);
}

}  // namespace dse::mock
