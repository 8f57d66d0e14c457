#!/usr/bin/env python3
# bump_hello.py PROXY TARGET CAFILE MODE - a client of an ssl_bump port
# that sends its ClientHello in unusual ways (ptc b00146):
#	split	the hello re-framed in records of 40 bytes, sent a byte at
#		a time for the first 300 bytes; then the handshake and
#		"GET /page", whose reply is printed
#	big	a hello of more than 64 KiB (four full records): prints
#		"closed" when the proxy closes
#	stall	half a hello, then silence: prints "closed" and the seconds
#		the proxy waited
import socket
import ssl
import sys
import time

proxy, target, cafile, mode = sys.argv[1:5]
host = target.rsplit(":", 1)[0]
addr, port = proxy.rsplit(":", 1)
s = socket.create_connection((addr, int(port)), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
    (target, target)).encode())
head = b""
while not head.endswith(b"\r\n\r\n"):
    b = s.recv(1)
    if not b:
        sys.exit("no 200")
    head += b
print(head.split(b"\r\n")[0].decode())


def closed_after(t0):
    try:
        while s.recv(4096):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    print("closed after %.1f s" % (time.time() - t0))


ctx = ssl.create_default_context(cafile=cafile)
inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
o = ctx.wrap_bio(inb, outb, server_hostname=host)
try:
    o.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = outb.read()

if mode == "big":
    body = b"\x00" * 16384
    rec = b"\x16\x03\x01\x40\x00"
    first = b"\x01\x02\x00\x00" + body[4:]
    s.sendall(rec + first + (rec + body) * 4)
    closed_after(time.time())
    sys.exit(0)
if mode == "stall":
    s.sendall(hello[:len(hello) // 2])
    closed_after(time.time())
    sys.exit(0)

msg = hello[5:]
framed = b""
for i in range(0, len(msg), 40):
    part = msg[i:i + 40]
    framed += b"\x16\x03\x01" + len(part).to_bytes(2, "big") + part
for i in range(300):
    s.send(framed[i:i + 1])
    time.sleep(0.002)
s.sendall(framed[300:])


def pump():
    data = outb.read()
    if data:
        s.sendall(data)


while True:
    try:
        o.do_handshake()
        break
    except ssl.SSLWantReadError:
        pump()
        data = s.recv(65536)
        if not data:
            sys.exit("closed during the handshake")
        inb.write(data)
pump()
print("handshake done:", o.version())
o.write(("GET /page HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
    % target).encode())
pump()
reply = b""
while True:
    try:
        chunk = o.read(65536)
        if not chunk:
            break
        reply += chunk
    except ssl.SSLWantReadError:
        data = s.recv(65536)
        if not data:
            break
        inb.write(data)
    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
        break
print(reply.decode(errors="replace").replace("\r", ""))
