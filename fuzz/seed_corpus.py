#!/usr/bin/env python3
"""Seed corpora for the fuzz targets from tests/vectors/*.json: fuzz/corpus/<target>/<sha1>.

Each vector's header values go to the target of their format (raw value bytes), configurations to
config, header lists go to
b3_multi, translator and envoy_headers as `name: value` lines (translator inputs start with 6
configuration bytes, envoy_headers inputs with an odd byte before those).
Idempotent: a file is named by the hash of its content. Usage: seed_corpus.py [REPO_ROOT]
"""
import hashlib
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
corpus = root / "fuzz" / "corpus"
SINGLE = {"traceparent": "traceparent", "b3": "b3_single", "uber-trace-id": "jaeger",
          "x-amzn-trace-id": "xray", "grpc-trace-bin": "grpc_trace_bin",
          "x-cloud-trace-context": "gcp"}
# Formats of several headers: their vectors' header lists as `name: value` lines.
MULTI = {"x-b3-": "b3_multi", "x-datadog-": "datadog", "ot-tracer-": "ot", "x-instana-": "instana",
         "baggage": "baggage", "uberctx-": "baggage", "ot-baggage-": "baggage"}
# Configuration prefixes for the translator target (see its `config`): defaults, write everything
# with a new root when missing, restart, ignore, 64-bit ids with a short tracestate limit.
CONFIGS = [bytes(6), bytes([0, 0, 0, 0x3F, 0x01, 0]), bytes([5, 0, 0, 0x7F, 0x08, 0x01]),
           bytes([0, 0, 0, 0x21, 0x11, 0x02]), bytes([3, 1, 0x1F, 0x3F, 0x03, 0x41])]
counts = {}


def put(target, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    f = d / hashlib.sha1(data).hexdigest()
    if not f.exists():
        f.write_bytes(data)
    counts[target] = counts.get(target, 0) + 1


for path in sorted((root / "tests" / "vectors").glob("*.json")):
    for v in json.loads(path.read_text())["vectors"]:
        headers = [(n.encode(), val.encode("utf-8", "surrogateescape")) for n, val in v["headers"]]
        for name, value in headers:
            target = SINGLE.get(name.decode().lower())
            if target:
                put(target, value)
        tracestate = b"\n".join(val for n, val in headers if n.lower() == b"tracestate")
        if tracestate:
            put("tracestate", tracestate)
            put("tracestate_write", b"\x00\x02\x01tracebridge\ns:00f067aa0ba902b7;m:d\n" + tracestate)
            put("tracestate_write", b"\x40\x00\x00rojo\n\n" + tracestate)
        lines = b"\n".join(n + b": " + val for n, val in headers)
        for prefix, target in MULTI.items():
            if any(n.lower().startswith(prefix.encode()) for n, _ in headers):
                put(target, lines)
        for c in CONFIGS:
            put("translator", c + lines)
            put("remote_inject", c + lines)
            # envoy_headers: an odd first byte, then as translator's (lines with a configuration).
            put("envoy_headers", b"\x01" + c + lines)
        # translate.json's vectors each carry a configuration: seeds for the config target.
        if "config" in v:
            put("config", json.dumps(v["config"]).encode())

print(" ".join(f"{t}={n}" for t, n in sorted(counts.items())), "seeds in", corpus)
