#include "exposition.hpp"

#include <math.h>
#include <stdio.h>

namespace gateway {

std::string Exposition::number(double v) {
  if (isnan(v)) return "NaN";
  if (isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == floor(v) && fabs(v) < 9007199254740992.0)
    snprintf(buf, sizeof buf, "%.0f", v);
  else
    snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace gateway
