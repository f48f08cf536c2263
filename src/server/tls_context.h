// TLS for the HTTP server. Every new connection takes its certificate, key,
// minimum version and client-CA settings from the material current at its
// ClientHello, so Reload() can swap them without touching the SSL_CTX (of
// ServerCore's asio::ssl::context) that every worker's connections share.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "config/web_config.h"

namespace dse::server::detail {

// Certificate chain, key and client-CA settings loaded from files. Immutable
// once loaded; OpenSSL reference counts let connections outlive a swap.
class TlsMaterial {
 public:
  // Errors name the file and carry OpenSSL's reason, e.g.
  //   TLS: certificate "/etc/x/cert.pem" and key "/etc/x/key.pem" do not match
  static Result<std::shared_ptr<const TlsMaterial>> Load(const config::TlsServerConfig& config);
  ~TlsMaterial();
  TlsMaterial(const TlsMaterial&) = delete;
  TlsMaterial& operator=(const TlsMaterial&) = delete;

  // Gives one connection its certificate and policy; false when OpenSSL fails.
  bool ApplyTo(SSL* ssl) const;

 private:
  TlsMaterial() = default;

  X509* cert_ = nullptr;
  STACK_OF(X509) * chain_ = nullptr;  // intermediates after the leaf, may be empty
  EVP_PKEY* key_ = nullptr;
  X509_STORE* client_ca_ = nullptr;                  // null: no client certificates
  STACK_OF(X509_NAME) * client_ca_names_ = nullptr;  // sent in CertificateRequest
  int min_version_ = TLS1_2_VERSION;
  int max_version_ = TLS1_3_VERSION;
  std::string cipher_list_;  // OpenSSL names, ':'-joined; empty: defaults
  std::string groups_list_;  // OpenSSL group names, ':'-joined; empty: defaults
};

class TlsContext {
 public:
  explicit TlsContext(std::shared_ptr<const TlsMaterial> material);

  // Sets up ServerCore's SSL_CTX once, before it serves: settings shared by
  // every connection, plus the ClientHello hook that applies the current
  // material. The hook points to this object, which must outlive the SSL_CTX.
  bool Configure(SSL_CTX& ctx);
  // New connections use `material` from now on; open ones keep theirs.
  void Replace(std::shared_ptr<const TlsMaterial> material);

 private:
  static int OnClientHello(SSL* ssl, int* alert, void* arg);
  std::shared_ptr<const TlsMaterial> Current() const;

  mutable std::mutex mu_;
  std::shared_ptr<const TlsMaterial> material_;  // guarded by mu_
};

}  // namespace dse::server::detail
