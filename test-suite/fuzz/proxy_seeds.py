#!/usr/bin/env python3
"""proxy_seeds.py - write the seed scripts of fuzz_proxy to corpus/proxy/.

    python3 test-suite/fuzz/proxy_seeds.py [DIR]

Each seed is a script in fuzz_proxy.c's format, spelled here with the
helpers below (their arguments are the indexes into that file's tables).
Run it again after changing the script format or the tables there.
"""
import os
import ssl
import subprocess
import sys
import tempfile

CLIENT, REQUEST, REPLY, RAW, SEND, RUN, SHUT, RESET, CLOSE, WARP, REFUSE, \
    SEND_ALL, CLIENT_TLS, HTTPS, CLIENT_BUMP, HELLO, TLS_PEER, TLS_TAMPER, \
    AUTH, H_ANSWER, H_RAW, H_STDERR, H_CLOSE = range(23)
# fuzz_proxy.c's ClientHellos (hello operation)
H_A, H_B, H_NONE, H_A12, H_ECH = range(5)
GET, HEAD, POST, PUT, DELETE, OPTIONS, PURGE, CONNECT, TRACE = \
    0, 3, 4, 5, 6, 7, 8, 9, 11
A, B, IP, A80, LOCALHOST = range(5)
# fuzz_proxy.c's paths for the helpers
P_AUTH, P_RW, P_SID, P_EXT, P_AUTH_EXT, P_SID2 = range(8, 14)
P_MGR_RW, P_MGR_BASIC, P_MGR_DIGEST, P_MGR_EXT, P_MGR_ACTIVE, \
    P_MGR_METRICS, P_MGR_OBJECTS = range(14, 21)
# credentials (the AUTH operation): Basic, Digest right, a broken one
BASIC, DIGEST, BROKEN = 0, 1, 3
ALICE, BOB = 0, 1
PW, WRONG = 0, 1
# answer flags: truthful (the right password's OK, the right HA1); keys
TRUTHFUL = 0x04
KEY1, KEY2, LEGACY = 0x08, 0x10, 0x80
S200, S203, S204, S206, S301, S304, S404, S500, S100 = \
    0, 4, 5, 6, 7, 8, 9, 11, 14
CL, CHUNKED, UNTIL_CLOSE = 0x00, 0x80, 0xc0


def c(i):
    """A client, as a peer argument."""
    return 2 * i


def o(i):
    """An origin connection, as a peer argument."""
    return 2 * i + 1


def client():
    return [CLIENT]


def req(cl=0, method=GET, host=A, path=1, origin_form=False, http10=False,
        port443=False, cc=None, rng=None, inm=None, ims=None, close=None,
        pragma=False, lang=None, expect=False, body=None, chunked=False,
        trailer=False):
    fl = (origin_form and 0x01) | (port443 and 0x02) | (http10 and 0x04)
    fl2 = 0
    ext = []
    if cc is not None:
        fl |= 0x08
        ext.append(cc)
    if rng is not None:
        fl |= 0x10
        ext.append(rng)
    if inm is not None:
        fl |= 0x20
        ext.append(inm)
    if ims is not None:
        fl |= 0x40
        ext.append(ims)
    if close is not None:
        fl |= 0x80
        fl2 |= close and 0x01
    fl2 |= (pragma and 0x02) | (expect and 0x10) | (chunked and 0x40) | \
        (trailer and 0x80)
    if lang is not None:
        fl2 |= 0x04 | (lang and 0x08)
    if body is not None:
        fl2 |= 0x20
        ext.append(body)
    return [REQUEST, cl, fl, fl2, method, host, path] + ext


def auth(cl=0, kind=BASIC, user=ALICE, pw=PW, path=P_AUTH, pick=0):
    """A GET with credentials: Basic or Digest for user and pw of the
    tables, or the pick-th broken one."""
    creds = [user, pw] if kind in (BASIC, DIGEST) else [pick]
    return [AUTH, cl, kind, 0, 0, GET, A, path] + creds


def answer(h=0, fl=0, res=0, ex=0, pick=0, tail=()):
    """The answer of the h-th helper with questions to its oldest."""
    return [H_ANSWER, h, fl, res, ex, pick] + list(tail)


