// Small helpers for absl::Status plumbing; open-source Abseil ships none.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TLSWEEP_CONCAT_INNER_(a, b) a##b
#define TLSWEEP_CONCAT_(a, b) TLSWEEP_CONCAT_INNER_(a, b)

// Returns from the calling function when `expr` yields a non-OK status.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status tlsweep_status_ = (expr);           \
    if (!tlsweep_status_.ok()) return tlsweep_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Foo());` binds the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(TLSWEEP_CONCAT_(tlsweep_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()
