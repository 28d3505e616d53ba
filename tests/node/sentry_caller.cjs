// Drive the official JavaScript SDK (@sentry/node) as a caller for lookout's
// interop tests: one JSON document on stdin, one on stdout.
//
// Input:  {"url": "...", "sampled": true|false, "headers": {...}}
// Output: {"trace_id", "span_id" (the span the callee must see as its
//          parent: the fetch's http.client span when sampled), "sampled",
//          "dsc" (the caller's DSC, as the SDK writes it), "status", "body",
//          "root_span_id", "http_client_spans" (how many the SDK recorded)}
//
// The request goes through Node's global fetch, instrumented by the SDK's
// default integrations (nativeNodeFetchIntegration): the test never writes a
// trace header itself. Nothing leaves the process but that request: the
// SDK's transactions are read in beforeSendTransaction and go nowhere.
"use strict";

const fs = require("fs");
const Sentry = require("@sentry/node");
const core = require("@sentry/core");

const DSN = "https://8a1c0e2d9b3f4a5e8d7c6b5a4f3e2d10@o4712.ingest.sentry.io/654321";

async function main() {
  const input = JSON.parse(fs.readFileSync(0, "utf8"));
  const transactions = [];
  Sentry.init({
    dsn: DSN,
    release: "node-frontend@3.0.0",
    environment: "interop",
    tracesSampler: () => input.sampled,
    // Whole transactions, so the test sees the fetch's http.client span.
    traceLifecycle: "static",
    transport: (options) =>
      core.createTransport(options, async () => ({ statusCode: 200 })),
    beforeSendTransaction(event) {
      transactions.push(event);
      return null;
    },
  });
  const report = await Sentry.startSpan(
    { name: "GET /checkout", op: "ui.action", forceTransaction: true },
    async (span) => {
      const response = await fetch(input.url, { headers: input.headers || {} });
      const body = await response.text();
      const context = span.spanContext();
      return {
        trace_id: context.traceId,
        root_span_id: context.spanId,
        sampled: core.spanIsSampled(span),
        dsc: core.getDynamicSamplingContextFromSpan(span),
        status: response.status,
        body,
      };
    },
  );
  await Sentry.flush(5000);
  const tx = transactions.find((t) => t.contexts?.trace?.trace_id === report.trace_id);
  const fetchSpan = tx?.spans?.find((s) => s.op === "http.client");
  report.span_id = fetchSpan ? fetchSpan.span_id : null;
  report.http_client_spans = tx ? tx.spans.filter((s) => s.op === "http.client").length : 0;
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
