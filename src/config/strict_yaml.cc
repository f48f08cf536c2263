#include "config/strict_yaml.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <sstream>
#include <system_error>
#include <vector>

#include "common/text.h"

namespace dse::config::detail {
namespace {

constexpr std::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr std::string_view kBoolTag = "tag:yaml.org,2002:bool";

bool IsSimpleKey(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Sees one document's events: where it starts and whether it holds more
// than an empty value.
class DocumentProbe : public YAML::EventHandler {
 public:
  const YAML::Mark& start() const { return start_; }
  bool has_content() const { return has_content_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    start_ = mark;
    has_content_ = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { has_content_ = true; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {
    has_content_ = true;
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    has_content_ = true;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    has_content_ = true;
  }
  void OnMapEnd() override {}

 private:
  YAML::Mark start_;
  bool has_content_ = false;
};

std::string Errno(int err) { return std::error_code(err, std::generic_category()).message(); }

// yaml-cpp gives the plain (unquoted) scalars the non-specific tag "?".
bool IsPlain(const YAML::Node& node) { return node.Tag() == "?"; }

}  // namespace

Error Source::At(const YAML::Mark& mark, std::string_view path, std::string_view problem) const {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return NoPosition(path, problem);
  std::string out = name_;
  out += ':';
  out += std::to_string(mark.line + 1);
  out += ':';
  out += std::to_string(mark.column + 1);
  out += ": ";
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  out += problem;
  return Error{std::move(out)};
}

Error Source::NoPosition(std::string_view path, std::string_view problem) const {
  std::string out = name_ + ": ";
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  out += problem;
  return Error{std::move(out)};
}

std::string ShowPath(std::string_view path) { return path.empty() ? "top level" : std::string(path); }

std::string JoinPath(std::string_view parent, std::string_view key) {
  if (!IsSimpleKey(key)) return std::string(parent) + "[" + Quote(key) + "]";
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return Quote(node.Scalar());
}

Status ForEachEntry(const Source& src, const Located& map, const MapRules& rules,
                    const std::function<Status(const std::string& key, const Located& value)>& fn) {
  if (!map.node.IsMap()) {
    return src.At(map.mark, ShowPath(map.path),
                  "want " + std::string(rules.what) + ", got " + Describe(map.node));
  }
  // Few keys per map: a vector keeps the first line of each for messages.
  std::vector<std::pair<std::string, int>> seen;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    // Copies: the iterator hands out a temporary pair.
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (!key_node.IsScalar()) {
      return src.At(key_node.Mark(), ShowPath(map.path), "keys must be names, got " + Describe(key_node));
    }
    const std::string key = key_node.Scalar();
    const std::string path = JoinPath(map.path, key);
    for (const auto& [name, reason] : rules.refused) {
      if (key == name) return src.At(key_node.Mark(), path, reason);
    }
    if (!rules.allowed.empty() &&
        std::find(rules.allowed.begin(), rules.allowed.end(), key) == rules.allowed.end()) {
      std::string problem = "unknown key; allowed: ";
      for (size_t i = 0; i < rules.allowed.size(); ++i) {
        if (i > 0) problem += ", ";
        problem += rules.allowed[i];
      }
      return src.At(key_node.Mark(), path, problem);
    }
    const auto first = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == key; });
    if (first != seen.end()) {
      return src.At(key_node.Mark(), path,
                    "duplicate key (first at line " + std::to_string(first->second + 1) + ")");
    }
    seen.emplace_back(key, key_node.Mark().line);
    const Located located{path, value, value.IsNull() ? key_node.Mark() : value.Mark()};
    if (Status s = fn(key, located); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ForEachItem(const Source& src, const Located& list, std::string_view what,
                   const std::function<Status(size_t index, const Located& item)>& fn) {
  if (!list.node.IsSequence()) {
    return src.At(list.mark, ShowPath(list.path),
                  "want " + std::string(what) + ", got " + Describe(list.node));
  }
  size_t index = 0;
  for (auto it = list.node.begin(); it != list.node.end(); ++it, ++index) {
    const YAML::Node item = *it;
    // An empty item ("- ") is marked at the next token; the list is closer.
    const Located located{list.path + "[" + std::to_string(index) + "]", item,
                          item.IsNull() ? list.mark : item.Mark()};
    if (Status s = fn(index, located); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::string> ReadString(const Source& src, const Located& v) {
  if (!v.node.IsScalar()) return src.At(v.mark, v.path, "want a string, got " + Describe(v.node));
  return v.node.Scalar();
}

Result<int64_t> ReadInteger(const Source& src, const Located& v) {
  if (!v.node.IsScalar()) return src.At(v.mark, v.path, "want an integer, got " + Describe(v.node));
  const std::string& text = v.node.Scalar();
  if (!IsPlain(v.node) && v.node.Tag() != kIntTag) {
    return src.At(v.mark, v.path, "want an integer, got the string " + Quote(text));
  }
  int64_t n = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec == std::errc::result_out_of_range) {
    return src.At(v.mark, v.path, "integer out of range: " + Quote(text));
  }
  if (ec != std::errc() || ptr != end || text.empty()) {
    return src.At(v.mark, v.path, "want an integer, got " + Quote(text));
  }
  return n;
}

Result<Duration> ReadDuration(const Source& src, const Located& v) {
  if (!v.node.IsScalar()) {
    return src.At(v.mark, v.path, "want a duration such as 30s, got " + Describe(v.node));
  }
  Result<Duration> d = ParseDuration(v.node.Scalar());
  if (!d.ok()) return src.At(v.mark, v.path, d.error());
  return d;
}

Result<bool> ReadBool(const Source& src, const Located& v) {
  if (v.node.IsScalar() && (IsPlain(v.node) || v.node.Tag() == kBoolTag)) {
    const std::string& t = v.node.Scalar();
    if (t == "true" || t == "True" || t == "TRUE") return true;
    if (t == "false" || t == "False" || t == "FALSE") return false;
  }
  return src.At(v.mark, v.path, "want true or false, got " + Describe(v.node));
}

Result<YAML::Node> ParseDocument(const Source& src, std::string_view text) {
  try {
    const std::string input(text);
    // Walk the documents first with a probe: YAML::LoadAll never returns on
    // some malformed input (e.g. a stray ','), allocating until the process
    // dies (yaml-cpp issue #1040, fixed after 0.7). The probe stops as soon
    // as the parser stops making progress.
    std::istringstream stream(input);
    YAML::Parser parser(stream);
    DocumentProbe probe;
    std::optional<int> last_start;
    for (int doc = 0; parser.HandleNextDocument(probe); ++doc) {
      const YAML::Mark start = probe.start();
      if (last_start && start.pos <= *last_start) {
        const size_t at = static_cast<size_t>(start.pos);
        const bool printable = at < input.size() && input[at] > 0x20 && input[at] < 0x7f;
        return src.At(start, "",
                      printable ? "invalid YAML: unexpected " + Quote(input.substr(at, 1))
                                : std::string("invalid YAML: unexpected character"));
      }
      last_start = start.pos;
      // An empty document after the first (a trailing "---") is harmless.
      if (doc > 0 && probe.has_content()) return src.At(start, "", "only one YAML document is allowed");
    }
    // The probe vouched for the input; Load parses just the first document.
    return YAML::Load(input);
  } catch (const YAML::ParserException& e) {
    return src.At(e.mark, "", "invalid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    return src.NoPosition("", std::string("invalid YAML: ") + e.what());
  }
}

Result<std::string> ReadSmallFile(const std::string& path, size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{Errno(errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Error{Errno(err)};
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error{Errno(EISDIR)};
  }
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Error{Errno(err)};
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) {
      ::close(fd);
      return Error{"larger than " + std::to_string(limit) + " bytes"};
    }
  }
  ::close(fd);
  return out;
}

std::string ResolveAgainst(const std::string& dir, const std::string& path) {
  if (dir.empty() || path.empty() || path.front() == '/') return path;
  if (dir.back() == '/') return dir + path;
  return dir + "/" + path;
}

std::string DirectoryOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return file.substr(0, slash);
}

bool IsPrintableToken(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace dse::config::detail
