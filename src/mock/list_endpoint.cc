// The emulation of the DashScope list API, GET /api/v1/deployments: admission
// (key, workspace, paging parameters, the next queued fault), the page and
// every fault's answer, including the delay, trickle and close faults.
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "common/decimal.h"
#include "common/log.h"
#include "mock/api.h"
#include "mock/api_internal.h"
#include "mock/responses.h"

namespace dse::mock {

using detail::ApiError;
using detail::kJson;

namespace {

constexpr size_t kStreamChunk = 64 * 1024;

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

}  // namespace

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
        auto n = ParseDecimal<int64_t>(*c.last_page_no);
        if (!n || *n < 1) {
          refusal = Refusal{400, "InvalidParameter",
                            "Parameter page_no must be a positive integer, got \"" + *c.last_page_no + "\"."};
        } else {
          ticket.page_no = *n;
        }
      }
      if (!refusal && c.last_page_size) {
        auto n = ParseDecimal<int64_t>(*c.last_page_size);
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

}  // namespace dse::mock
