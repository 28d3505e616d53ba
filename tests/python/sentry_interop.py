"""Drive the official sentry-sdk for lookout's interop tests.

Commands (one JSON document on stdout):
  produce   sentry-trace / baggage headers the Python SDK writes for a sampled,
            an unsampled and a deferred trace, with and without a DSC.
  continue  read {"headers": {...}} on stdin, continue the trace as a server
            would (continue_trace + start_transaction) and report what the SDK
            decided: trace id, parent span id, sampled flag, sample_rand and DSC.
  serve     a small HTTP server on 127.0.0.1 (port on the first stdout line,
            as {"port": N}) that continues the trace of every GET and POST it
            gets the same way and answers that report as JSON; GET /reports
            answers the list of every report so far (for callers that do not
            pass answers on, like a service's /hop); runs until killed.
  call      read {"url": ..., "sampled": bool, "headers": {...}} on stdin and
            GET the url with urllib inside a transaction, instrumented by the
            SDK's stdlib integration (it writes the trace headers); report the
            trace id, the http.client span's id, the decision, the DSC, and
            the answer's status and body.
"""

import json
import sys

import sentry_sdk
from sentry_sdk.tracing_utils import Baggage
from sentry_sdk.transport import Transport

DSN = "https://4f1b0e2c9a3d4b5e8f7a6c5d4e3b2a10@o4711.ingest.sentry.io/123456"


class NullTransport(Transport):
    """Keeps everything in-process: the interop tests never touch the network."""

    def capture_envelope(self, envelope):
        pass


def init(traces_sample_rate):
    sentry_sdk.init(
        dsn=DSN,
        release="python-frontend@2.0.0",
        environment="interop",
        traces_sample_rate=traces_sample_rate,
        transport=NullTransport,
        default_integrations=False,
    )


def headers():
    baggage = sentry_sdk.get_baggage()
    return {
        "sentry-trace": sentry_sdk.get_traceparent(),
        "baggage": baggage,
        # What the SDK itself reads back from that baggage.
        "dsc": Baggage.from_incoming_header(baggage).dynamic_sampling_context(),
    }


def produce():
    cases = {}
    init(1.0)
    with sentry_sdk.start_transaction(name="GET /users/{id}", source="route", sampled=True):
        cases["sampled"] = headers()
    with sentry_sdk.start_transaction(name="GET /items/{id}", source="route", sampled=False):
        cases["unsampled"] = headers()
    # Tracing disabled: the SDK propagates a deferred decision (no flag).
    init(None)
    sentry_sdk.get_isolation_scope().generate_propagation_context()
    sentry_sdk.get_current_scope().generate_propagation_context()
    cases["deferred"] = headers()
    # Third-party members next to the DSC, as a browser with other vendors sends.
    init(1.0)
    with sentry_sdk.start_transaction(name="checkout", source="custom", sampled=True):
        h = headers()
        h["baggage"] = "other-vendor=abc,userId=alice," + h["baggage"]
        h["dsc"] = Baggage.from_incoming_header(h["baggage"]).dynamic_sampling_context()
        cases["mixed"] = h
    json.dump(cases, sys.stdout)


def continued(headers):
    """Continues the trace in `headers` as a server would; what the SDK decided."""
    transaction = sentry_sdk.continue_trace(
        headers, op="http.server", name="GET /continue", source="route"
    )
    with sentry_sdk.start_transaction(transaction) as tx:
        return {
            "trace_id": tx.trace_id,
            "parent_span_id": tx.parent_span_id,
            "sampled": tx.sampled,
            "dsc": tx.get_baggage().dynamic_sampling_context(),
            "outgoing_sentry_trace": sentry_sdk.get_traceparent(),
            "outgoing_baggage": sentry_sdk.get_baggage(),
        }


def call():
    """A Python service calling lookout: urllib, instrumented by the SDK."""
    import urllib.error
    import urllib.request

    from sentry_sdk.integrations.stdlib import StdlibIntegration

    request = json.load(sys.stdin)
    sentry_sdk.init(
        dsn=DSN,
        release="python-frontend@2.0.0",
        environment="interop",
        traces_sample_rate=1.0,
        transport=NullTransport,
        default_integrations=False,
        integrations=[StdlibIntegration()],
    )
    sampled = request["sampled"]
    with sentry_sdk.start_transaction(
        name="checkout", op="task", source="custom", sampled=sampled
    ) as tx:
        outgoing = urllib.request.Request(request["url"], headers=request.get("headers", {}))
        try:
            with urllib.request.urlopen(outgoing, timeout=30) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()
        spans = [s for s in tx._span_recorder.spans if s.op == "http.client"] if sampled else []
        report = {
            "trace_id": tx.trace_id,
            "root_span_id": tx.span_id,
            "span_id": spans[0].span_id if spans else None,
            "http_client_spans": len(spans),
            "sampled": tx.sampled,
            "dsc": tx.get_baggage().dynamic_sampling_context(),
            "status": status,
            "body": body,
        }
    json.dump(report, sys.stdout)


def continue_():
    request = json.load(sys.stdin)
    init(request.get("traces_sample_rate", 1.0))
    json.dump(continued(request["headers"]), sys.stdout)


def serve():
    from http.server import BaseHTTPRequestHandler, HTTPServer

    init(1.0)
    reports = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/reports":
                self.answer(json.dumps(reports).encode())
                return
            self.continue_and_answer()

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            self.continue_and_answer()

        def continue_and_answer(self):
            headers = {name.lower(): value for name, value in self.headers.items()}
            report = continued(headers)
            report["method"] = self.command
            report["path"] = self.path
            reports.append(report)
            self.answer(json.dumps(report).encode())

        def answer(self, body):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "produce":
        produce()
    elif command == "continue":
        continue_()
    elif command == "serve":
        serve()
    elif command == "call":
        call()
    else:
        sys.exit("usage: sentry_interop.py produce|continue|serve|call")
