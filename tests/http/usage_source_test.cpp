// slotgate::http::UsageSource against the project's test upstream on loopback: a good answer,
// every bad answer the usage source must survive, passive readings, and the asio limiter's gate
// fed by it.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <thread>

#include "../support/upstream_process.hpp"
#include "slotgate/http/usage_source.hpp"
#include "slotgate/ports/asio.hpp"

namespace {

using slotgate::http::NoReading;
using slotgate::http::SourceOptions;
using slotgate::http::UsageSource;
using slotgate::test::eventually;
using slotgate::test::Upstream;

class HttpUsageSource : public ::testing::Test {
 protected:
  std::shared_ptr<UsageSource> source(const std::string& path, std::string header = {},
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    SourceOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(up.port()) + path;
    o.bearer_token = "key";
    o.header = std::move(header);
    o.timeout = timeout;
    o.max_body = 64 * 1024;
    std::string error;
    auto s = UsageSource::make(o, error);
    EXPECT_TRUE(s) << error;
    return s;
  }
  // One fetch, waited for: the reason it gave no reading (kNone for a reading).
  NoReading fetch_once(UsageSource& s) {
    const uint64_t before = s.answers();
    s.request_refresh();
    EXPECT_TRUE(eventually([&] { return s.answers() > before; }));
    slotgate::UsageReading<uint64_t> r;
    if (s.read(r)) return NoReading::kNone;
    for (size_t i = 1; i < static_cast<size_t>(NoReading::kCount); ++i)
      if (s.failures(static_cast<NoReading>(i)) > 0) return static_cast<NoReading>(i);
    return NoReading::kCount;
  }

