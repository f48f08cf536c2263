#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/text.h"

namespace dse::server::detail {
namespace {

// The first queued OpenSSL error, and the queue emptied so that it cannot be
// blamed on a later, unrelated call.
std::string TakeOpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// Never prompt on the terminal for a passphrase: encrypted keys are refused.
int NoPassphrase(char*, int, int, void*) { return -1; }

struct BioCloser {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioCloser>;

Result<BioPtr> OpenFile(const std::string& what, const std::string& path) {
  errno = 0;
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    const std::string why = errno != 0 ? std::strerror(errno) : TakeOpenSslError();
    ERR_clear_error();
    return Error{"TLS: cannot read " + what + " " + Quote(path) + ": " + why};
  }
  return bio;
}

int VersionOf(const std::string& name) { return name == "TLS13" ? TLS1_3_VERSION : TLS1_2_VERSION; }

// exporter-toolkit's IANA suite names -> OpenSSL's names, ':'-joined.
Result<std::string> OpenSslCipherList(const std::vector<std::string>& iana) {
  if (iana.empty()) return std::string();
  SSL_CTX* probe = SSL_CTX_new(TLS_server_method());
  if (probe == nullptr) return Error{"TLS: cannot make a probe context: " + TakeOpenSslError()};
  std::string list;
  std::string missing;
  if (SSL_CTX_set_cipher_list(probe, "ALL:@SECLEVEL=0") == 1) {
    const STACK_OF(SSL_CIPHER)* all = SSL_CTX_get_ciphers(probe);
    for (const std::string& want : iana) {
      const char* found = nullptr;
      for (int i = 0; i < sk_SSL_CIPHER_num(all); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(all, i);
        const char* standard = SSL_CIPHER_standard_name(c);
        if (standard != nullptr && want == standard) found = SSL_CIPHER_get_name(c);
      }
      if (found == nullptr) {
        missing = want;
        break;
      }
      if (!list.empty()) list += ':';
      list += found;
    }
  }
  SSL_CTX_free(probe);
  ERR_clear_error();
  if (!missing.empty()) return Error{"TLS: cipher suite " + missing + " is not available in this OpenSSL"};
  if (list.empty()) return Error{"TLS: cannot list OpenSSL's cipher suites"};
  return list;
}

// exporter-toolkit's curve names -> OpenSSL's group names, ':'-joined.
std::string OpenSslGroupList(const std::vector<std::string>& curves) {
  std::string list;
  for (const std::string& c : curves) {
    if (!list.empty()) list += ':';
    if (c == "CurveP256") {
      list += "P-256";
    } else if (c == "CurveP384") {
      list += "P-384";
    } else if (c == "CurveP521") {
      list += "P-521";
    } else {
      list += c;  // X25519
    }
  }
  return list;
}

}  // namespace

TlsMaterial::~TlsMaterial() {
  X509_free(cert_);
  sk_X509_pop_free(chain_, X509_free);
  EVP_PKEY_free(key_);
  X509_STORE_free(client_ca_);
  sk_X509_NAME_pop_free(client_ca_names_, X509_NAME_free);
}

Result<std::shared_ptr<const TlsMaterial>> TlsMaterial::Load(const config::TlsServerConfig& config) {
  ERR_clear_error();
  std::shared_ptr<TlsMaterial> m(new TlsMaterial());

  if (config.min_version.empty() || config.min_version == "TLS12") {
    m->min_version_ = TLS1_2_VERSION;
  } else if (config.min_version == "TLS13") {
    m->min_version_ = TLS1_3_VERSION;
  } else {
    return Error{"TLS: min_version \"" + config.min_version + "\" is not supported (want TLS12 or TLS13)"};
  }
  if (config.max_version != "TLS12" && config.max_version != "TLS13") {
    return Error{"TLS: max_version \"" + config.max_version + "\" is not supported (want TLS12 or TLS13)"};
  }
  m->max_version_ = VersionOf(config.max_version);
  if (m->max_version_ < m->min_version_) {
    return Error{"TLS: max_version " + config.max_version + " is below min_version " + config.min_version};
  }
  auto ciphers = OpenSslCipherList(config.cipher_suites);
  if (!ciphers) return Error{ciphers.error()};
  m->cipher_list_ = std::move(*ciphers);
  m->groups_list_ = OpenSslGroupList(config.curve_preferences);

  {
    auto bio = OpenFile("certificate", config.cert_file);
    if (!bio) return Error{bio.error()};
    m->cert_ = PEM_read_bio_X509_AUX(bio->get(), nullptr, NoPassphrase, nullptr);
    if (m->cert_ == nullptr) {
      return Error{"TLS: no PEM certificate in " + Quote(config.cert_file) + ": " + TakeOpenSslError()};
    }
    m->chain_ = sk_X509_new_null();
    while (X509* extra = PEM_read_bio_X509(bio->get(), nullptr, NoPassphrase, nullptr)) {
      sk_X509_push(m->chain_, extra);
    }
    // Reading past the last certificate always leaves "no start line" queued.
    const unsigned long last = ERR_peek_last_error();
    if (ERR_GET_LIB(last) != ERR_LIB_PEM || ERR_GET_REASON(last) != PEM_R_NO_START_LINE) {
      if (last != 0) {
        return Error{"TLS: bad certificate chain in " + Quote(config.cert_file) + ": " + TakeOpenSslError()};
      }
    }
    ERR_clear_error();
  }
  {
    auto bio = OpenFile("key", config.key_file);
    if (!bio) return Error{bio.error()};
    m->key_ = PEM_read_bio_PrivateKey(bio->get(), nullptr, NoPassphrase, nullptr);
    if (m->key_ == nullptr) {
      return Error{"TLS: no usable PEM private key in " + Quote(config.key_file) +
                   " (encrypted keys are not supported): " + TakeOpenSslError()};
    }
  }
  if (X509_check_private_key(m->cert_, m->key_) != 1) {
    ERR_clear_error();
    return Error{"TLS: certificate " + Quote(config.cert_file) + " and key " + Quote(config.key_file) +
                 " do not match"};
  }

  if (!config.client_ca_file.empty()) {
    auto bio = OpenFile("client CA file", config.client_ca_file);  // a clear message for a missing file
    if (!bio) return Error{bio.error()};
    m->client_ca_ = X509_STORE_new();
    if (m->client_ca_ == nullptr || X509_STORE_load_file(m->client_ca_, config.client_ca_file.c_str()) != 1) {
      return Error{"TLS: cannot load client CA file " + Quote(config.client_ca_file) + ": " +
                   TakeOpenSslError()};
    }
    m->client_ca_names_ = SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (m->client_ca_names_ == nullptr) {
      return Error{"TLS: no certificates in client CA file " + Quote(config.client_ca_file) + ": " +
                   TakeOpenSslError()};
    }
  }
  ERR_clear_error();
  return std::shared_ptr<const TlsMaterial>(std::move(m));
}

bool TlsMaterial::ApplyTo(SSL* ssl) const {
  if (SSL_use_cert_and_key(ssl, cert_, key_, chain_, 1) != 1) return false;
  if (SSL_set_min_proto_version(ssl, min_version_) != 1) return false;
  if (SSL_set_max_proto_version(ssl, max_version_) != 1) return false;
  // TLS 1.2 suites only; TLS 1.3's stay OpenSSL's, as Go does.
  if (!cipher_list_.empty() && SSL_set_cipher_list(ssl, cipher_list_.c_str()) != 1) return false;
  if (!groups_list_.empty() && SSL_set1_groups_list(ssl, groups_list_.c_str()) != 1) return false;
  if (client_ca_ != nullptr) {
    if (SSL_set1_verify_cert_store(ssl, client_ca_) != 1) return false;
    STACK_OF(X509_NAME)* names = SSL_dup_CA_list(client_ca_names_);
    if (names == nullptr) return false;
    SSL_set_client_CA_list(ssl, names);  // takes ownership
    SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  }
  return true;
}

TlsContext::TlsContext(std::shared_ptr<const TlsMaterial> material) : material_(std::move(material)) {}

bool TlsContext::Configure(SSL_CTX& ctx) {
  if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1) return false;
  // No resumption: a resumed session skips the certificate checks, so it
  // would outlive a reload that removed the client's CA; scrapers keep their
  // connection open instead.
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(&ctx, 0);
  SSL_CTX_set_client_hello_cb(&ctx, &TlsContext::OnClientHello, this);
  return true;
}

void TlsContext::Replace(std::shared_ptr<const TlsMaterial> material) {
  std::lock_guard lock(mu_);
  material_ = std::move(material);
}

std::shared_ptr<const TlsMaterial> TlsContext::Current() const {
  std::lock_guard lock(mu_);
  return material_;
}

int TlsContext::OnClientHello(SSL* ssl, int* alert, void* arg) {
  // Runs before the version is chosen and the certificate is sent, so the
  // minimum version and client-CA policy take effect for this handshake.
  const auto material = static_cast<TlsContext*>(arg)->Current();
  if (!material || !material->ApplyTo(ssl)) {
    ERR_clear_error();
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace dse::server::detail
