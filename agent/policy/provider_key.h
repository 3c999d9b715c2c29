// The provider an MX host belongs to, so that politeness budgets (connections, rates) apply to
// an operator as a whole rather than to each of its many MX names.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace tlsweep::agent {

// The host's registrable domain under the ICANN section of the Public Suffix List:
// "gmail-smtp-in.l.google.com" -> "google.com", "mx1.example.co.uk" -> "example.co.uk".
//
// The private section (suffixes such as "blogspot.com" that companies registered for their
// customers) is ignored on purpose: every tenant of such a platform is served by the same
// operator, so "mx.a.blogspot.com" and "mx.b.blogspot.com" share the budget "blogspot.com".
//
// An IP literal ("192.0.2.1", "[2001:db8::1]") is its own provider, in canonical form. A name
// that is itself a public suffix is returned as is. Case and a trailing dot are ignored; the
// name is expected as an A-label (Unicode names also work, libpsl accepts both).
//
// The list is Debian's /usr/share/publicsuffix (libpsl's psl_latest), else libpsl's built-in
// copy, loaded once per process; without either, the last two labels are used. Thread-safe.
std::string ProviderKey(absl::string_view host);

// Where the list came from, for diagnostics: a file name, "built-in" or "none".
std::string PublicSuffixListSource();

}  // namespace tlsweep::agent
