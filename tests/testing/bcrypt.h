// bcrypt hashes made at test time with libcrypt, so that no hash (and no
// password behind one) is checked in.
#pragma once

#include <string>

namespace dse::testing {

// A hash of `password` with `prefix` ("$2b$", "$2a$" or "$2y$") at `cost`;
// cost 5 keeps a check under a millisecond or so. A failure fails the test
// and returns "".
std::string Bcrypt(const std::string& password, unsigned long cost = 5, const char* prefix = "$2b$");

}  // namespace dse::testing
