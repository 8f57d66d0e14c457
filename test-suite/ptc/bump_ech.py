#!/usr/bin/env python3
# bump_ech.py PROXY TARGET CAFILE - a client whose ClientHello carries an
# encrypted_client_hello extension (RFC 9849), through an ssl_bump port
# (ptc b00184).  OpenSSL 3 cannot do ECH, so the extension is added as a
# custom one, shaped as an outer ECHClientHello with a random payload (as
# a client sends when it has no ECH configuration: GREASE).  The SNI is
# the outer name, TARGET's host.  CONNECT, the handshake (verified with
# CAFILE), "GET /page"; prints the issuer of the certificate seen and the
# reply.  libssl is driven with ctypes: Python's ssl module adds no
# extensions.
import ctypes
import ctypes.util
import os
import socket
import sys

proxy, target, cafile = sys.argv[1:4]
host = target.rsplit(":", 1)[0]
addr, port = proxy.rsplit(":", 1)

ssl = ctypes.CDLL(ctypes.util.find_library("ssl") or "libssl.so.3")
crypto = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
P, I, C = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
for name, res, args in (
        ("TLS_client_method", P, []),
        ("SSL_CTX_new", P, [P]),
        ("SSL_CTX_load_verify_locations", I, [P, C, C]),
        ("SSL_CTX_set_verify", None, [P, I, P]),
        ("SSL_CTX_add_custom_ext", I, [P, ctypes.c_uint, ctypes.c_uint,
            P, P, P, P, P]),
        ("SSL_new", P, [P]),
        ("SSL_set_fd", I, [P, I]),
        ("SSL_ctrl", ctypes.c_long, [P, I, ctypes.c_long, P]),
        ("SSL_set1_host", I, [P, C]),
        ("SSL_connect", I, [P]),
        ("SSL_get_error", I, [P, I]),
        ("SSL_write", I, [P, C, I]),
        ("SSL_read", I, [P, P, I]),
        ("SSL_get1_peer_certificate", P, [P])):
    f = getattr(ssl, name)
    f.restype, f.argtypes = res, args
crypto.X509_get_issuer_name.restype = P
crypto.X509_get_issuer_name.argtypes = [P]
crypto.X509_NAME_oneline.restype = C
crypto.X509_NAME_oneline.argtypes = [P, P, I]

# ECHClientHello: type outer (0), HPKE suite (KDF 1, AEAD 1), config id,
# enc (32 bytes, an X25519 share), payload (random, as GREASE).
enc, payload = os.urandom(32), os.urandom(200)
ech = (b"\x00\x00\x01\x00\x01" + os.urandom(1) + len(enc).to_bytes(2, "big")
    + enc + len(payload).to_bytes(2, "big") + payload)
ech_buf = ctypes.create_string_buffer(ech, len(ech))
ADD_CB = ctypes.CFUNCTYPE(I, P, ctypes.c_uint, ctypes.c_uint,
    ctypes.POINTER(P), ctypes.POINTER(ctypes.c_size_t), P, ctypes.c_size_t,
    ctypes.POINTER(I), P)
PARSE_CB = ctypes.CFUNCTYPE(I, P, ctypes.c_uint, ctypes.c_uint, P,
    ctypes.c_size_t, P, ctypes.c_size_t, ctypes.POINTER(I), P)


@ADD_CB
def add_ech(s, ext_type, context, out, outlen, x, idx, al, arg):
    out[0] = ctypes.cast(ech_buf, P)
    outlen[0] = len(ech)
    return 1


@PARSE_CB
def parse_ech(s, ext_type, context, data, datalen, x, idx, al, arg):
    return 1


SSL_EXT_CLIENT_HELLO = 0x0080
SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS = 0x0400
ctx = ssl.SSL_CTX_new(ssl.TLS_client_method())
if ssl.SSL_CTX_load_verify_locations(ctx, cafile.encode(), None) != 1:
    sys.exit("cannot load " + cafile)
ssl.SSL_CTX_set_verify(ctx, 1, None)		# SSL_VERIFY_PEER
if ssl.SSL_CTX_add_custom_ext(ctx, 0xfe0d, SSL_EXT_CLIENT_HELLO |
        SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS, ctypes.cast(add_ech, P), None,
        None, ctypes.cast(parse_ech, P), None) != 1:
    sys.exit("cannot add the extension")

s = socket.create_connection((addr, int(port)), timeout=10)
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
    (target, target)).encode())
head = b""
while not head.endswith(b"\r\n\r\n"):
    b = s.recv(1)
    if not b:
        sys.exit("no 200")
    head += b
print(head.split(b"\r\n")[0].decode())
# A socket with a timeout is non-blocking underneath: libssl would see
# EAGAIN.  SO_RCVTIMEO bounds the reads instead.
s.settimeout(None)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
    (10).to_bytes(8, sys.byteorder) + (0).to_bytes(8, sys.byteorder))

o = ssl.SSL_new(ctx)
ssl.SSL_set_fd(o, s.fileno())
ssl.SSL_ctrl(o, 55, 0, ctypes.cast(ctypes.c_char_p(host.encode()), P))
ssl.SSL_set1_host(o, host.encode())
r = ssl.SSL_connect(o)
if r != 1:
    print("handshake failed: SSL_get_error %d" % ssl.SSL_get_error(o, r))
    sys.exit(0)
cert = ssl.SSL_get1_peer_certificate(o)
print("issuer:", crypto.X509_NAME_oneline(
    crypto.X509_get_issuer_name(cert), None, 0).decode())
req = ("GET /page HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" %
    target).encode()
ssl.SSL_write(o, req, len(req))
buf = ctypes.create_string_buffer(65536)
reply = b""
while True:
    n = ssl.SSL_read(o, buf, len(buf))
    if n <= 0:
        break
    reply += buf.raw[:n]
print(reply.decode(errors="replace").replace("\r", ""))
