// Structured logging to stderr, one line per event, logfmt or JSON.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace dse::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kLogfmt, kJson };

std::optional<Level> ParseLevel(std::string_view text);
std::optional<Format> ParseFormat(std::string_view text);

struct Field {
  std::string_view key;
  std::string value;
};

// Process-wide settings; call before threads start (and again from the main
// thread only).
void Configure(Level level, Format format);
// Where lines go; tests capture them. Default writes to stderr.
void SetSink(std::function<void(std::string_view line)> sink);
// Every registered secret is replaced by "<redacted>" in every line, as a
// last line of defence should a secret ever reach a message.
void AddSecret(std::string secret);
void ClearSecrets();

bool Enabled(Level level);
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view msg, std::initializer_list<Field> f = {}) { Write(Level::kDebug, msg, f); }
inline void Info(std::string_view msg, std::initializer_list<Field> f = {}) { Write(Level::kInfo, msg, f); }
inline void Warn(std::string_view msg, std::initializer_list<Field> f = {}) { Write(Level::kWarn, msg, f); }
inline void Error(std::string_view msg, std::initializer_list<Field> f = {}) { Write(Level::kError, msg, f); }

// Formats one line without writing it (exposed for tests).
std::string FormatLine(Format format, Level level, std::string_view time, std::string_view msg,
                       std::initializer_list<Field> fields);

}  // namespace dse::log
