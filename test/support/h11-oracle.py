"""The differential parsing test's oracle (test/server/oracle.test.ts): h11, a strict HTTP/1.1 parser by others,
reads one request from the start of each input it is given.

Protocol: one JSON object per line on stdin, {"data": "<base64>"}; one JSON object per line on stdout:
  {"kind": "request", "method", "target", "version", "headers": [[lower-case name, value], ...],
   "head_end": bytes through the head's empty line, "end": bytes through the body (null: the input ended
   first, or a chunked body's framing failed: "body_error")}
  {"kind": "error", "message", "hint"}       h11 rejects the input (hint: its error_status_hint)
  {"kind": "incomplete"}                      the head does not end within the input
Strings are the bytes as latin-1. h11 is not told that the input ended: a head or body cut short is incomplete.
"""
import base64
import json
import sys

import h11

NO_LIMIT = 1 << 30  # the size limit is the test's to apply (8192 bytes), not h11's


def text(value):
    return bytes(value).decode("latin-1")


def read_one(data):
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=NO_LIMIT)
    connection.receive_data(data)
    result = None
    try:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                if result is None:
                    return {"kind": "incomplete"}
                result["end"] = None  # the body did not arrive in full
                return result
            if isinstance(event, h11.Request):
                result = {
                    "kind": "request",
                    "method": text(event.method),
                    "target": text(event.target),
                    "version": text(event.http_version),
                    "headers": [[text(name), text(value)] for name, value in event.headers],
                    "head_end": len(data) - len(connection.trailing_data[0]),
                }
            elif isinstance(event, h11.EndOfMessage):
                result["end"] = len(data) - len(connection.trailing_data[0])
                return result
    except h11.RemoteProtocolError as error:
        if result is not None:  # the body's framing (chunked) failed: the request itself was read
            result["end"] = None
            result["body_error"] = str(error)
            return result
        return {"kind": "error", "message": str(error), "hint": error.error_status_hint}


for line in sys.stdin:
    request = json.loads(line)
    print(json.dumps(read_one(base64.b64decode(request["data"]))), flush=True)
