#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace sim {

namespace {
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// The scenario's line above its table, without its end.
void describe(std::ostream& out, const Scenario& s) {
  out << "\n"
      << s.name << ": cap " << s.cap << ", " << s.agents << " agents, lag_out " << s.lag_out.lo
      << "-" << s.lag_out.hi << " ms";
  if (s.staleness) out << ", usage cached up to " << s.staleness << " ms";
  if (s.lag_in.hi) out << ", lag_in " << s.lag_in.lo << "-" << s.lag_in.hi << " ms";
  if (s.foreign_clients) out << ", " << s.foreign_clients << " foreign client(s)";
  if (s.penalty == Penalty::kRefuse)
    out << ", refuses all for " << s.penalty_duration << " ms after a 429";
  if (s.penalty == Penalty::kShrink)
    out << ", cap shrinks for " << s.penalty_duration << " ms after a 429";
  if (s.burst_period) out << ", bursts every " << s.burst_period << " ms";
  if (s.interactive) out << ", " << s.interactive << " of them interactive";
  out << ", " << s.duration / 1000 << " s";
}
}  // namespace

void print_table(std::ostream& out, const Scenario& s, const std::vector<Result>& rows) {
  describe(out, s);
  out << "\n";
  char line[256];
  const bool shared = s.foreign_clients > 0;
  std::snprintf(line, sizeof line, "  %-13s %6s %9s %8s %6s %6s %9s %9s %9s %8s", "strategy",
                "429s", "completed", "per_min", "util", "idle", "wait_p50", "wait_p99", "wait_max",
                "max_up");
  out << line << (shared ? "  their_429s their_done\n" : "\n");
  for (const Result& r : rows) {
    std::snprintf(line, sizeof line,
                  "  %-13s %6llu %9llu %8.1f %5.0f%% %5.0f%% %8.0fms %8.0fms %8.0fms %5u/%u",
                  r.strategy.c_str(), static_cast<unsigned long long>(r.rejections_429),
                  static_cast<unsigned long long>(r.completed), r.throughput_per_min,
                  r.utilization * 100.0, r.idle_while_waiting * 100.0, r.wait_p50_ms, r.wait_p99_ms,
                  r.wait_max_ms, r.max_upstream, s.cap);
    out << line;
    if (shared) {
      std::snprintf(line, sizeof line, "  %10llu %10llu",
                    static_cast<unsigned long long>(r.foreign_429s),
                    static_cast<unsigned long long>(r.foreign_completed));
      out << line;
    }
    out << "\n";
  }
  if (s.interactive == 0) return;
  std::snprintf(line, sizeof line, "  %-13s %27s   %27s", "wait by class",
                "interactive: p50    p99    max", "batch: p50     p99     max");
  out << line << "\n";
  for (const Result& r : rows) {
    const ClassWaits& i = r.by_class[1];
    const ClassWaits& b = r.by_class[0];
    std::snprintf(line, sizeof line, "  %-13s %11.0fms %6.0fms %6.0fms   %9.0fms %6.0fms %6.0fms",
                  r.strategy.c_str(), i.p50_ms, i.p99_ms, i.max_ms, b.p50_ms, b.p99_ms, b.max_ms);
    out << line << "\n";
  }
}

