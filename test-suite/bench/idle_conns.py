#!/usr/bin/env python3
"""idle_conns.py - open N keep-alive connections to a proxy, send one
request on each and read its reply, then keep them all open and idle
until stdin closes (or HOLD seconds pass).

Usage: idle_conns.py PROXY_HOST PROXY_PORT URL N [HOLD]

Prints "ready N" once every connection has had its reply, so that the
caller can read the proxy's resident size with N idle connections open.
"""
import selectors
import socket
import sys
import time


def main():
    host, port, url, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        int(sys.argv[4])
    hold = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0
    authority = url.split('/')[2]
    req = ('GET %s HTTP/1.1\r\nHost: %s\r\n\r\n' % (url, authority)).encode()
    sel = selectors.DefaultSelector()
    conns = []
    pending = {}
    for _ in range(n):
        s = socket.create_connection((host, port))
        s.sendall(req)
        s.setblocking(False)
        conns.append(s)
        pending[s] = b''
        sel.register(s, selectors.EVENT_READ)
        # Keep the proxy's accept queue short: drain as we go.
        if len(pending) >= 256:
            drain(sel, pending, 256 - 64)
    drain(sel, pending, 0)
    print('ready %d' % len(conns), flush=True)
    end = time.time() + hold
    while time.time() < end:
        if sys.stdin.readable():
            line = sys.stdin.readline()
            if line == '':
                break
    for s in conns:
        s.close()


def drain(sel, pending, until):
    deadline = time.time() + 60
    while len(pending) > until:
        if time.time() > deadline:
            sys.exit('replies missing: %d' % len(pending))
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                sys.exit('proxy closed a connection')
            pending[s] += data
            if complete(pending[s]):
                sel.unregister(s)
                del pending[s]


def complete(buf):
    head, sep, body = buf.partition(b'\r\n\r\n')
    if not sep:
        return False
    for line in head.split(b'\r\n')[1:]:
        name, _, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            return len(body) >= int(value.strip())
    return False


if __name__ == '__main__':
    main()
