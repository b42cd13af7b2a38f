// slotgate::http::UsageSource: the upstream's usage endpoint as a nonblocking usage source.
//
// A thread of its own runs libcurl's multi interface: when the limiter asks for a reading
// (request_refresh, which only sets a flag and wakes curl_multi_poll), it GETs the endpoint
// with a bearer token and takes the session count from a JSON path of the body or from a
// response header (usage_answer.hpp). Every answer that gives no reading — a timeout, a
// refused connection, a status other than 200, a body too large, not JSON, without the field,
// not a whole number in range — is "no reading", counted by its reason. Readings from the
// proxied traffic itself (a `current-concurrent-requests` header on every response) can be
// offered too, costing no request.
//
// The limiter reads the cached reading without waiting. Hand the source to the port as a
// shared_ptr (slotgate::asio::Limiter's constructor takes one): the port holds it as long as it
// lives, so the limiter never reads a source that is gone, and the port unsubscribes from its
// wake-ups before it goes. Ticks: steady_clock nanoseconds (the asio and posix ports').
#pragma once

#include <curl/curl.h>
#include <stdint.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "slotgate/http/usage_answer.hpp"
#include "slotgate/usage_cell.hpp"
#include "slotgate/usage_source.hpp"

namespace slotgate::http {

struct SourceOptions {
  std::string url;           // GET this, e.g. https://api.example.com/v1/usage
  std::string bearer_token;  // sent as Authorization: Bearer ...; empty: none
  // Where the count is: a JSON path of the body, or (if `header` is set) a response header.
  std::string json_path = "usage.concurrent_sessions";
  std::string header;
  std::chrono::milliseconds timeout{2000};  // the whole request
  // PEM certificates to verify an https endpoint against (empty: the system's CA store).
  std::string ca_file;
  uint32_t max_plausible = 10000;  // a count above this is garbage
  size_t max_body = 64 * 1024;
  // No endpoint: readings come only from offer() (a header of the proxied traffic); no thread,
  // and request_refresh does nothing.
  bool passive_only = false;
};

class UsageSource final : public slotgate::UsageSource<uint64_t> {
 public:
  // The source, its thread started; nullptr and a message naming the option if the options
  // are unusable (no URL, a bad JSON path).
  static std::shared_ptr<UsageSource> make(SourceOptions options, std::string& error) {
    if (options.url.empty() && !options.passive_only) {
      error = "url: empty";
      return nullptr;
    }
    JsonPath path;
    if (!options.passive_only && options.header.empty() && !path.assign(options.json_path)) {
      error = "json_path: '" + options.json_path + "' is not a path (a.b.c, at most " +
              std::to_string(JsonPath::kMaxSegments) + " segments)";
      return nullptr;
    }
    static std::once_flag global;
    std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    return std::shared_ptr<UsageSource>(new UsageSource(std::move(options)));
  }

  ~UsageSource() {
    stop_.store(true, std::memory_order_release);  // pairs with the loop's acquire
    curl_multi_wakeup(multi_);
    if (thread_.joinable()) thread_.join();
    curl_multi_remove_handle(multi_, easy_);
    curl_easy_cleanup(easy_);
    curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
  }
  UsageSource(const UsageSource&) = delete;
  UsageSource& operator=(const UsageSource&) = delete;

  static uint64_t now() noexcept {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }

  // ---- slotgate::UsageSource ---------------------------------------------------------------

  bool read(UsageReading<uint64_t>& out) const noexcept override { return cell_.read(out); }
  uint32_t version() const noexcept override { return cell_.version(); }
  // A flag and a wake-up of the fetch thread; requests during a fetch merge into one more.
  void request_refresh() noexcept override {
    // acq_rel: pairs with the fetch thread's exchange.
    if (!options_.passive_only && !requested_.exchange(true, std::memory_order_acq_rel))
      curl_multi_wakeup(multi_);
  }
  void on_reading(void (*wake)(void*), void* context) noexcept override {
    std::lock_guard<std::mutex> lock(wake_mu_);
    wake_ = wake;
    wake_context_ = context;
  }

  // ---- passive readings --------------------------------------------------------------------

  // A header value from a proxied response (`current-concurrent-requests: 3`), true at
  // `sampled_at` (when that request was sent is a safe value). From any thread.
  void offer(std::string_view header_value, uint64_t sampled_at) {
    publish(sessions_from_header(header_value, options_.max_plausible), sampled_at);
  }

  // ---- observing ---------------------------------------------------------------------------

  // Answers that gave no reading, for one reason; and all answers, and readings taken.
  uint64_t failures(NoReading why) const noexcept {
    return why < NoReading::kCount ? reasons_[static_cast<size_t>(why)].load() : 0;
  }
  uint64_t answers() const noexcept { return answers_.load(); }
  uint64_t readings() const noexcept { return readings_.load(); }