std::vector<SeedSummary> summarize(const std::vector<std::vector<Result>>& by_seed,
                                   const std::string& baseline) {
  std::vector<SeedSummary> out;
  if (by_seed.empty()) return out;
  const size_t n = by_seed.front().size();
  size_t base = n;
  for (size_t j = 0; j < n; ++j)
    if (by_seed.front()[j].strategy == baseline) base = j;
  out.resize(n);
  for (size_t j = 0; j < n; ++j) {
    SeedSummary& t = out[j];
    t.strategy = by_seed.front()[j].strategy;
    t.compared = base < n && j != base;
    for (const auto& seed : by_seed) {
      const Result& r = seed[j];
      ++t.seeds;
      t.rejections_429 += r.rejections_429;
      t.foreign_429s += r.foreign_429s;
      t.completed += r.completed;
      t.foreign_completed += r.foreign_completed;
      t.throughput_per_min += r.throughput_per_min;
      t.idle_while_waiting += r.idle_while_waiting;
      t.max_upstream = std::max(t.max_upstream, r.max_upstream);
      if (!t.compared) continue;
      const Result& b = seed[base];
      const bool no_more = r.rejections_429 + r.foreign_429s <= b.rejections_429 + b.foreign_429s;
      const bool no_fewer = r.completed >= b.completed;
      t.no_more_429s += no_more ? 1u : 0u;
      t.no_fewer_done += no_fewer ? 1u : 0u;
      t.both += no_more && no_fewer ? 1u : 0u;
    }
    t.throughput_per_min /= t.seeds;
    t.idle_while_waiting /= t.seeds;
  }
  return out;
}

void print_summary(std::ostream& out, const Scenario& s, uint64_t first, uint64_t last,
                   const std::vector<SeedSummary>& rows, const std::string& baseline) {
  describe(out, s);
  out << "; seeds " << first << "-" << last << " (totals, and means per seed)\n";
  const SeedSummary* base = nullptr;
  for (const auto& r : rows)
    if (r.strategy == baseline) base = &r;
  char line[256];
  std::snprintf(line, sizeof line, "  %-13s %7s %10s %8s %9s %10s %8s %6s %6s", "strategy", "429s",
                "their_429s", "all_429s", "completed", "their_done", "per_min", "idle", "max_up");
  out << line;
  if (base != nullptr)
    out << "  | against " << baseline << ": all_429s completed, seeds with no more 429s / no"
        << " fewer done / both";
  out << "\n";
  for (const SeedSummary& r : rows) {
    const uint64_t all = r.rejections_429 + r.foreign_429s;
    std::snprintf(line, sizeof line, "  %-13s %7llu %10llu %8llu %9llu %10llu %8.1f %5.0f%% %3u/%u",
                  r.strategy.c_str(), static_cast<unsigned long long>(r.rejections_429),
                  static_cast<unsigned long long>(r.foreign_429s),
                  static_cast<unsigned long long>(all),
                  static_cast<unsigned long long>(r.completed),
                  static_cast<unsigned long long>(r.foreign_completed), r.throughput_per_min,
                  r.idle_while_waiting * 100.0, r.max_upstream, s.cap);
    out << line;
    if (base != nullptr && r.compared) {
      const uint64_t base_all = base->rejections_429 + base->foreign_429s;
      const std::string ratio_429s =
          base_all == 0 ? std::string(all == 0 ? "1.00x" : "more")
                        : fmt("%.2fx", static_cast<double>(all) / static_cast<double>(base_all));
      const std::string ratio_done = base->completed == 0
                                         ? std::string("-")
                                         : fmt("%.2fx", static_cast<double>(r.completed) /
                                                            static_cast<double>(base->completed));
      std::snprintf(line, sizeof line, "  | %8s %9s  %u / %u / %u of %u", ratio_429s.c_str(),
                    ratio_done.c_str(), r.no_more_429s, r.no_fewer_done, r.both, r.seeds);
      out << line;
    }
    out << "\n";
  }
}

void write_csv(std::ostream& out, const std::vector<Result>& rows) {
  out << "scenario,strategy,rejections_429,completed,throughput_per_min,utilization,"
         "wait_p50_ms,wait_p99_ms,wait_max_ms,max_upstream,foreign_429s,foreign_completed,"
         "interactive_wait_p50_ms,interactive_wait_p99_ms,batch_wait_p50_ms,batch_wait_p99_ms,"
         "idle_while_waiting,seed\n";
  for (const Result& r : rows) {
    out << r.scenario << "," << r.strategy << "," << r.rejections_429 << "," << r.completed << ","
        << fmt("%.2f", r.throughput_per_min) << "," << fmt("%.4f", r.utilization) << ","
        << fmt("%.0f", r.wait_p50_ms) << "," << fmt("%.0f", r.wait_p99_ms) << ","
        << fmt("%.0f", r.wait_max_ms) << "," << r.max_upstream << "," << r.foreign_429s << ","
        << r.foreign_completed << "," << fmt("%.0f", r.by_class[1].p50_ms) << ","
        << fmt("%.0f", r.by_class[1].p99_ms) << "," << fmt("%.0f", r.by_class[0].p50_ms) << ","
        << fmt("%.0f", r.by_class[0].p99_ms) << "," << fmt("%.4f", r.idle_while_waiting) << ","
        << r.seed << "\n";
  }
}