  Upstream up{{"--cap", "4", "--lag-out-ms", "0"}};
};

TEST_F(HttpUsageSource, ReadsTheCountAtItsPath) {
  ASSERT_GT(up.port(), 0);
  auto s = source("/usage");
  const uint64_t asked = UsageSource::now();
  ASSERT_EQ(fetch_once(*s), NoReading::kNone);
  slotgate::UsageReading<uint64_t> r;
  ASSERT_TRUE(s->read(r));
  EXPECT_EQ(r.sessions, 0u);
  EXPECT_GE(r.sampled_at, asked) << "dated when the request started";
  EXPECT_EQ(s->readings(), 1u);
}

// A request made while a fetch is under way is one more fetch, made as soon as that one ends:
// not lost, and not left until the thread's idle poll times out (a minute).
TEST_F(HttpUsageSource, ARequestDuringAFetchGetsAFetchOfItsOwn) {
  ASSERT_GT(up.port(), 0);
  auto s = source("/faults/slow");  // the right answer, 3 s late
  s->request_refresh();
  // While the first fetch waits for its answer.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(s->answers(), 0u);
  s->request_refresh();
  s->request_refresh();  // merges with the one before
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (s->answers() < 2 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(s->answers(), 2u);
  EXPECT_EQ(s->readings(), 2u);
}

struct Fault {
  const char* kind;
  NoReading expect;
};

void PrintTo(const Fault& f, std::ostream* os) {
  *os << f.kind;
}

class HttpUsageFaults : public HttpUsageSource, public ::testing::WithParamInterface<Fault> {};

TEST_P(HttpUsageFaults, EachBadAnswerIsNoReadingWithItsReason) {
  ASSERT_GT(up.port(), 0);
  auto s = source(std::string("/faults/") + GetParam().kind);
  EXPECT_EQ(fetch_once(*s), GetParam().expect);
  EXPECT_EQ(s->failures(GetParam().expect), 1u);
  EXPECT_EQ(s->readings(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Faults, HttpUsageFaults,
                         ::testing::Values(Fault{"status_500", NoReading::kHttpStatus},
                                           Fault{"not_json", NoReading::kBadJson},
                                           Fault{"no_field", NoReading::kNoField},
                                           Fault{"not_a_number", NoReading::kNotANumber},
                                           Fault{"negative", NoReading::kNegative},
                                           Fault{"not_whole", NoReading::kNotWhole},
                                           Fault{"absurd", NoReading::kAbsurd},
                                           Fault{"huge", NoReading::kBodyTooLarge},
                                           Fault{"missing", NoReading::kHttpStatus}),
                         [](const ::testing::TestParamInfo<Fault>& p) {
                           return std::string(p.param.kind);
                         });

TEST_F(HttpUsageSource, ASlowAnswerTimesOut) {
  ASSERT_GT(up.port(), 0);
  auto s = source("/faults/slow", {}, std::chrono::milliseconds(200));
  EXPECT_EQ(fetch_once(*s), NoReading::kTransport);
}

TEST_F(HttpUsageSource, ARefusedConnectionIsTransport) {
  SourceOptions o;
  o.url = "http://127.0.0.1:1/usage";  // nothing listens on port 1
  std::string error;
  auto s = UsageSource::make(o, error);
  ASSERT_TRUE(s);
  EXPECT_EQ(fetch_once(*s), NoReading::kTransport);
}

TEST_F(HttpUsageSource, ReadsAResponseHeaderInstead) {
  ASSERT_GT(up.port(), 0);
  auto s = source("/v1/session?ms=1", "Current-Concurrent-Requests");
  EXPECT_EQ(fetch_once(*s), NoReading::kNone);
  auto missing = source("/usage", "current-concurrent-requests");
  EXPECT_EQ(fetch_once(*missing), NoReading::kNoField);
}

TEST_F(HttpUsageSource, BadOptionsAreNamed) {
  std::string error;
  SourceOptions o;
  EXPECT_FALSE(UsageSource::make(o, error));
  EXPECT_EQ(error, "url: empty");
  o.url = "http://127.0.0.1:1/";
  o.json_path = "usage..n";
  EXPECT_FALSE(UsageSource::make(o, error));
  EXPECT_EQ(error.rfind("json_path:", 0), 0u) << error;
}

TEST_F(HttpUsageSource, PassiveReadingsCostNoRequest) {
  ASSERT_GT(up.port(), 0);
  auto s = source("/usage");
  s->offer(" 3 ", UsageSource::now());
  slotgate::UsageReading<uint64_t> r;
  ASSERT_TRUE(s->read(r));
  EXPECT_EQ(r.sessions, 3u);
  s->offer("lots", UsageSource::now());
  EXPECT_FALSE(s->read(r));
  EXPECT_EQ(s->failures(NoReading::kNotANumber), 1u);
  EXPECT_EQ(up.ledger("admitted"), 0) << "no request went out";
}

// The asio limiter's gate fed by the source: the upstream full (another client on the key),
// then free; the limiter asks for readings itself.
TEST_F(HttpUsageSource, FeedsTheAsioLimitersGate) {
  Upstream full({"--cap", "2", "--foreign", "2"});
  ASSERT_GT(full.port(), 0);
  SourceOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(full.port()) + "/usage";
  o.bearer_token = "key";
  std::string error;
  auto s = UsageSource::make(o, error);
  ASSERT_TRUE(s);
  boost::asio::io_context io;
  slotgate::asio::Limiter<4, 16> lim(io.get_executor(), s);
  slotgate::asio::Limiter<4, 16>::config_type c;
  c.limit = 2;
  c.gate.max_age = slotgate::asio::Port<4, 16>::from(std::chrono::seconds(30));
  c.headroom.track_foreign = false;
  ASSERT_EQ(lim.configure(c), slotgate::Status::kOk);
  s->request_refresh();
  ASSERT_TRUE(eventually([&] { return s->readings() == 1; }));
  slotgate::Permit p;
  EXPECT_EQ(lim.try_acquire(slotgate::asio::Port<4, 16>::now(), p), slotgate::Status::kGated)
      << "the upstream reports both sessions in use";
}

}  // namespace