def reply(org=0, status=S200, blen=2, framing=CL, cc=None, etag=None,
          lm=None, date=None, expires=None, age=None, vary=None,
          conn=None, ranges=False, small=False, ext=False, trailers=False,
          interim=0, early_hints=False, http10=False, junk=False,
          again=False, start=0, longer=False):
    fl = framing
    fl2 = (longer and 0x01) | (ranges and 0x10) | (small and 0x20) | \
        (ext and 0x40) | (trailers and 0x80)
    fl3 = (interim << 6) | (early_hints and 0x10) | (http10 and 0x08) | \
        (junk and 0x04) | (again and 0x20)
    tail = []
    if status == S206:
        tail.append(start)
    for bit, v in ((0x01, cc), (0x02, etag), (0x04, lm), (0x08, date),
                   (0x10, expires), (0x20, age)):
        if v is not None:
            fl |= bit
            tail.append(v)
    if conn is not None:
        fl2 |= 0x04 | (conn and 0x08)
    if vary is not None:
        fl2 |= 0x02
        tail.append(vary)
    return [REPLY, org, fl, fl2, fl3, status, blen] + tail


def raw(peer, data):
    return [RAW, peer, len(data)] + list(data)


def send(peer, n=0):
    return [SEND, peer, n]


def run(n=8):
    return [RUN, n - 1]


def send_all():
    return [SEND_ALL]


def warp(i):
    return [WARP, i]


def raw_long(peer, data):
    """data in raw operations of at most 63 bytes."""
    out = []
    for i in range(0, len(data), 63):
        out += raw(peer, data[i:i + 63])
    return out


