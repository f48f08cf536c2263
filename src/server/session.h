// One connection's request/response cycle: read a head under a deadline,
// refuse bodies, route, authenticate, answer, keep alive. Requests are read
// with Beast's parser under fixed head and body limits; responses are
// written by hand from the pieces the provider returns, without copying.
// Internal to dse_server: only its .cc files include this; the public
// interface is http_server.h.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>

#include "server/server_core.h"

namespace dse::server::detail {

// A new session on `worker` for an accepted connection, plain or TLS; it
// starts serving at Start().
std::shared_ptr<Connection> NewSession(ServerCore& server, Worker& worker, beast::tcp_stream stream);
std::shared_ptr<Connection> NewSession(ServerCore& server, Worker& worker,
                                       beast::ssl_stream<beast::tcp_stream> stream);

}  // namespace dse::server::detail
