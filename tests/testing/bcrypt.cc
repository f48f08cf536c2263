#include "testing/bcrypt.h"

#include <crypt.h>
#include <gtest/gtest.h>

#include <memory>

namespace dse::testing {

std::string Bcrypt(const std::string& password, unsigned long cost, const char* prefix) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn(prefix, cost, nullptr, 0, salt, sizeof salt), nullptr);
  auto data = std::make_unique<crypt_data>();
  const char* h = crypt_rn(password.c_str(), salt, data.get(), static_cast<int>(sizeof(crypt_data)));
  EXPECT_NE(h, nullptr);
  return h != nullptr ? h : "";
}

}  // namespace dse::testing