def tls_flights():
    """A real ClientHello, and a TLS 1.2 server's first flight answering
    one (ServerHello, Certificate, ServerKeyExchange, ServerHelloDone),
    made with a throw-away certificate for a.test."""
    with tempfile.TemporaryDirectory() as d:
        crt, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", crt, "-days", "1",
                        "-subj", "/CN=a.test"], check=True,
                       capture_output=True)
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.maximum_version = ssl.TLSVersion.TLSv1_2
        sctx.load_cert_chain(crt, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    cctx.set_alpn_protocols(["http/1.1"])
    ci, co = ssl.MemoryBIO(), ssl.MemoryBIO()
    si, so = ssl.MemoryBIO(), ssl.MemoryBIO()
    cl = cctx.wrap_bio(ci, co, server_hostname="a.test")
    sv = sctx.wrap_bio(si, so, server_side=True)
    try:
        cl.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = co.read()
    si.write(hello)
    try:
        sv.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return hello, so.read()


CLIENT_HELLO, SERVER_FLIGHT = tls_flights()


def hello(cl=0, which=H_A, cut=0, frag=0, pos=0, xor=0):
    """One of fuzz_proxy.c's ClientHellos on client cl: cut after
    cut * 8 bytes, in records of frag bytes, byte pos xored."""
    return [HELLO, cl, which, cut, frag, pos, xor]


def bump_connect(host=A):
    """A client of the ssl-bump port and its CONNECT, answered."""
    return flow([CLIENT_BUMP], req(method=CONNECT, host=host,
                                   port443=True), send_all(), run())


def flow(*parts):
    out = []
    for p in parts:
        out += p
    return bytes(out)


def tls_up():
    """A tls peer's handshake: its flights to and fro."""
    return send_all() + run() + send_all() + run() + send_all() + run()


# Client 0 asks, origin connection 0 answers: the miss.
def miss(cl=0, org=0, rq=None, rp=None):
    return flow(rq or req(cl), send_all(), run(), rp or reply(org),
                send_all(), run())


SEEDS = {
    "hit": flow(client(), miss(rp=reply(cc=0, blen=4)), req(),
                send_all(), run()),
    "revalidate-304": flow(
        client(), miss(rp=reply(cc=7, etag=0, lm=1, blen=5)),
        warp(3), req(), send_all(), run(), reply(status=S304, etag=0),
        send_all(), run(), req(), send_all(), run()),
    "interim-100": flow(client(), miss(rq=req(method=POST, expect=True,
                                              body=10),
                                       rp=reply(interim=1))),
    "interim-103-three": flow(client(), miss(rp=reply(
        interim=3, early_hints=True, cc=0))),
    "trailers-chunk-ext": flow(client(), miss(rp=reply(
        framing=CHUNKED, blen=5, small=True, ext=True, trailers=True,
        cc=0)), req(), send_all(), run()),
    "http10-close-delimited": flow(client(), miss(rp=reply(
        framing=UNTIL_CLOSE, http10=True, blen=4, cc=0)),
        req(), send_all(), run()),
    "204-with-body": flow(client(), miss(rp=reply(
        status=S204, junk=True, blen=3)), req(path=2), send_all(), run(),
        reply(cc=0), send_all(), run()),
    "304-with-body": flow(client(), miss(rp=reply(
        status=S304, junk=True, blen=3, etag=0)), req(), send_all(),
        run()),
    "unsolicited-206": flow(client(), miss(rp=reply(
        status=S206, start=2, blen=3, cc=0)), req(), send_all(), run()),
    "vary-star": flow(client(), miss(rp=reply(vary=1, cc=0)),
                      req(lang=1), send_all(), run(), reply(),
                      send_all(), run()),
    "vary-language": flow(client(), miss(rq=req(lang=0),
                                         rp=reply(vary=0, cc=0)),
                          req(lang=1), send_all(), run(), reply(cc=0),
                          send_all(), run(), req(lang=0), send_all(),
                          run()),
    "pipelined": flow(client(), req(path=1), req(path=2),
                      req(path=3, method=HEAD), send_all(), run(),
                      reply(cc=0), send_all(), run(), reply(cc=0, blen=3),
                      send_all(), run(), reply(cc=0), send_all(), run()),
    "aborted-by-origin": flow(client(), req(path=4), send_all(), run(),
                              reply(blen=5, cc=0), send(o(0), 60),
                              run(), [RESET, o(0)], run(), req(path=4),
                              send_all(), run()),
    "aborted-by-client": flow(client(), req(path=4), send_all(), run(),
                              reply(blen=6, cc=0), send(o(0), 100),
                              run(), [RESET, c(0)], run(), send_all(),
                              run()),
    "connect-tunnel": flow(client(), req(method=CONNECT, port443=True),
                           send_all(), run(), raw(o(0), b"\x16\x03\x01hi"),
                           raw(c(0), b"\x16\x03\x01yo"), send_all(), run(),
                           [SHUT, c(0)], run(), [SHUT, o(0)], run()),
    "collapsed": flow(client(), client(), req(0), req(1), send_all(),
                      run(), reply(cc=0, blen=4), send_all(), run()),
    "range-from-cache": flow(client(), miss(rp=reply(cc=0, blen=4)),
                             req(rng=0), send_all(), run(),
                             req(rng=1), send_all(), run(),
                             req(rng=3), send_all(), run()),
    "manager": flow(client(), req(host=LOCALHOST, path=5, origin_form=True),
                    req(host=LOCALHOST, port443=True), send_all(), run()),
    "refused": flow(client(), [REFUSE], req(), send_all(), run(),
                    req(path=2), send_all(), run(), reply(), send_all(),
                    run()),
    "timeouts": flow(client(), req(), send_all(), run(), warp(3),
                     run(), warp(6), run()),
    "split-request": flow(client(), req(cc=1), send(c(0), 3), run(1),
                          send(c(0), 7), run(1), send(c(0), 1), run(2),
                          send_all(), run(), reply(), send(o(0), 20),
                          run(2), send_all(), run()),
    "half-close": flow(client(), req(), [SHUT, c(0)], run(), reply(cc=0),
                       send_all(), run()),
    "purge": flow(client(), miss(rp=reply(cc=0)), req(method=PURGE),
                  send_all(), run(), req(), send_all(), run()),
    "tls-client-hello": flow([CLIENT_TLS], raw_long(c(0), CLIENT_HELLO),
                             send_all(), run(), raw(c(0), b"\x15\x03\x03"
                             b"\x00\x02\x02\x28"), send_all(), run()),
    "tls-client-garbage": flow([CLIENT_TLS], client(), raw(c(0), b"GET / "),
                               req(1), send_all(), run(), reply(),
                               send_all(), run()),
    "tls-client-cut": flow([CLIENT_TLS], raw_long(c(0), CLIENT_HELLO[:100]),
                           send_all(), run(), [SHUT, c(0)], run(),
                           warp(3), run()),
    # A real TLS client on the https_port: the handshake, a miss, a hit,
    # each request and reply inside records.
    "tls-peer-hit": flow([TLS_PEER, 0], tls_up(), miss(), req(),
                         send_all(), run(), send_all(), run()),
    "tls-peer-tls12": flow([TLS_PEER, 1], tls_up(), miss(rq=req(
        method=POST, body=10)), send_all(), run()),
    "tls-peer-split": flow([TLS_PEER, 0], tls_up(), req(cc=1),
                           send(c(0), 3), run(1), send(c(0), 40), run(1),
                           send_all(), run(), reply(cc=0), send_all(),
                           run(), send_all(), run()),
    # After the handshake: a flipped byte, a cut record, a record too
    # large.
    "tls-peer-flip": flow([TLS_PEER, 0], tls_up(), req(),
                          [TLS_TAMPER, 0, 0, 3, 7], send_all(), run(),
                          send_all(), run()),
    "tls-peer-cut": flow([TLS_PEER, 0], tls_up(), req(),
                         [TLS_TAMPER, 0, 1, 9], send_all(), run(),
                         [SHUT, c(0)], run(), warp(3), run()),
    "tls-peer-huge-record": flow([TLS_PEER, 0], tls_up(), miss(),
                                 [TLS_TAMPER, 0, 2, 4, 3, 3], send_all(),
                                 run(), req(), send_all(), run()),
    "https-origin-flight": flow([HTTPS], client(), req(), send_all(), run(),
                                raw_long(o(0), SERVER_FLIGHT), send_all(),
                                run(), run()),
    "https-origin-garbage": flow([HTTPS], client(), req(path=2),
                                 send_all(), run(), reply(), send_all(),
                                 run(), [HTTPS], req(path=2), send_all(),
                                 run(), reply(), send_all(), run()),
    # Step 2 of ssl_bump: CONNECT on the ssl-bump port, then a
    # ClientHello (real ones: Python's raw, and fuzz_proxy.c's own).
    "bump-hello-origin-flight": flow(
        bump_connect(), hello(), send_all(), run(), run(),
        raw_long(o(0), SERVER_FLIGHT), send_all(), run(), run()),
    "bump-python-hello": flow(
        bump_connect(), raw_long(c(0), CLIENT_HELLO), send_all(), run(),
        run(), raw(o(0), b"\x15\x03\x03\x00\x02\x02\x28"), send_all(),
        run(), run()),
    "bump-hello-spliced": flow(
        bump_connect(B), hello(which=H_B), send_all(), run(),
        raw(o(0), b"\x16\x03\x03\x00\x01\x02"), send_all(), run()),
    "bump-hello-ech": flow(
        bump_connect(), hello(which=H_ECH), send_all(), run(), run(),
        [RESET, o(0)], run(), run()),
    "bump-hello-fragments": flow(
        bump_connect(), hello(which=H_A12, frag=7), send(c(0), 30),
        run(2), send(c(0), 1), run(1), send_all(), run(),
        raw_long(o(0), SERVER_FLIGHT), send_all(), run()),
    "bump-hello-cut": flow(
        bump_connect(), hello(which=H_NONE, cut=10), send_all(), run(),
        [SHUT, c(0)], run(), warp(3), run()),
    "bump-hello-mutated": flow(
        bump_connect(), hello(pos=60, xor=0x40), send_all(), run(),
        run()),
    "bump-not-tls": flow(
        bump_connect(B), req(0), send_all(), run(), run()),
    # A CONNECT pipelined behind another request: its peek must find
    # the read slot free.
    "bump-pipelined-connect": flow(
        [CLIENT_BUMP], req(method=PURGE), req(method=CONNECT,
                                              port443=True),
        send_all(), run(), hello(), send_all(), run(), run()),
    "bump-refused-origin": flow(
        [REFUSE], bump_connect(), hello(), send_all(), run(), run()),
    # Helpers, played by the fuzzer.  Basic: 407 (which closes client
    # 0), the right password (the helper asked once), the cached
    # credentials (a hit), then a wrong password.
    "auth-basic": flow(
        client(), req(path=P_AUTH), send_all(), run(), client(),
        auth(cl=1), send_all(), run(), answer(fl=TRUTHFUL), run(),
        reply(cc=0), send_all(), run(), auth(cl=1), send_all(), run(),
        auth(cl=1, pw=WRONG), send_all(), run(), answer(fl=TRUTHFUL),
        run()),
    # Digest: the 407's nonce, credentials computed for it, the helper's
    # HA1; then the next use of the nonce.
    "auth-digest": flow(
        client(), req(path=P_AUTH), send_all(), run(), client(),
        auth(cl=1, kind=DIGEST), send_all(), run(), answer(fl=TRUTHFUL),
        run(), reply(), send_all(), run(), auth(cl=1, kind=DIGEST),
        send_all(), run(), reply(), send_all(), run()),
    "auth-broken": flow(
        client(), auth(kind=BROKEN, pick=2), auth(kind=BROKEN, pick=15),
        auth(kind=BROKEN, pick=8), send_all(), run(), run()),
    "rewrite": flow(
        client(), req(path=P_RW), send_all(), run(),
        answer(res=KEY1, tail=[0]), run(), reply(), send_all(), run()),
    "rewrite-legacy-302": flow(
        client(), req(path=P_RW), send_all(), run(),
        answer(res=LEGACY, tail=[1]), run(), send_all(), run()),
    "rewrite-redirect": flow(
        client(), req(path=P_RW), send_all(), run(),
        answer(res=KEY2, tail=[1, 0]), run(), send_all(), run()),
    "store-id-shared": flow(
        client(), req(path=P_SID), send_all(), run(),
        answer(res=KEY1, tail=[0]), run(), reply(cc=0), send_all(), run(),
        req(path=P_SID2), send_all(), run(), answer(res=KEY1, tail=[0]),
        run(), send_all(), run()),
    "external-tag": flow(
        client(), req(path=P_EXT), send_all(), run(),
        answer(res=KEY2 | 0x20), run(), req(path=P_EXT), send_all(),
        run(), send_all(), run()),
    "external-login": flow(
        client(), auth(path=P_AUTH_EXT), send_all(), run(),
        answer(fl=TRUTHFUL), run(), answer(res=KEY1, tail=[0]), run(),
        reply(), send_all(), run()),
    "helper-dies": flow(
        client(), req(path=P_RW), send_all(), run(), [H_CLOSE, 0], run(),
        answer(), run(), reply(), send_all(), run()),
    "helper-garbage": flow(
        client(), req(path=P_SID), send_all(), run(),
        [H_RAW, 0, 5] + list(b"x\n\nOK"), [H_STDERR, 0, 3], run(),
        answer(fl=0x10, ex=0x81), answer(fl=0x20), run(), reply(),
        send_all(), run()),
    "helper-client-leaves": flow(
        client(), req(path=P_RW), send_all(), run(), [RESET, c(0)],
        run(), answer(), run(), run()),
    # The pools' manager pages while questions wait.
    "helper-pages": flow(
        client(), req(path=P_RW), auth(kind=DIGEST, path=P_AUTH),
        send_all(), run(), client(),
        req(cl=1, host=LOCALHOST, path=P_MGR_RW, origin_form=True),
        req(cl=1, host=LOCALHOST, path=P_MGR_BASIC, origin_form=True),
        req(cl=1, host=LOCALHOST, path=P_MGR_DIGEST, origin_form=True),
        req(cl=1, host=LOCALHOST, path=P_MGR_EXT, origin_form=True),
        req(cl=1, host=LOCALHOST, path=P_MGR_ACTIVE, origin_form=True),
        req(cl=1, host=LOCALHOST, path=P_MGR_METRICS, origin_form=True),
        req(cl=1, host=LOCALHOST, path=P_MGR_OBJECTS, origin_form=True),
        send_all(), run(), run()),
    "helper-timeout": flow(
        client(), req(path=P_RW), send_all(), run(), warp(4), run(),
        run(), reply(), send_all(), run()),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "corpus", "proxy")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
