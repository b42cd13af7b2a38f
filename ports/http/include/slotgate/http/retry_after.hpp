// Retry-After (RFC 9110 §10.2.3): the delay a rejected response asks for, in either form —
// delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"; also the obsolete
// RFC 850 and asctime forms, which a recipient must accept). No locale, no timegm: the date is
// turned into a time with civil-calendar arithmetic.
#pragma once

#include <stdint.h>

#include <chrono>
#include <optional>
#include <string_view>

namespace slotgate::http {

namespace detail {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// A small cursor over the header value.
class Scan {
 public:
  explicit Scan(std::string_view s) noexcept : s_(s) {}
  bool done() const noexcept { return i_ == s_.size(); }
  bool lit(char c) noexcept {
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  void spaces() noexcept {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  // Exactly `n` digits (n = 0: one or more).
  bool number(unsigned n, int64_t& out) noexcept {
    size_t k = 0;
    out = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && (n == 0 || k < n)) {
      if (out > 1000000000000LL) return false;
      out = out * 10 + (s_[i_++] - '0');
      ++k;
    }
    return k > 0 && (n == 0 || k == n);
  }
  // Letters up to the next non-letter.
  std::string_view word() noexcept {
    const size_t b = i_;
    while (i_ < s_.size() && ((s_[i_] >= 'A' && s_[i_] <= 'Z') || (s_[i_] >= 'a' && s_[i_] <= 'z')))
      ++i_;
    return s_.substr(b, i_ - b);
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

inline unsigned month_number(std::string_view m) noexcept {
  constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < 12; ++i)
    if (m == kMonths[i]) return i + 1;
  return 0;
}

inline bool is_day_name(std::string_view d, bool long_form) noexcept {
  constexpr std::string_view kShort[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  constexpr std::string_view kLong[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
  for (unsigned i = 0; i < 7; ++i)
    if (d == (long_form ? kLong[i] : kShort[i])) return true;
  return false;
}

inline bool clock_time(Scan& s, int64_t& h, int64_t& m, int64_t& sec) noexcept {
  return s.number(2, h) && s.lit(':') && s.number(2, m) && s.lit(':') && s.number(2, sec) &&
         h < 24 && m < 60 && sec <= 60;
}

}  // namespace detail

// The seconds since the epoch an HTTP-date names, or nullopt if it is not one.
inline std::optional<int64_t> parse_http_date(std::string_view v) noexcept {
  using namespace detail;
  Scan s(v);
  const std::string_view day = s.word();
  int64_t d = 0, y = 0, h = 0, mi = 0, sec = 0;
  unsigned mon = 0;
  if (s.lit(',')) {
    s.spaces();
    if (is_day_name(day, false)) {  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
      if (!s.number(2, d) || !s.lit(' ')) return std::nullopt;
      mon = month_number(s.word());
      if (!s.lit(' ') || !s.number(4, y) || !s.lit(' ')) return std::nullopt;
    } else if (is_day_name(day, true)) {  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
      if (!s.number(2, d) || !s.lit('-')) return std::nullopt;
      mon = month_number(s.word());
      if (!s.lit('-') || !s.number(2, y) || !s.lit(' ')) return std::nullopt;
      y += y < 70 ? 2000 : 1900;  // 70-99: 19xx (RFC 9110's 50-year rule, for this century)
    } else {
      return std::nullopt;
    }
    if (!clock_time(s, h, mi, sec) || !s.lit(' ') || s.word() != "GMT") return std::nullopt;
  } else {  // asctime: Sun Nov  6 08:49:37 1994
    if (!is_day_name(day, false) || !s.lit(' ')) return std::nullopt;
    mon = month_number(s.word());
    s.spaces();
    if (!s.number(0, d) || d > 31 || !s.lit(' ') || !clock_time(s, h, mi, sec) || !s.lit(' ') ||
        !s.number(4, y))
      return std::nullopt;
  }
  s.spaces();
  if (!s.done() || mon == 0 || d < 1 || d > 31) return std::nullopt;
  return days_from_civil(y, mon, static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + sec;
}

// The delay a Retry-After value asks for, measured from `now`: a date in the past is zero.
// nullopt for a value that is neither form (ignore the header, use your default pause).
inline std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (const char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (value.size() > 10) return std::chrono::seconds(9999999999);  // absurd but valid: cap it
    int64_t n = 0;
    for (const char c : value) n = n * 10 + (c - '0');
    return std::chrono::seconds(n);
  }
  const auto at = parse_http_date(value);
  if (!at) return std::nullopt;
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return std::chrono::seconds(*at > now_s ? *at - now_s : 0);
}

}  // namespace slotgate::http
