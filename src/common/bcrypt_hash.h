// Whether a string is a bcrypt hash, for the two places that must know:
// the web config loader (a clear error at start) and the authenticator (the
// last check before crypt()).
#pragma once

#include <string_view>

namespace dse {

// True for the bcrypt forms libcrypt verifies: $2a$, $2b$, $2y$, a two-digit
// cost 04..31, '$', then 22 characters of salt and 31 of hash in bcrypt's
// base64 alphabet. Anything else must never reach crypt(), which would
// silently fall back to weaker schemes such as DES.
bool IsBcryptHash(std::string_view hash);

}  // namespace dse
