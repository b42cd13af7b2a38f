// slotgate-sim: the library against a lagging, shared upstream, side by side with the
// strategies gateways use today. See README.md, "The simulator".
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine.hpp"
#include "report.hpp"
#include "scenario.hpp"
#include "strategies.hpp"

namespace {

int usage(std::ostream& out, int code) {
  out << "usage: slotgate-sim [--preset NAME]... [--all-presets] [--scenario FILE]...\n"
         "                    [--strategies a,b,...] [--seed N | --seeds FIRST-LAST]\n"
         "                    [--duration S] [--csv FILE] [--svg FILE]\n"
         "--seeds runs every scenario on each seed and prints one table per scenario: each\n"
         "strategy's totals, and against poll-one (when it runs) the ratio of 429s (ours and\n"
         "the other clients') and of completed sessions, and the seeds on which it took no more\n"
         "429s, completed no fewer, and both. The CSV then has a row per seed.\n"
         "presets:";
  for (const auto& p : sim::preset_names()) out << " " << p;
  out << "\nstrategies:";
  for (const auto& s : sim::strategy_names()) out << " " << s;
  out << " (and, when named:";
  for (const auto& s : sim::extra_strategy_names()) out << " " << s;
  out << ")\nWith no scenario given, runs the 'default' preset.\n";
  return code;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<sim::Scenario> scenarios;
  std::vector<std::string> strategies = sim::strategy_names();
  std::string csv, svg;
  long long seed = -1, duration = -1;
  long long first_seed = -1, last_seed = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* what) -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "slotgate-sim: " << a << " needs " << what << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") return usage(std::cout, 0);
    if (a == "--preset") {
      sim::Scenario s;
      const std::string name = value("a preset name");
      if (!sim::preset(name, s)) {
        std::cerr << "slotgate-sim: no preset '" << name << "'\n";
        return usage(std::cerr, 2);
      }
      scenarios.push_back(s);
    } else if (a == "--all-presets") {
      for (const auto& name : sim::preset_names()) {
        sim::Scenario s;
        sim::preset(name, s);
        scenarios.push_back(s);
      }
    } else if (a == "--scenario") {
      sim::Scenario s;
      std::string error;
      if (!sim::load_scenario(value("a file"), s, error)) {
        std::cerr << "slotgate-sim: " << error << "\n";
        return 2;
      }
      scenarios.push_back(s);
    } else if (a == "--strategies") {
      strategies = split(value("a list"));
      for (const auto& s : strategies)
        if (!sim::make_strategy(s)) {
          std::cerr << "slotgate-sim: no strategy '" << s << "'\n";
          return usage(std::cerr, 2);
        }
    } else if (a == "--seed") {
      seed = std::atoll(value("a number").c_str());
    } else if (a == "--seeds") {
      const std::string range = value("a range FIRST-LAST");
      char* end = nullptr;
      first_seed = std::strtoll(range.c_str(), &end, 10);
      if (*end == '-') last_seed = std::strtoll(end + 1, &end, 10);
      if (*end != '\0' || range.empty() || range[0] == '-' || first_seed < 0 ||
          last_seed < first_seed || last_seed - first_seed >= 10000) {
        std::cerr << "slotgate-sim: --seeds wants FIRST-LAST (0 <= FIRST <= LAST, at most 10000"
                     " seeds), not '"
                  << range << "'\n";
        return 2;
      }
    } else if (a == "--duration") {
      duration = std::atoll(value("seconds").c_str());
      if (duration <= 0) {
        std::cerr << "slotgate-sim: --duration must be positive\n";
        return 2;
      }
    } else if (a == "--csv") {
      csv = value("a file");
    } else if (a == "--svg") {
      svg = value("a file");
    } else {
      std::cerr << "slotgate-sim: unknown argument '" << a << "'\n";
      return usage(std::cerr, 2);
    }
  }
  const bool many = first_seed >= 0;
  if (many && seed >= 0) {
    std::cerr << "slotgate-sim: --seed and --seeds exclude each other\n";
    return 2;
  }
  if (many && !svg.empty()) {
    std::cerr << "slotgate-sim: --svg draws one run: give --seed N, not --seeds\n";
    return 2;
  }
  if (scenarios.empty()) {
    sim::Scenario s;
    sim::preset("default", s);
    scenarios.push_back(s);
  }
  for (auto& s : scenarios) {
    if (seed >= 0) s.seed = static_cast<uint64_t>(seed);
    if (duration > 0) s.duration = static_cast<sim::Tick>(duration) * 1000;
  }

  const auto started = std::chrono::steady_clock::now();
  const uint64_t seeds = many ? static_cast<uint64_t>(last_seed - first_seed + 1) : 1;
  const size_t total = scenarios.size() * strategies.size() * seeds;
  size_t done = 0;
  bool progress_shown = false;
  std::vector<std::vector<sim::Result>> results;
  std::vector<sim::Result> all;
  // Every strategy on one scenario, as it is (its own seed).
  auto run_strategies = [&](const sim::Scenario& s) {
    std::vector<sim::Result> rows;
    for (const auto& name : strategies) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (elapsed > 2.0) {
        std::fprintf(stderr, "\r[%zu/%zu] %s seed %llu: %s ...        ", done + 1, total,
                     s.name.c_str(), static_cast<unsigned long long>(s.seed), name.c_str());
        progress_shown = true;
      }
      auto strategy = sim::make_strategy(name);
      rows.push_back(sim::run(s, *strategy));
      ++done;
    }
    if (progress_shown) std::fprintf(stderr, "\r%70s\r", "");
    all.insert(all.end(), rows.begin(), rows.end());
    return rows;
  };
  for (const auto& s : scenarios) {
    if (!many) {
      auto rows = run_strategies(s);
      sim::print_table(std::cout, s, rows);
      std::cout.flush();
      results.push_back(std::move(rows));
      continue;
    }
    std::vector<std::vector<sim::Result>> by_seed;
    for (long long k = first_seed; k <= last_seed; ++k) {
      sim::Scenario one = s;
      one.seed = static_cast<uint64_t>(k);
      by_seed.push_back(run_strategies(one));
    }
    sim::print_summary(std::cout, s, static_cast<uint64_t>(first_seed),
                       static_cast<uint64_t>(last_seed), sim::summarize(by_seed, "poll-one"),
                       "poll-one");
    std::cout.flush();
  }
  if (!csv.empty()) {
    std::ofstream f(csv);
    if (!f) {
      std::cerr << "slotgate-sim: cannot write " << csv << "\n";
      return 1;
    }
    sim::write_csv(f, all);
  }
  if (!svg.empty()) {
    std::ofstream f(svg);
    if (!f) {
      std::cerr << "slotgate-sim: cannot write " << svg << "\n";
      return 1;
    }
    sim::write_svg(f, scenarios, results);
  }
  return 0;
}
