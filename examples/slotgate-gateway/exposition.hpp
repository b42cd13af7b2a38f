// The Prometheus text exposition format (version 0.0.4), written by hand: a family's # HELP and
// # TYPE lines, then its samples; label values and help text escaped as the format requires.
#pragma once

#include <stdint.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace gateway {

using Label = std::pair<std::string_view, std::string_view>;

class Exposition {
 public:
  // Starts a family: `type` is counter, gauge, histogram (or untyped).
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (const char c : help) {
      if (c == '\\')
        out_ += "\\\\";
      else if (c == '\n')
        out_ += "\\n";
      else
        out_ += c;
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        for (const char c : v) {
          if (c == '\\')
            out_ += "\\\\";
          else if (c == '"')
            out_ += "\\\"";
          else if (c == '\n')
            out_ += "\\n";
          else
            out_ += c;
        }
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += number(value);
    out_ += '\n';
  }
  void sample(std::string_view name, double value) { sample(name, {}, value); }

  // A family of one sample.
  void single(std::string_view name, std::string_view type, std::string_view help, double value) {
    family(name, type, help);
    sample(name, value);
  }

  const std::string& text() const noexcept { return out_; }

  // Whole numbers without an exponent (counters reach 2^53 before that loses anything);
  // +Inf, -Inf and NaN as the format spells them.
  static std::string number(double v);

 private:
  std::string out_;
};

}  // namespace gateway
