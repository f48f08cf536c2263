// Internal to src/config: strict reading of YAML shared by both loaders.
// Every problem becomes one Error of the form
//   <file>:<line>:<col>: <key path>: <problem>
// so that the user can go straight to it. Keep yaml-cpp out of other folders.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "common/duration.h"
#include "common/result.h"

namespace dse::config::detail {

// The file messages are about.
class Source {
 public:
  explicit Source(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // 1-based position from yaml-cpp's 0-based mark; a null mark gives the
  // position-less form "<file>: <key path>: <problem>".
  Error At(const YAML::Mark& mark, std::string_view path, std::string_view problem) const;
  Error NoPosition(std::string_view path, std::string_view problem) const;

 private:
  const std::string name_;
};

// A node together with where it is, for messages.
struct Located {
  std::string path;  // "accounts[1].name"; empty for the document root
  YAML::Node node;
  // Where to point: the node itself, except for an empty value, which
  // yaml-cpp marks at the following token (often the next line), so the
  // key is shown instead.
  YAML::Mark mark;
};

// "top level" for the root, else the path itself.
std::string ShowPath(std::string_view path);
std::string JoinPath(std::string_view parent, std::string_view key);

// Describes what was found, for "want X, got Y": "a map", "a list",
// "nothing", or the quoted scalar (shortened, control characters escaped).
std::string Describe(const YAML::Node& node);

struct MapRules {
  // Keys that may appear; empty means any key (free-form maps).
  std::span<const std::string_view> allowed;
  // Keys refused with a reason of their own rather than "unknown key".
  std::span<const std::pair<std::string_view, std::string_view>> refused;
  // What a map here is, for "want <what>, got ...".
  std::string_view what = "a map";
};

// Visits the entries of a map in document order, so the first error reported
// is the first in the file. Refuses non-maps, non-scalar keys, duplicate keys
// (yaml-cpp keeps both silently) and keys outside `rules.allowed`.
Status ForEachEntry(const Source& src, const Located& map, const MapRules& rules,
                    const std::function<Status(const std::string& key, const Located& value)>& fn);

// Visits the items of a list in order; items are "<path>[i]".
Status ForEachItem(const Source& src, const Located& list, std::string_view what,
                   const std::function<Status(size_t index, const Located& item)>& fn);

// Scalar readers; each refuses maps, lists and empty values with a message
// saying what was wanted.
Result<std::string> ReadString(const Source& src, const Located& v);
// Decimal only, and unquoted: "200" in quotes is a string, as in Prometheus.
Result<int64_t> ReadInteger(const Source& src, const Located& v);
Result<Duration> ReadDuration(const Source& src, const Located& v);
Result<bool> ReadBool(const Source& src, const Located& v);

// Parses text holding at most one document; an empty text or document gives
// a null node. Syntax errors carry yaml-cpp's position.
Result<YAML::Node> ParseDocument(const Source& src, std::string_view text);

// Reads a whole regular file of at most `limit` bytes. The error is the
// reason alone (strerror text or "larger than N bytes"): callers decide
// whether the path may be shown.
Result<std::string> ReadSmallFile(const std::string& path, size_t limit);

// Resolves `path` against `dir` unless it is absolute or `dir` is empty.
std::string ResolveAgainst(const std::string& dir, const std::string& path);
// The directory part of `file` ("" for a bare file name).
std::string DirectoryOf(const std::string& file);

// True if every byte is printable ASCII other than space: safe in an HTTP
// header value and free of anything a copy-paste may have dragged along.
bool IsPrintableToken(std::string_view text);
// True if the text has a byte below 0x20 or DEL.
bool HasControlCharacter(std::string_view text);

}  // namespace dse::config::detail
