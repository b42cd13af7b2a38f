// The test upstream over HTTP on loopback: the real binary, started on a free port by the test
// and stopped after it.
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <thread>

#include "../support/upstream_process.hpp"

namespace {

using slotgate::test::eventually;
using slotgate::test::Upstream;

TEST(UpstreamServer, PastTheCapItAnswers429WithRetryAfter) {
  Upstream up({"--cap", "1", "--retry-after-s", "3"});
  ASSERT_GT(up.port(), 0);
  std::thread holder([&] { EXPECT_EQ(up.client().Get("/v1/session?ms=3000")->status, 200); });
  ASSERT_TRUE(eventually([&] { return up.ledger("current") == 1; }));
  auto r = up.client().Get("/v1/session?ms=10");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "3");
  EXPECT_EQ(r->get_header_value("current-concurrent-requests"), "1");
  auto usage = up.client().Get("/usage");
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->body, "{\"usage\":{\"concurrent_sessions\":1}}");
  holder.join();
  EXPECT_EQ(up.ledger("rejected"), 1);
  EXPECT_EQ(up.ledger("max_billed"), 1);
}

TEST(UpstreamServer, StreamsServerSentEvents) {
  Upstream up({"--cap", "2"});
  ASSERT_GT(up.port(), 0);
  auto r = up.client().Get("/v1/session?ms=100&stream=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_NE(r->body.find("data: 0\n\n"), std::string::npos);
  EXPECT_NE(r->body.find("data: [DONE]\n\n"), std::string::npos);
}

TEST(UpstreamServer, AClientThatLeavesMidStreamEndsItsSession) {
  Upstream up({"--cap", "1", "--lag-out-ms", "0"});
  ASSERT_GT(up.port(), 0);
  int chunks = 0;
  auto c = up.client();
  auto r = c.Get("/v1/session?ms=60000&stream=1",
                 [&](const char*, size_t) { return ++chunks < 2; });  // leave after one event
  EXPECT_FALSE(r);                                                    // cancelled by the receiver
  EXPECT_TRUE(eventually([&] { return up.ledger("current") == 0; }))
      << "the session ended when its client left, not after its minute";
  EXPECT_EQ(up.client().Get("/v1/session?ms=1")->status, 200);
}

TEST(UpstreamServer, WithoutAKeyItRefuses) {
  Upstream up({});
  ASSERT_GT(up.port(), 0);
  httplib::Client c("127.0.0.1", up.port());
  EXPECT_EQ(c.Get("/v1/session")->status, 401);
}

}  // namespace
