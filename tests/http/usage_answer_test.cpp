// Usage answers: the count at a JSON path or in a header, and every way an answer is no
// reading; Retry-After in both forms.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "slotgate/http/retry_after.hpp"
#include "slotgate/http/usage_answer.hpp"

namespace slotgate::http {
namespace {

Answer at(const std::string& body, const char* path, uint32_t max = 10000) {
  JsonPath p;
  EXPECT_TRUE(p.assign(path));
  return sessions_from_json(body, p, max);
}

TEST(UsageAnswer, FindsTheCountAtEachProvidersPath) {
  EXPECT_EQ(at(R"({"usage":{"concurrent_sessions":3,"plan":"pro"}})", "usage.concurrent_sessions")
                .sessions,
            3u);
  EXPECT_EQ(at(R"({"tts_requests":{"active":0}})", "tts_requests.active").sessions, 0u);
  EXPECT_EQ(at(R"({"activeSessionCount": 12})", "activeSessionCount").sessions, 12u);
  EXPECT_EQ(at(R"({"data":[{"active":1},{"active":7}]})", "data.1.active").sessions, 7u);
  EXPECT_EQ(at(R"({"n": 4.0})", "n").sessions, 4u);
  EXPECT_TRUE(at(R"({"n": 4})", "n").ok());
}

TEST(UsageAnswer, EveryBadAnswerIsNoReadingWithItsReason) {
  EXPECT_EQ(at("", "n").error, NoReading::kBadJson);
  EXPECT_EQ(at("<html>502 Bad Gateway</html>", "n").error, NoReading::kBadJson);
  EXPECT_EQ(at(R"({"n": 3)", "n").error, NoReading::kBadJson);
  EXPECT_EQ(at(R"({"n": 3} trailing)", "n").error, NoReading::kBadJson);
  EXPECT_EQ(at(R"({"m": 3})", "n").error, NoReading::kNoField);
  EXPECT_EQ(at(R"({"usage": 3})", "usage.concurrent_sessions").error, NoReading::kNoField);
  EXPECT_EQ(at(R"({"data": [1]})", "data.5").error, NoReading::kNoField);
  EXPECT_EQ(at(R"({"n": "3"})", "n").error, NoReading::kNotANumber);
  EXPECT_EQ(at(R"({"n": null})", "n").error, NoReading::kNotANumber);
  EXPECT_EQ(at(R"({"n": {"v": 1}})", "n").error, NoReading::kNotANumber);
  EXPECT_EQ(at(R"({"n": -1})", "n").error, NoReading::kNegative);
  EXPECT_EQ(at(R"({"n": -0.5})", "n").error, NoReading::kNegative);
  EXPECT_EQ(at(R"({"n": 2.5})", "n").error, NoReading::kNotWhole);
  EXPECT_EQ(at(R"({"n": 10001})", "n").error, NoReading::kAbsurd);
  EXPECT_EQ(at(R"({"n": 1e300})", "n").error, NoReading::kAbsurd);
  EXPECT_EQ(at(R"({"n": 18446744073709551616})", "n").error, NoReading::kAbsurd);
}

TEST(UsageAnswer, ADeeplyNestedBodyIsRefusedNotACrash) {
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  EXPECT_EQ(at(deep, "n").error, NoReading::kNoField);
  const std::string unclosed(1000000, '[');
  EXPECT_EQ(at(unclosed, "n").error, NoReading::kBadJson);
}

TEST(UsageAnswer, ABadPathIsRefused) {
  JsonPath p;
  EXPECT_FALSE(p.assign(""));
  EXPECT_FALSE(p.assign("a..b"));
  EXPECT_FALSE(p.assign("a."));
  EXPECT_FALSE(p.assign("a.b.c.d.e.f.g.h.i"));
  EXPECT_TRUE(p.assign("a.b.c.d.e.f.g.h"));
}

TEST(UsageAnswer, AHeaderCarriesAWholeNumberOrNothing) {
  EXPECT_EQ(sessions_from_header("3", 100).sessions, 3u);
  EXPECT_EQ(sessions_from_header(" 7 ", 100).sessions, 7u);
  EXPECT_EQ(sessions_from_header("", 100).error, NoReading::kNotANumber);
  EXPECT_EQ(sessions_from_header("3.0", 100).error, NoReading::kNotANumber);
  EXPECT_EQ(sessions_from_header("three", 100).error, NoReading::kNotANumber);
  EXPECT_EQ(sessions_from_header("-2", 100).error, NoReading::kNegative);
  EXPECT_EQ(sessions_from_header("101", 100).error, NoReading::kAbsurd);
  EXPECT_EQ(sessions_from_header("99999999999999999999999", 100).error, NoReading::kAbsurd);
}

TEST(UsageAnswer, ReasonsHaveNames) {
  EXPECT_STREQ(to_string(NoReading::kNotWhole), "not_whole");
  EXPECT_STREQ(to_string(NoReading::kAbsurd), "absurd");
  EXPECT_STREQ(to_string(NoReading::kCount), "unknown");
}

using std::chrono::seconds;
using std::chrono::system_clock;
// 1994-11-06 08:49:37 UTC, RFC 9110's example date.
const system_clock::time_point kExample{seconds(784111777)};

TEST(RetryAfter, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after("120", kExample), seconds(120));
  EXPECT_EQ(parse_retry_after(" 0 ", kExample), seconds(0));
  EXPECT_EQ(parse_retry_after("99999999999999999999", kExample), seconds(9999999999));
}

TEST(RetryAfter, HttpDateInAllThreeForms) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", kExample), seconds(60));
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:51:37 GMT", kExample), seconds(120));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:47 1994", kExample), seconds(10));
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"), 1835438400);
}

TEST(RetryAfter, ADateInThePastIsNoDelay) {
  EXPECT_EQ(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", kExample), seconds(0));
}

TEST(RetryAfter, AnythingElseIsIgnored) {
  for (const char* bad : {"", "soon", "-5", "1.5", "Sun, 06 Nov 1994 08:49:37 UTC",
                          "Sun, 06 Nov 1994 08:49:37", "Sun, 6 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT",
                          "Funday, 06-Nov-94 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT x"})
    EXPECT_FALSE(parse_retry_after(bad, kExample).has_value()) << bad;
}

}  // namespace
}  // namespace slotgate::http
