# The wasm features rustc enables by default for wasm32 targets, as wasm-opt flags: every script
# that runs wasm-opt on one of our modules passes these, so that wasm-opt accepts and keeps what the
# compiled code uses (bulk memory, sign extension, ...). Sourced, not run; one list, so that the
# shipped filter, the builds the benchmark tools take apart and the reference filters agree.
# shellcheck disable=SC2034
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-mutable-globals --enable-multivalue --enable-reference-types)
