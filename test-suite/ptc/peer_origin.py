#!/usr/bin/env python3
"""An origin for the hierarchy tests: every reply cacheable (max-age,
Content-Length, and the Date that Squid needs to call it fresh), each
request logged as "path proxy-authorization" (or "-") to a file.

    peer_origin.py PORT LOGFILE [BODY_BYTES]
"""
import http.server
import os
import sys
import threading


class Origin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        with open(sys.argv[2], "a") as f:
            f.write("%s %s\n" % (self.path,
                                 self.headers.get("Proxy-Authorization",
                                                  "-")))
        if len(sys.argv) > 3:
            body = b"x" * int(sys.argv[3])
        else:
            body = ("object %s\n" % self.path).encode()
        self.send_response(200)
        self.send_header("Cache-Control", "max-age=600")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


# A test that fails leaves it running: it goes by itself.
threading.Timer(120, lambda: os._exit(0)).start()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])),
                                Origin).serve_forever()
