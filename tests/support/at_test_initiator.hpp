// The scripted AT initiator of the tests is the library's AtInitiator.
#pragma once

#include "sasim/mem/at_initiator.hpp"
#include "support/sc_test.hpp"

namespace sasim::mem::test {
using AtTestInitiator = AtInitiator;
}  // namespace sasim::mem::test
