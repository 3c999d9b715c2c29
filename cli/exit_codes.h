// The exit status of every tlsweep command, one meaning each (README "Exit status"):
//   0  done, and nothing a gate watches for was found
//   1  a runtime error: plugins, store, coordinator unreachable, I/O
//   2  usage or bad input: flags, files, lists (the message says which)
//   3  a gate tripped: --fail-on thresholds, or `tlsweep whatif`/`probe` found a failure
//   4  inconclusive: the scan reached too few domains to answer (unreachable, refused by policy)
//   5  not found: the coordinator has no such scan or schedule
//   6  refused: the coordinator did not accept the credentials (token, certificate)
#pragma once

namespace tlsweep::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitGateTripped = 3;
inline constexpr int kExitInconclusive = 4;
inline constexpr int kExitNotFound = 5;
inline constexpr int kExitRefused = 6;

// For --help texts.
inline constexpr char kExitStatusHelp[] =
    "Exit status: 0 ok; 1 runtime error; 2 usage or bad input; 3 a --fail-on gate tripped (or "
    "a failure was found); 4 inconclusive (too few domains reached); 5 not found; 6 credentials "
    "refused.";

}  // namespace tlsweep::cli
