"""A local HTTP server that receives the portal's events, as a subscriber's would."""

from __future__ import annotations

import http.server
import threading


class Receiver:
    """Records every request as it arrives (`arrived`) and those it accepted (`received`).

    It can refuse the next `refuse` requests (503), and with `hold_first` keep the first request
    it gets open until `release` is set, so a test can kill the sender while it waits.
    """

    def __init__(self, *, hold_first: bool = False):
        self.arrived: list[tuple[dict, bytes]] = []
        self.received: list[tuple[dict, bytes]] = []
        self.refuse = 0
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.arrived.append((headers, body))
                if hold_first and len(receiver.arrived) == 1:
                    receiver.release.wait(timeout=120)
                status = 204
                if receiver.refuse:
                    receiver.refuse -= 1
                    status = 503
                else:
                    receiver.received.append((headers, body))
                try:
                    self.send_response(status)
                    self.end_headers()
                except OSError:  # the sender died while this one was held
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
