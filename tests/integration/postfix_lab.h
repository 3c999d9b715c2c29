// A Postfix with the TLS policies the integration tests probe. Linking postfix_lab.cc into a
// test program registers a GoogleTest environment that starts it before the first test and
// stops it after the last (ctest runs each test in its own process, so once per test).
#pragma once

#include "tests/testing/postfix_fixture.h"

namespace tlsweep::testing {

// Listeners: "modern" (TLS 1.2+, ECDHE AEAD only), "defaults" (Postfix defaults),
// "tls12_cbc" (TLS 1.2 only, AES256-SHA only), "nostarttls" (no STARTTLS),
// "nocert" (STARTTLS answers 454), "count_limited" (one connection per client at a time).
// nullptr if Postfix could not start (the environment has already failed the test).
PostfixFixture* PostfixLab();

}  // namespace tlsweep::testing
