// The message of the ConfigError a configuration text raises, for tests of
// the loader's messages.
#pragma once

#include <string>

#include "sasim/app/config.hpp"

namespace sasim::test {

// The error of parsing `yaml` (named `source` in messages), or "<no error>".
inline std::string config_error_of(const std::string& yaml, const std::string& source = "t.yaml") {
  try {
    app::parse_config(yaml, source);
  } catch (const app::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace sasim::test