void write_svg(std::ostream& out, const std::vector<Scenario>& scenarios,
               const std::vector<std::vector<Result>>& results) {
  const int width = 1200, left = 200, right = 20, lane = 70, gap = 12, header = 34;
  int lanes = 0;
  for (const auto& rs : results) lanes += int(rs.size());
  lanes += int(results.size()) / 2 + 1;
  const int height = header + lanes * (lane + gap) + 10;
  const int plot_w = width - left - right;
  out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' font-family='sans-serif' font-size='12'>\n"
      << "<rect width='100%' height='100%' fill='white'/>\n"
      << "<text x='10' y='20' font-size='15' font-weight='bold'>Upstream sessions over time "
         "(shaded: sessions the upstream counts, dashed: its cap, red ticks: 429s)</text>\n";
  int y = header;
  for (size_t si = 0; si < scenarios.size(); ++si) {
    const Scenario& s = scenarios[si];
    out << "<text x='10' y='" << y + 16 << "' font-weight='bold'>" << s.name << " (cap " << s.cap
        << ", " << s.duration / 1000 << " s)</text>\n";
    y += lane / 2;
    for (const Result& r : results[si]) {
      uint32_t top = s.cap + 1;
      for (const Point& p : r.trace) top = std::max(top, p.count);
      auto X = [&](Tick t) { return left + double(t) / double(s.duration) * plot_w; };
      (void)X;
      auto Y = [&](uint32_t c) { return y + lane - double(c) / double(top) * (lane - 6); };
      const bool over = r.rejections_429 > 0;
      out << "<text x='10' y='" << y + lane / 2 + 4 << "'" << (over ? " fill='#b00'" : "") << ">"
          << r.strategy << (over ? " (" + std::to_string(r.rejections_429) + " x 429)" : "")
          << "</text>\n";
      out << "<rect x='" << left << "' y='" << y << "' width='" << plot_w << "' height='" << lane
          << "' fill='#f7f7f7' stroke='#ddd'/>\n";
      // One value per pixel column: the highest count in it, so every overshoot stays visible.
      std::vector<uint32_t> column(size_t(plot_w), 0);
      uint32_t level = 0;
      size_t next = 0;
      for (int c = 0; c < plot_w; ++c) {
        const Tick end = Tick(double(c + 1) / plot_w * double(s.duration));
        uint32_t peak = level;
        while (next < r.trace.size() && r.trace[next].t < end) {
          level = r.trace[next++].count;
          peak = std::max(peak, level);
        }
        column[size_t(c)] = peak;
      }
      out << "<polyline fill='#ccd' stroke='#557' stroke-width='0.6' points='" << left << ","
          << Y(0) << " ";
      for (int c = 0; c < plot_w; ++c)
        out << left + c << "," << Y(column[size_t(c)]) << " " << left + c + 1 << ","
            << Y(column[size_t(c)]) << " ";
      out << left + plot_w << "," << Y(0) << "'/>\n";
      out << "<line x1='" << left << "' x2='" << left + plot_w << "' y1='" << Y(s.cap) << "' y2='"
          << Y(s.cap) << "' stroke='#c33' stroke-dasharray='5,4'/>\n";
      for (Tick t : r.rejected_at)
        out << "<line x1='" << X(t) << "' x2='" << X(t) << "' y1='" << y << "' y2='" << y + 8
            << "' stroke='#d00' stroke-width='2'/>\n";
      y += lane + gap;
    }
    y += gap;
  }
  out << "</svg>\n";
}

}  // namespace sim
