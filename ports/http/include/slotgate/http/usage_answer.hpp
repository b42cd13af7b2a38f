// What a usage endpoint's answer says: the session count at a JSON path of its body
// (`usage.concurrent_sessions`, `tts_requests.active`, `activeSessionCount`, `data.0.active`),
// or in a response header the proxied traffic already carries (`current-concurrent-requests`).
// Anything else is no reading, with the reason: never a guess, never a crash.
//
// JSON: RapidJSON (Debian's rapidjson-dev). It is header-only, parses without exceptions, and
// takes its memory from a caller's buffer (a fixed pool on the stack here: a usage answer of a
// few hundred bytes costs no heap); simdjson needs padded input and a compiled library for a
// body this small, and nlohmann's json allocates per node and reports errors by throwing.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string_view>

#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace slotgate::http {

// Why an answer gave no reading. Counted by the usage source, one counter per reason.
enum class NoReading : uint8_t {
  kNone,          // a reading
  kTransport,     // timeout, connection refused or reset, TLS failure
  kHttpStatus,    // not 200
  kBodyTooLarge,  // beyond the source's limit
  kBadJson,       // not JSON
  kNoField,       // the path leads nowhere
  kNotANumber,    // the field is a string, an object, null, ...
  kNegative,      // below zero
  kNotWhole,      // 2.5 sessions
  kAbsurd,        // above the plausible maximum
  kCount
};

inline const char* to_string(NoReading r) noexcept {
  constexpr const char* kNames[] = {"none",      "transport", "http_status",  "body_too_large",
                                    "bad_json",  "no_field",  "not_a_number", "negative",
                                    "not_whole", "absurd"};
  return r < NoReading::kCount ? kNames[static_cast<size_t>(r)] : "unknown";
}

// A session count, or why there is none.
struct Answer {
  NoReading error = NoReading::kNone;
  uint32_t sessions = 0;
  bool ok() const noexcept { return error == NoReading::kNone; }
};

// A dot-separated path into a JSON document; a segment of digits indexes an array.
class JsonPath {
 public:
  static constexpr size_t kMaxSegments = 8;
  // False for an empty path, an empty segment or more than kMaxSegments.
  bool assign(std::string_view path) noexcept {
    n_ = 0;
    if (path.empty()) return false;
    for (;;) {
      const size_t dot = path.find('.');
      const std::string_view seg = path.substr(0, dot);
      if (seg.empty() || n_ == kMaxSegments) return false;
      segments_[n_++] = seg;
      if (dot == std::string_view::npos) return true;
      path.remove_prefix(dot + 1);
    }
  }
  size_t size() const noexcept { return n_; }
  std::string_view operator[](size_t i) const noexcept { return segments_[i]; }

 private:
  std::string_view segments_[kMaxSegments];  // into the caller's string, which must outlive it
  size_t n_ = 0;
};

namespace detail {
inline bool all_digits(std::string_view s) noexcept {
  if (s.empty() || s.size() > 9) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}
}  // namespace detail

// A count as a JSON value would carry it; kNone only for a whole number in [0, max].
template <class Value>
Answer count_from(const Value& v, uint32_t max_plausible) noexcept {
  if (!v.IsNumber()) return {NoReading::kNotANumber, 0};
  if (v.IsUint64()) {
    const uint64_t n = v.GetUint64();
    return n > max_plausible ? Answer{NoReading::kAbsurd, 0}
                             : Answer{NoReading::kNone, uint32_t(n)};
  }
  if (v.IsInt64()) return {NoReading::kNegative, 0};
  const double d = v.GetDouble();
  if (d < 0) return {NoReading::kNegative, 0};
  if (d > max_plausible) return {NoReading::kAbsurd, 0};
  if (d != static_cast<double>(static_cast<uint32_t>(d))) return {NoReading::kNotWhole, 0};
  return {NoReading::kNone, static_cast<uint32_t>(d)};
}

// The count at `path` in a JSON body. No heap for bodies that fit the stack pool (a few KiB
// of document); larger ones spill to the heap.
inline Answer sessions_from_json(std::string_view body, const JsonPath& path,
                                 uint32_t max_plausible) noexcept {
  using Pool = rapidjson::MemoryPoolAllocator<>;
  char value_buffer[4096];
  char parse_buffer[1024];
  Pool value_pool(value_buffer, sizeof value_buffer);
  Pool parse_pool(parse_buffer, sizeof parse_buffer);
  rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool> doc(&value_pool, sizeof parse_buffer,
                                                                &parse_pool);
  // Iterative: a body nested a million deep must not overflow the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError()) return {NoReading::kBadJson, 0};
  using Value = decltype(doc)::ValueType;
  const Value* v = &doc;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string_view seg = path[i];
    if (v->IsObject()) {
      // A name value with its length: a bare StringRef would convert to const char* and be
      // measured with strlen, running into the next segment.
      const Value name(
          rapidjson::StringRef(seg.data(), static_cast<rapidjson::SizeType>(seg.size())));
      const auto it = v->FindMember(name);
      if (it == v->MemberEnd()) return {NoReading::kNoField, 0};
      v = &it->value;
    } else if (v->IsArray() && detail::all_digits(seg)) {
      size_t k = 0;
      for (const char c : seg) k = k * 10 + static_cast<size_t>(c - '0');
      if (k >= v->Size()) return {NoReading::kNoField, 0};
      v = &(*v)[static_cast<rapidjson::SizeType>(k)];
    } else {
      return {NoReading::kNoField, 0};
    }
  }
  return count_from(*v, max_plausible);
}

// The count in a header value such as `current-concurrent-requests: 3` (surrounding spaces
// allowed; nothing else).
inline Answer sessions_from_header(std::string_view value, uint32_t max_plausible) noexcept {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (!value.empty() && value.front() == '-') {
    value.remove_prefix(1);
    return detail::all_digits(value) ? Answer{NoReading::kNegative, 0}
                                     : Answer{NoReading::kNotANumber, 0};
  }
  if (value.empty()) return {NoReading::kNotANumber, 0};
  uint64_t n = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') return {NoReading::kNotANumber, 0};
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > max_plausible) return {NoReading::kAbsurd, 0};
  }
  return {NoReading::kNone, static_cast<uint32_t>(n)};
}

}  // namespace slotgate::http
