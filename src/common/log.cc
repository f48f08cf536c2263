#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <vector>

#include "common/text.h"

namespace dse::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<Format> g_format{Format::kLogfmt};
std::mutex g_mu;
std::function<void(std::string_view)> g_sink;  // guarded by g_mu
std::vector<std::string> g_secrets;            // guarded by g_mu

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void AppendLogfmtValue(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '=' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out.append(v);
    return;
  }
  out.push_back('"');
  AppendJsonEscaped(out, v);
  out.push_back('"');
}

void AppendJsonString(std::string& out, std::string_view v) {
  out.push_back('"');
  AppendJsonEscaped(out, v);
  out.push_back('"');
}

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

std::optional<Level> ParseLevel(std::string_view text) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn") return Level::kWarn;
  if (text == "error") return Level::kError;
  return std::nullopt;
}

std::optional<Format> ParseFormat(std::string_view text) {
  if (text == "logfmt") return Format::kLogfmt;
  if (text == "json") return Format::kJson;
  return std::nullopt;
}

void Configure(Level level, Format format) {
  g_level = static_cast<int>(level);
  g_format = format;
}

void SetSink(std::function<void(std::string_view)> sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
}

void AddSecret(std::string secret) {
  if (secret.empty()) return;
  std::lock_guard lock(g_mu);
  for (const auto& s : g_secrets)
    if (s == secret) return;
  g_secrets.push_back(std::move(secret));
}

void ClearSecrets() {
  std::lock_guard lock(g_mu);
  g_secrets.clear();
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

std::string FormatLine(Format format, Level level, std::string_view time, std::string_view msg,
                       std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(128);
  if (format == Format::kJson) {
    out += "{\"time\":";
    AppendJsonString(out, time);
    out += ",\"level\":";
    AppendJsonString(out, LevelName(level));
    out += ",\"msg\":";
    AppendJsonString(out, msg);
    for (const auto& f : fields) {
      out.push_back(',');
      AppendJsonString(out, f.key);
      out.push_back(':');
      AppendJsonString(out, f.value);
    }
    out += "}\n";
  } else {
    out += "time=";
    out += time;
    out += " level=";
    out += LevelName(level);
    out += " msg=";
    AppendLogfmtValue(out, msg);
    for (const auto& f : fields) {
      out.push_back(' ');
      out += f.key;
      out.push_back('=');
      AppendLogfmtValue(out, f.value);
    }
    out.push_back('\n');
  }
  return out;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line = FormatLine(g_format.load(), level, NowRfc3339(), msg, fields);
  std::lock_guard lock(g_mu);
  for (const auto& s : g_secrets) Redact(line, s);
  if (g_sink) {
    g_sink(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

}  // namespace dse::log