 private:
  explicit UsageSource(SourceOptions options) : options_(std::move(options)) {
    if (!options_.passive_only && options_.header.empty()) path_.assign(options_.json_path);
    multi_ = curl_multi_init();
    easy_ = curl_easy_init();
    if (!options_.bearer_token.empty())
      headers_ =
          curl_slist_append(nullptr, ("Authorization: Bearer " + options_.bearer_token).c_str());
    curl_easy_setopt(easy_, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    if (!options_.ca_file.empty())
      curl_easy_setopt(easy_, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &UsageSource::on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &UsageSource::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    if (!options_.passive_only) thread_ = std::thread([this] { run(); });
  }

  void run() {
    bool busy = false;
    uint64_t started = 0;
    while (!stop_.load(std::memory_order_acquire)) {  // pairs with the destructor
      // acq_rel: pairs with request_refresh. Cleared before the fetch: a request during it
      // asks for one more.
      if (!busy && requested_.exchange(false, std::memory_order_acq_rel)) {
        body_.clear();
        header_value_.clear();
        too_large_ = false;
        saw_header_ = false;
        started = now();  // the answer was true at some instant after this: the safe date
        curl_multi_add_handle(multi_, easy_);
        busy = true;
      }
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        const CURLcode result = m->data.result;
        curl_multi_remove_handle(multi_, easy_);
        busy = false;
        publish(classify(result), started);
      }
      // A request made during the fetch woke a poll of that fetch: its wake-up is spent, so
      // look at the flag again before sleeping, or it would wait for the next request.
      // acquire: pairs with request_refresh's exchange.
      if (!busy && requested_.load(std::memory_order_acquire)) continue;
      int fds = 0;
      curl_multi_poll(multi_, nullptr, 0, busy ? 100 : 60000, &fds);
    }
  }

  Answer classify(CURLcode result) {
    if (result == CURLE_WRITE_ERROR && too_large_) return {NoReading::kBodyTooLarge, 0};
    if (result != CURLE_OK) return {NoReading::kTransport, 0};
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return {NoReading::kHttpStatus, 0};
    if (!options_.header.empty()) {
      if (!saw_header_) return {NoReading::kNoField, 0};
      return sessions_from_header(header_value_, options_.max_plausible);
    }
    return sessions_from_json(body_, path_, options_.max_plausible);
  }

  void publish(Answer a, uint64_t sampled_at) {
    answers_.fetch_add(1);
    if (a.ok())
      readings_.fetch_add(1);
    else
      reasons_[static_cast<size_t>(a.error)].fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(write_mu_);  // one writer at a time for the cell
      cell_.write(a.ok(), a.sessions, sampled_at);
    }
    std::lock_guard<std::mutex> lock(wake_mu_);
    if (wake_ != nullptr) wake_(wake_context_);
  }

  static size_t on_body(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<UsageSource*>(self_ptr);
    if (self->body_.size() + size * n > self->options_.max_body) {
      self->too_large_ = true;
      return 0;  // aborts the transfer: CURLE_WRITE_ERROR
    }
    self->body_.append(data, size * n);
    return size * n;
  }

  static size_t on_header(char* data, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<UsageSource*>(self_ptr);
    const std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) self->saw_header_ = false;  // a new response (redirects)
    const std::string_view name = self->options_.header;
    if (!name.empty() && line.size() > name.size() && line[name.size()] == ':' &&
        iequal(line.substr(0, name.size()), name)) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
      self->header_value_.assign(v.data(), v.size());
      self->saw_header_ = true;
    }
    return size * n;
  }

  static bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      const char x = (a[i] >= 'A' && a[i] <= 'Z') ? char(a[i] + 32) : a[i];
      const char y = (b[i] >= 'A' && b[i] <= 'Z') ? char(b[i] + 32) : b[i];
      if (x != y) return false;
    }
    return true;
  }

  const SourceOptions options_;
  JsonPath path_;
  CURLM* multi_ = nullptr;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> requested_{false};
  // The fetch thread's own, between add_handle and the transfer's end.
  std::string body_;
  std::string header_value_;
  bool too_large_ = false;
  bool saw_header_ = false;

  UsageCell<uint64_t> cell_;
  std::mutex write_mu_;
  std::mutex wake_mu_;
  void (*wake_)(void*) = nullptr;
  void* wake_context_ = nullptr;
  std::atomic<uint64_t> answers_{0}, readings_{0};
  std::atomic<uint64_t> reasons_[static_cast<size_t>(NoReading::kCount)] = {};
};

}  // namespace slotgate::http
