#!/usr/bin/env python3
"""A test OTLP/HTTP logs receiver on 127.0.0.1, for tests/e2e/test_feed.sh.

Decodes each POST /v1/logs (gunzip, then the protobuf wire format, by
field number as in opentelemetry-proto; no generated code, so it checks
the exporter against the spec rather than against its own schema) and
appends one JSON line per accepted log record to --out:
  {"resource": {...}, "event_name": ..., "severity": N, "body": ...,
   "time": N, "attrs": {...}}
Each request is logged to --requests as {"t", "status", "records",
"first_seq", "last_seq", "problems"}.

--script says how to answer, one entry per request, the last one repeats:
  200            accept
  503:2          503 with Retry-After: 2 (likewise 429:N)
  400            refuse (not retryable)
  partial:N      200 with partial_success.rejected_log_records = N
Records are written to --out only when the answer is 2xx. With
--raw-dir, each request's protobuf (gunzipped) is also kept there as
req-N.pb, for a decoder of another make (tests/progs/otlp_roundtrip.js).

Strings are decoded as strict UTF-8, as OTLP backends do: a request with
an invalid string is undecodable and answered 400. --reject-body TEXT
answers 400 to any request holding a record whose body contains TEXT
(a poison record the backend will never take). bytes values are written
as {"bytes": BASE64}.
"""
import os
import argparse
import base64
import gzip
import json
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def varint(b, i):
    shift = v = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v = b[i:i + 8]
            i += 8
        elif wt == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            if len(v) != n:
                raise ValueError("truncated field")
            i += n
        elif wt == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
        yield fn, wt, v


def any_value(b):
    for fn, wt, v in fields(b):
        if fn == 1:
            return v.decode("utf-8", errors="strict")
        if fn == 7:
            return {"bytes": base64.b64encode(v).decode()}
        if fn == 2:
            return bool(v)
        if fn == 3:
            return v - (1 << 64) if v >= 1 << 63 else v
        if fn == 4:
            return struct.unpack("<d", v)[0]
        if fn == 5:
            return [any_value(x) for f, _, x in fields(v) if f == 1]
    return None


def key_values(b, out):
    key = val = None
    for fn, wt, v in fields(b):
        if fn == 1:
            key = v.decode()
        elif fn == 2:
            val = any_value(v)
    if key in out:
        raise ValueError("duplicate attribute " + key)
    out[key] = val


def log_record(b):
    r = {"attrs": {}}
    for fn, wt, v in fields(b):
        if fn == 1:
            r["time"] = struct.unpack("<Q", v)[0]
        elif fn == 11:
            r["observed"] = struct.unpack("<Q", v)[0]
        elif fn == 2:
            r["severity"] = v
        elif fn == 3:
            r["severity_text"] = v.decode()
        elif fn == 5:
            r["body"] = any_value(v)
        elif fn == 6:
            key_values(v, r["attrs"])
        elif fn == 12:
            r["event_name"] = v.decode()
    return r


def decode_request(b):
    records = []
    for fn, _, rl in fields(b):            # ExportLogsServiceRequest.resource_logs
        if fn != 1:
            continue
        resource = {}
        for fn2, _, v in fields(rl):
            if fn2 == 1:                    # ResourceLogs.resource
                for fn3, _, kv in fields(v):
                    if fn3 == 1:
                        key_values(kv, resource)
            elif fn2 == 2:                  # ResourceLogs.scope_logs
                for fn3, _, lr in fields(v):
                    if fn3 == 2:            # ScopeLogs.log_records
                        rec = log_record(lr)
                        rec["resource"] = resource
                        records.append(rec)
    return records


def partial_success(n):
    msg = b"rejected by the test receiver"
    inner = bytes([0x08]) + enc_varint(n) + bytes([0x12]) + enc_varint(len(msg)) + msg
    return bytes([0x0A]) + enc_varint(len(inner)) + inner


def enc_varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        srv = self.server
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        problems = []
        if self.path != "/v1/logs":
            problems.append("path " + self.path)
        if self.headers.get("Content-Type") != "application/x-protobuf":
            problems.append("content-type %s" % self.headers.get("Content-Type"))
        if self.headers.get("Content-Encoding") != "gzip":
            problems.append("content-encoding %s" % self.headers.get("Content-Encoding"))
        try:
            body = gzip.decompress(raw)
            if srv.raw_dir:
                with open(os.path.join(srv.raw_dir, "req-%d.pb" % srv.n), "wb") as f:
                    f.write(body)
            records = decode_request(body)
        except Exception as e:  # a decoding failure is a test failure: say so
            problems.append("undecodable: %r" % e)
            records = []
        step = srv.script[min(srv.n, len(srv.script) - 1)]
        srv.n += 1
        poison = srv.reject_body and any(srv.reject_body in str(r.get("body", ""))
                                         for r in records)
        if problems or poison:
            status, body, hdrs = 400, b"", ()
        elif step == "200":
            status, body, hdrs = 200, b"", ()
        elif step.startswith("partial:"):
            status, body, hdrs = 200, partial_success(int(step[8:])), ()
        elif ":" in step:
            code, after = step.split(":")
            status, body, hdrs = int(code), b"", (("Retry-After", after),)
        else:
            status, body, hdrs = int(step), b"", ()
        with open(srv.requests, "a") as f:
            seqs = [r["attrs"].get("changetrace.seq", 0) for r in records]
            f.write(json.dumps({"t": time.time(), "status": status, "records": len(records),
                                "first_seq": min(seqs, default=0), "last_seq": max(seqs, default=0),
                                "problems": problems}) + "\n")
        if 200 <= status < 300:
            with open(srv.out, "a") as f:
                for r in records:
                    f.write(json.dumps(r) + "\n")
        self.answer(status, body, hdrs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--requests", required=True)
    ap.add_argument("--script", default="200")
    ap.add_argument("--raw-dir")
    ap.add_argument("--reject-body", default="")
    a = ap.parse_args()
    srv = HTTPServer(("127.0.0.1", a.port), Handler)
    srv.script = a.script.split(",")
    srv.n = 0
    srv.out = a.out
    srv.requests = a.requests
    srv.raw_dir = a.raw_dir
    srv.reject_body = a.reject_body
    print("listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
