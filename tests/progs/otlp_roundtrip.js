// Decode the OTLP requests the agent sent with OpenTelemetry's own generated
// protobuf code (@opentelemetry/otlp-transformer 0.214.0 ships it as
// build/src/generated/root.js), encode them again, and compare the bytes.
// A field the official schema does not have, a wrong wire type, a field out
// of order or twice: any of them makes the bytes differ.
//
// usage: node otlp_roundtrip.js NODE_MODULES_DIR REQ.pb...
// Prints one JSON line per request: {"file", "bytes", "same", "first_diff",
// "resource": {key: {type: value}}, "records": [{key: {type: value}}]}.
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, ...files] = process.argv.slice(2);
const root = require(path.join(modules, '@opentelemetry', 'otlp-transformer', 'build', 'src',
  'generated', 'root.js'));
const Req = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;

// {key: {stringValue: "..."}}: the value's type as the official schema names it
function attrs(list) {
  const out = {};
  for (const kv of list || []) {
    const v = kv.value || {};
    const type = Object.keys(v)[0] || 'empty';
    out[kv.key] = { [type]: v[type] };
  }
  return out;
}

let bad = 0;
for (const f of files) {
  const bytes = fs.readFileSync(f);
  const msg = Req.decode(bytes);
  const again = Buffer.from(Req.encode(msg).finish());
  let first = -1;
  if (!again.equals(bytes)) {
    bad++;
    const n = Math.min(again.length, bytes.length);
    for (first = 0; first < n && again[first] === bytes[first]; first++);
  }
  const obj = Req.toObject(msg, { longs: String, bytes: String, defaults: false });
  const rl = (obj.resourceLogs || [])[0] || {};
  const records = [];
  for (const sl of rl.scopeLogs || [])
    for (const lr of sl.logRecords || [])
      records.push(attrs(lr.attributes));
  console.log(JSON.stringify({
    file: path.basename(f), bytes: bytes.length, reencoded: again.length, same: first < 0,
    first_diff: first, resource: attrs((rl.resource || {}).attributes), records,
  }));
}
// exitCode, not exit(): stdout to a pipe is written asynchronously
process.exitCode = bad ? 1 : 0;
