#!/usr/bin/env python3
"""soak.py - fault soak: the real cuttle under a bounded mixed load from
misbehaving clients and origins, with invariants checked throughout.

    soak.py [--cuttle PATH] [--seconds N] [--keep] [--seed N]

The default cuttle is src/cuttle of the build tree this script is run
from; --seconds defaults to $SOAK_SECONDS, else 300.  Exit 0 when no
invariant broke, 1 when one did (each violation is named in the
summary), 2 on set-up trouble.  Everything runs on 127.0.0.1; cuttle
is started here and stopped here, by its PID.  See README.md.

Every origin body describes itself.  Its first line is

    SOAK <payload length> <sha256 of payload, hex> <path>\\n

and the payload is SHAKE-256 of the path, so the origin's behaviour
and its bytes are a function of the URL alone and any client can check
any body it gets, hit or miss, whole (checksum) or cut (prefix).
Paths are /KIND/CACHE/FRAME/SIZE/ID:

    KIND   n normal, s slow, r reset mid-body, ls Content-Length longer
           than what is sent (cut by FIN), ll Content-Length shorter than
           what is sent (a forged reply follows the body), kc chunked cut
           before the last chunk, g garbage (FRAME says which), x a port
           that refuses connections
    CACHE  c max-age, h heuristic (Last-Modified only), u no-store,
           p private
    FRAME  l Content-Length, k chunked, e close-delimited (g: 1-6)

Valid but unusual shapes, selected by --shapes (all by default):

    i   interim replies (100, 102, 103 with Link, 199) before the final
        one, whole, split, slow or a byte at a time      (interim)
    t   chunked with trailer fields                       (trailers)
    ce  chunk extensions                                  (chunkext)
    h0  an HTTP/1.0 reply, close-delimited or not         (http10)
    nb  204, bare or followed by a Content-Length, a chunked
        terminator or a forged reply (FRAME 1-4)          (nobody)
    cn  ETag and Last-Modified; 304 to a matching conditional, bare,
        with Content-Length, with the body after it or a forged
        reply after it                                    (cond)
    p6  206 to a request without Range                    (partial)
    vs  Vary: *                                           (varystar)
    ag  odd Age fields: lists, repeats, overflows         (age)
    tg  Transfer-Encoding: gzip, close-delimited or chunked (tegzip)
    sc  Set-Cookie on a cacheable reply                   (cookie)
    ex  Expires in odd case and formats, as the only freshness;
        CACHE h means already expired                     (expires)

and on the client side Expect: 100-continue before a request body
(expect) and HTTP/1.0 clients (client10).
"""

import argparse
import asyncio
import collections
import email.utils
import gzip
import hashlib
import os
import pwd
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

CACHE_MEM_MB = 64
RSS_SLACK_MB = 64
FD_SLACK = 4
REQUEST_TIMEOUT = 10		# conf request_timeout, seconds
IDLE_PCONN_TIMEOUT = 15		# conf client_idle_pconn_timeout
PCONN_TIMEOUT = 15		# conf pconn_timeout
REPLY_DEADLINE = 30		# longest any reply may take, seconds
THINK = 0.01			# mean pause between requests, seconds: the
				# load stays moderate (a few hundred req/s)

# Unusual reply shapes (origin kinds) and client behaviours, by the
# names --shapes takes.
SHAPES = collections.OrderedDict([
    ('interim', 'i'), ('trailers', 't'), ('chunkext', 'ce'),
    ('http10', 'h0'), ('nobody', 'nb'), ('cond', 'cn'), ('partial', 'p6'),
    ('varystar', 'vs'), ('age', 'ag'), ('tegzip', 'tg'), ('cookie', 'sc'),
    ('expires', 'ex'), ('expect', None), ('client10', None)])

# What a 'sc' origin sends as Set-Cookie: the first field, then maybe a
# second one.
COOKIE_RE = re.compile(r'^soak=\d+; Path=/; HttpOnly$')
OTHER_COOKIE = 'other=1; Max-Age=60'
GOOD = ('n', 's', 'i', 't', 'ce', 'h0', 'vs', 'ag', 'sc', 'ex', 'cn')
				# must come back whole, 200 (cn: or 304 to a
				# matching conditional)
# nb: 204 or a 5xx.  p6: the 206 as sent, a whole 200, or a 5xx.
# tg: the body with its coding kept (decoded here), or a 5xx.
UNUSUAL = ('i', 't', 'ce', 'h0', 'nb', 'cn', 'p6', 'vs', 'ag', 'tg', 'sc',
           'ex')
CUT = ('r', 'ls', 'kc')			# never a complete 200
BAD = ('g', 'x')			# never a 200
# ll: whole 200 (the Content-Length bytes) or an error, either is fine.

# Malformed requests: name -> (bytes template, statuses accepted, whether
# cuttle counts it in client_http.requests: it does once the request's
# header section parsed, as Squid does; a parse error in the header
# section is not counted, one in the body is).  {O} is the origin.
MALFORMED = {
    'cl-te-smuggle': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'
                      '0\r\n\r\nGET http://{O}/smuggled/cl-te HTTP/1.1\r\n'
                      'Host: {O}\r\n\r\n', (400,), 0),
    'dup-cl': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
               'Content-Length: 5\r\nContent-Length: 45\r\n\r\nabcde'
               'GET http://{O}/smuggled/dup-cl HTTP/1.1\r\n\r\n', (400,), 0),
    'cl-list': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                'Content-Length: 5, 5\r\n\r\nabcde', (400,), 0),
    'cl-negative': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                    'Content-Length: -1\r\n\r\n', (400,), 0),
    'obs-fold': ('GET http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                 'X-A: 1\r\n folded\r\n\r\n', (400,), 0),
    'te-gzip-chunked': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                        'Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
                        (501,), 0),
    'te-twice': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked'
                 '\r\n\r\n0\r\n\r\n', (400, 501), 0),
    'te-space-colon': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                       'Transfer-Encoding : chunked\r\nContent-Length: 3'
                       '\r\n\r\nabc', (400,), 0),
    'space-colon': ('GET http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost : {O}\r\n\r\n',
                    (400,), 0),
    'bare-cr': ('GET http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                'X-A: a\rb\r\n\r\n', (400,), 0),
    'nul': ('GET http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
            'X-A: a\0b\r\n\r\n', (400,), 0),
    'no-colon': ('GET http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                 'NoColonHere\r\n\r\n', (400,), 0),
    'lf-only': ('GET http://{O}/n/u/l/10/0 HTTP/1.1\nHost: {O}\n\n', (400,), 0),
    'bad-method': ('G@T http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n\r\n',
                   (400,), 0),
    'bad-version': ('GET http://{O}/n/u/l/10/0 HTTP/9.9\r\nHost: {O}\r\n\r\n',
                    (400, 505), 0),
    'space-in-url': ('GET http://{O}/n/u/l/10/0 x HTTP/1.1\r\nHost: {O}\r\n\r\n',
                     (400,), 0),
    'oversized-header': ('GET http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                         'X-Long: ' + 'a' * 70000 + '\r\n\r\n', (431, 400), 0),
    'oversized-url': ('GET http://{O}/' + 'u' * 70000 + ' HTTP/1.1\r\n'
                      'Host: {O}\r\n\r\n', (414, 431, 400), 0),
    'bad-chunk-size': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                       'Transfer-Encoding: chunked\r\n\r\nzz\r\n', (400,), 1),
    'huge-chunk-size': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                        'Transfer-Encoding: chunked\r\n\r\n'
                        'fffffffffffffffffff\r\nabc', (400,), 1),
    'chunk-lf-only': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                      'Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n',
                      (400,), 1),
    'chunk-ext-ctl': ('POST http://{O}/n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n'
                      'Transfer-Encoding: chunked\r\n\r\n3;\x01=1\r\nabc\r\n'
                      '0\r\n\r\n', (400,), 1),
    'no-host': ('GET http://{O}/n/u/l/10/0 HTTP/1.1\r\n\r\n', (400,), 1),
    'host-mismatch': ('GET http://{O}/n/u/l/10/0 HTTP/1.1\r\n'
                      'Host: elsewhere.example\r\n\r\n', (400,), 1),
    'origin-form': ('GET /n/u/l/10/0 HTTP/1.1\r\nHost: {O}\r\n\r\n', (400,), 1),
    # No line end, but no request line can start so: 400 at once.
    'tls-hello': ('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + '\0' * 40,
                  (400,), 0),
}


def now():
    return time.monotonic()


# -- bodies -------------------------------------------------------------------

class Bodies:
    """What the origin sends for a path, and checks against it."""

    def __init__(self):
        self.lines = collections.OrderedDict()

    @staticmethod
    def payload(path, n):
        return hashlib.shake_256(path.encode()).digest(n) if n else b''

    def line(self, path, size):
        ln = self.lines.get(path)
        if ln is None:
            p = self.payload(path, size)
            ln = ('SOAK %d %s %s\n' % (size, hashlib.sha256(p).hexdigest(),
                                       path)).encode()
            self.lines[path] = ln
            if len(self.lines) > 50000:
                self.lines.popitem(last=False)
        return ln

    def body(self, path, size):
        return self.line(path, size) + self.payload(path, size)

    def length(self, path, size):
        return len(self.line(path, size)) + size

    def check(self, path, size, got):
        """None when got is the body, else what is wrong."""
        ln = self.line(path, size)
        if got[:len(ln)] != ln:
            nl = got.find(b'\n', 0, 300)
            first = got[:nl if nl >= 0 else 80]
            if first.startswith(b'SOAK ') and b'/POISON/' in first:
                return 'a forged reply (the bytes an origin sent after ' \
                    'its Content-Length): %r' % first
            if first.startswith(b'SOAK '):
                return 'the body of another URL: %r' % first
            return 'bad first line %r (%d bytes)' % (first, len(got))
        if len(got) != len(ln) + size:
            return 'length %d, want %d' % (len(got), len(ln) + size)
        if hashlib.sha256(got[len(ln):]).hexdigest() != \
                ln.split(b' ')[2].decode():
            return 'checksum mismatch (%d bytes)' % len(got)
        return None

    def check_prefix(self, path, size, got):
        ln = self.line(path, size)
        k = min(len(got), len(ln))
        if got[:k] != ln[:k]:
            return 'bad first line %r' % got[:80]
        rest = got[len(ln):]
        if rest and rest != self.payload(path, len(rest)):
            return 'corrupted prefix (%d bytes)' % len(got)
        return None


def parse_path(path):
    """(kind, cache, frame, size) of a soak path, or None."""
    parts = path.split('/')
    if len(parts) != 6 or parts[0] != '':
        return None
    try:
        return parts[1], parts[2], parts[3], int(parts[4])
    except ValueError:
        return None


def parse_shapes(spec):
    """The set of shape names spec selects: a comma-separated list of
    names, 'all' or 'none', a name after a '-' taken out."""
    out = set()
    for w in (spec or 'all').split(','):
        w = w.strip()
        if w in ('all', ''):
            out |= set(SHAPES) if w else set()
        elif w == 'none':
            out = set()
        elif w.startswith('-') and w[1:] in SHAPES:
            out.discard(w[1:])
        elif w in SHAPES:
            out.add(w)
        else:
            raise ValueError('unknown shape %r (known: %s)' %
                             (w, ', '.join(SHAPES)))
    return out


# -- bookkeeping --------------------------------------------------------------

class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.bodies = Bodies()
        self.stop = False
        self.violations = collections.OrderedDict()
        self.n = collections.Counter()
        self.by_kind = collections.Counter()
        self.status = collections.Counter()
        self.interims = collections.Counter()	# 1xx statuses seen
        self.shapes = parse_shapes(getattr(args, 'shapes', 'all'))
        self.sure = 0		# requests cuttle must have counted
        self.maybe = 0		# requests it may have counted
        self.hits = 0		# X-Cache: HIT seen
        self.origin_reqs = 0
        self.origin_writers = set()
        self.peak_rss = 0
        self.peak_fds = 0
        self.proc = None
        self.fatal = False
        self.quiet = False

    def violate(self, name, detail):
        lst = self.violations.setdefault(name, [])
        lst.append(detail)
        if len(lst) <= 3 and not self.quiet:
            print('soak: VIOLATION %s: %s' % (name, detail), flush=True)

    def count(self, got_headers, counted=1):
        if got_headers:
            self.sure += counted
        else:
            self.maybe += counted


# -- origin -------------------------------------------------------------------

def rfc1123(t):
    return time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime(t))


CN_LAST_MODIFIED = 1700000000	# the cn kind's Last-Modified, fixed


def cn_etag(path):
    return '"%s"' % hashlib.sha256(path.encode()).hexdigest()[:16]


def forged_reply(bodies):
    """A cacheable reply for no URL: bytes an origin sends where no
    reply may be.  A proxy that reads it as the next reply on a reused
    connection serves it for another URL, and the client sees it."""
    fake = bodies.body('/POISON/c/l/100/0', 100)
    return ('HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\n'
            'Content-Length: %d\r\n\r\n' % len(fake)).encode() + fake


# Interim replies an origin may send before the final one.  Those with
# fields name themselves in X-Soak-Interim, so that a final reply that
# carries the field carries an interim reply's bytes.
INTERIMS = (
    b'HTTP/1.1 100 Continue\r\n\r\n',
    b'HTTP/1.1 100 Continue\r\nX-Soak-Interim: 100\r\n\r\n',
    b'HTTP/1.1 102 Processing\r\nX-Soak-Interim: 102\r\n\r\n',
    b'HTTP/1.1 103 Early Hints\r\nLink: </soak.css>; rel=preload; as=style'
    b'\r\nLink: </soak.js>; rel=preload; as=script\r\n'
    b'X-Soak-Interim: 103\r\n\r\n',
    b'HTTP/1.1 103 \r\nLink: <http://127.0.0.1/soak.woff>; rel=preconnect'
    b'\r\nX-Soak-Interim: 103\r\n\r\n',
    b'HTTP/1.1 199 Soak Unknown Interim\r\nX-Soak-Interim: 199\r\n\r\n',
)

AGES = ('Age: 5, 10', 'Age: 3\r\nAge: 7', 'Age: 99999999999999999999',
        'Age: 2147483648', 'Age: 4294967296', 'Age: -1', 'Age: abc',
        'Age: 0', 'Age: 7200', 'Age:  12 ')

CHUNK_EXTS = (b';ext=1', b';a=b;c="quoted; \\"value\\""', b';name',
              b' ;bws = 1', b';' + b'x' * 200 + b'=1')


def odd_case(name, rng):
    return ''.join(c.upper() if rng.random() < 0.5 else c.lower()
                   for c in name)


class Origin:
    def __init__(self, soak):
        self.s = soak
        self.server = None
        self.port = None

    async def start(self):
        self.server = await asyncio.start_server(
            self.conn, '127.0.0.1', 0, limit=1 << 18, backlog=256)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close_all(self):
        self.server.close()
        for w in list(self.s.origin_writers):
            w.transport.abort()
        await self.server.wait_closed()

    async def conn(self, reader, writer):
        s = self.s
        s.origin_writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b'\r\n\r\n')
                except (asyncio.IncompleteReadError, ConnectionError,
                        asyncio.LimitOverrunError):
                    return
                lines = head.decode('latin1').split('\r\n')
                try:
                    method, target, _ = lines[0].split(' ', 2)
                except ValueError:
                    s.violate('cuttle sent a bad request line to the origin',
                              repr(lines[0][:100]))
                    return
                hdrs = {}
                for ln in lines[1:]:
                    if ':' in ln:
                        k, v = ln.split(':', 1)
                        hdrs[k.strip().lower()] = v.strip()
                path = re.sub(r'^[a-z]+://[^/]*', '', target)
                s.origin_reqs += 1
                if path.startswith('/smuggled'):
                    s.violate('smuggled request reached the origin', path)
                body = b''
                try:
                    if 'chunked' in hdrs.get('transfer-encoding', ''):
                        body = await self.read_chunked(reader)
                    elif 'content-length' in hdrs:
                        body = await reader.readexactly(
                            int(hdrs['content-length']))
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                if method == 'POST':
                    self.check_req_body(path, body)
                keep = await self.reply(method, path, writer, hdrs)
                if not keep or hdrs.get('connection', '').lower() == 'close':
                    break
        except ConnectionError:
            pass
        finally:
            s.origin_writers.discard(writer)
            writer.transport.abort()

    @staticmethod
    async def read_chunked(reader):
        body = b''
        while True:
            ln = await reader.readuntil(b'\r\n')
            n = int(ln.split(b';')[0], 16)
            if n == 0:
                while (await reader.readuntil(b'\r\n')) != b'\r\n':
                    pass
                return body
            body += await reader.readexactly(n)
            await reader.readexactly(2)

    def check_req_body(self, path, body):
        nl = body.find(b'\n')
        m = re.match(rb'REQ (\d+) ([0-9a-f]{64})$', body[:nl])
        if nl < 0 or not m or len(body) - nl - 1 != int(m.group(1)) or \
                hashlib.sha256(body[nl + 1:]).hexdigest() != \
                m.group(2).decode():
            self.s.violate('request body corrupted on its way to the origin',
                           '%s: %d bytes, first line %r' %
                           (path, len(body), body[:80]))

    async def send(self, writer, data, pieces=1, pause=0.0):
        step = max(1, -(-len(data) // pieces)) if pieces > 1 else 65536
        for i in range(0, len(data), step):
            writer.write(data[i:i + step])
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)

    async def flush(self, writer):
        await writer.drain()
        for _ in range(200):
            if writer.transport.get_write_buffer_size() == 0:
                return
            await asyncio.sleep(0.01)

    def reset(self, writer):
        sock = writer.get_extra_info('socket')
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack('ii', 1, 0))
        except OSError:
            pass
        writer.transport.abort()

    @staticmethod
    def chunked(data, rng, ext=b''):
        """data in chunks of odd sizes, each size line carrying ext."""
        out = []
        i = 0
        while i < len(data):
            n = rng.choice((1, 7, 100, 4096, 16384, 65536))
            out.append(b'%x' % len(data[i:i + n]) + ext + b'\r\n' +
                       data[i:i + n] + b'\r\n')
            i += n
        return b''.join(out)

    async def reply(self, method, path, writer, hdrs=None):
        """Send the reply path calls for; False when the connection ends."""
        s = self.s
        p = parse_path(path)
        if p is None:
            writer.write(b'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n'
                         b'\r\n')
            await writer.drain()
            return True
        kind, cache, frame, size = p
        body = s.bodies.body(path, size)
        rng = random.Random(path)
        h = ['HTTP/1.1 200 OK', 'Date: ' + rfc1123(time.time()),
             'Content-Type: application/octet-stream']
        h.append({'c': 'Cache-Control: public, max-age=3600',
                  'u': 'Cache-Control: no-store',
                  'p': 'Cache-Control: private, max-age=3600',
                  'h': 'Last-Modified: ' + rfc1123(time.time() - 86400)}
                 .get(cache, 'Cache-Control: no-store'))
        interim = b''
        if kind in UNUSUAL:
            keep = await self.unusual(kind, cache, frame, method, path,
                                      hdrs or {}, writer, h, body, rng)
            if keep is not None:
                return keep
            if kind == 'i':
                interim = b''.join(rng.choice(INTERIMS)
                                   for _ in range(rng.randint(1, 4)))
        if kind == 'g':
            await self.garbage(frame, writer, h, body)
            return False
        if kind == 'll':
            # The body is Content-Length bytes; a forged reply follows in
            # the same write.  A proxy that reuses this connection reads
            # the forgery as the next reply.
            fake = s.bodies.body('/POISON/c/l/100/0', 100)
            forged = ('HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\n'
                      'Content-Length: %d\r\n\r\n' % len(fake)).encode() + fake
            h.append('Content-Length: %d' % len(body))
            writer.write(('\r\n'.join(h) + '\r\n\r\n').encode() +
                         (b'' if method == 'HEAD' else body) + forged)
            await writer.drain()
            return True
        close = frame == 'e' or (kind == 'h0' and 'keep-alive' not in
                                 ''.join(h).lower())
        if frame == 'l':
            h.append('Content-Length: %d' % len(body))
        elif frame == 'k':
            h.append('Transfer-Encoding: chunked')
        if close and kind != 'h0':
            h.append('Connection: close')
        head = ('\r\n'.join(h) + '\r\n\r\n').encode()
        if interim:
            head = await self.send_interim(writer, interim, head, rng)
        if method == 'HEAD':
            writer.write(head)
            await writer.drain()
            return not close
        wire = self.chunked(body, rng) + b'0\r\n\r\n' if frame == 'k' else body
        if kind in ('n', 'x') or kind in UNUSUAL:
            writer.write(head)
            await self.send(writer, wire)
            if close:
                await self.flush(writer)
            return not close
        if kind == 's':
            writer.write(head)
            await self.send(writer, wire, pieces=6,
                            pause=rng.uniform(0.05, 0.3))
            if close:
                await self.flush(writer)
            return not close
        # Cut kinds: half the body, then RST (r, and odd kc) or FIN.
        if kind == 'kc':
            cut = wire[:max(1, len(wire) - 7 - len(wire) // 3)]
        else:
            cut = wire[:len(wire) // 2]
        writer.write(head)
        await self.send(writer, cut)
        await self.flush(writer)
        if kind == 'r' or (kind == 'kc' and int(path.rsplit('/', 1)[1]) % 2):
            await asyncio.sleep(0.01)
            self.reset(writer)
        return False

    async def send_interim(self, writer, interim, head, rng):
        """Send the interim replies, whole, split, slowly or a byte at
        a time; what is left of head to send."""
        how = rng.choice(('whole', 'split', 'slow', 'bytes'))
        if how == 'whole':
            return interim + head
        if how == 'bytes':
            # The final reply's header section too, a byte per write.
            for i in range(len(interim + head)):
                writer.write((interim + head)[i:i + 1])
                await writer.drain()
                await asyncio.sleep(0.002)
            return b''
        if how == 'split':
            cut = rng.randrange(1, len(interim))
            writer.write(interim[:cut])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(interim[cut:])
            await writer.drain()
            await asyncio.sleep(0.05)
            return head
        for m in re.findall(rb'HTTP/.*?\r\n\r\n', interim, re.S):
            writer.write(m)
            await writer.drain()
            await asyncio.sleep(rng.uniform(0.1, 0.6))
        return head

    async def unusual(self, kind, cache, frame, method, path, hdrs, writer,
                      h, body, rng):
        """Send what an unusual kind sends and return whether the
        connection goes on; or add to h and return None, for the
        common code to send a 200 with FRAME's framing."""
        head_only = method == 'HEAD'
        if kind == 'nb':
            h[0] = 'HTTP/1.1 204 No Content'
            forged = forged_reply(self.s.bodies)
            tail = b''
            if frame == '2':
                h.append('Content-Length: %d' % len(forged))
                tail = forged
            elif frame == '3':
                tail = forged
            elif frame == '4':
                h.append('Transfer-Encoding: chunked')
                tail = b'0\r\n\r\n' + forged
            writer.write(('\r\n'.join(h) + '\r\n\r\n').encode() + tail)
            await writer.drain()
            return True
        if kind == 'cn':
            etag = cn_etag(path)
            if cache == 'c':
                h[3] = 'Cache-Control: max-age=1'
            elif cache == 'h':
                h[3] = 'Last-Modified: ' + rfc1123(CN_LAST_MODIFIED)
            h += ['ETag: ' + etag]
            if cache != 'h':
                h.append('Last-Modified: ' + rfc1123(CN_LAST_MODIFIED))
            inm = hdrs.get('if-none-match')
            ims = hdrs.get('if-modified-since')
            if inm is not None:
                match = inm.strip() == '*' or etag in [
                    t.strip().replace('W/', '') for t in inm.split(',')]
            elif ims is not None:
                t = email.utils.parsedate_tz(ims)
                match = t is not None and \
                    email.utils.mktime_tz(t) >= CN_LAST_MODIFIED
            else:
                match = False
            if not match:
                return None
            h[0] = 'HTTP/1.1 304 Not Modified'
            how = rng.choice(('bare', 'length', 'body', 'forged'))
            tail = b''
            if how != 'bare':
                h.append('Content-Length: %d' % len(body))
            if how == 'body':
                tail = body
            elif how == 'forged':
                tail = forged_reply(self.s.bodies)
            writer.write(('\r\n'.join(h) + '\r\n\r\n').encode() + tail)
            await writer.drain()
            return True
        if kind == 'p6':
            n = len(body)
            a, b = rng.choice(((0, n - 1), (0, n // 2), (n // 4, n // 2)))
            h[0] = 'HTTP/1.1 206 Partial Content'
            h += ['Content-Range: bytes %d-%d/%d' % (a, b, n),
                  'Content-Length: %d' % (b - a + 1)]
            writer.write(('\r\n'.join(h) + '\r\n\r\n').encode() +
                         (b'' if head_only else body[a:b + 1]))
            await writer.drain()
            return True
        if kind == 'tg':
            coded = gzip.compress(body, compresslevel=1, mtime=0)
            if frame == 'k':
                h.append('Transfer-Encoding: gzip, chunked')
                wire = self.chunked(coded, rng) + b'0\r\n\r\n'
            else:
                h += ['Transfer-Encoding: gzip', 'Connection: close']
                wire = coded
            writer.write(('\r\n'.join(h) + '\r\n\r\n').encode())
            if not head_only:
                await self.send(writer, wire)
            if frame == 'k':
                await writer.drain()
                return True
            await self.flush(writer)
            return False
        if kind in ('t', 'ce'):
            if kind == 't' and rng.random() < 0.7:
                h.append('Trailer: X-Soak-Sum, X-Soak-More')
            h.append('Transfer-Encoding: chunked')
            writer.write(('\r\n'.join(h) + '\r\n\r\n').encode())
            if head_only:
                await writer.drain()
                return True
            if kind == 't':
                wire = self.chunked(body, rng) + (
                    '0\r\nX-Soak-Sum: %s\r\nX-Soak-More: a, b\r\n'
                    'x-soak-empty:\r\n\r\n' %
                    hashlib.sha256(body).hexdigest()).encode()
            else:
                # Built line by line: a body's bytes may hold what
                # looks like a size line.
                ext = rng.choice(CHUNK_EXTS)
                wire = self.chunked(body, rng, ext) + b'0' + ext + \
                    b'\r\n\r\n'
            if rng.random() < 0.3:
                await self.send(writer, wire, pieces=6,
                                pause=rng.uniform(0.02, 0.2))
            else:
                await self.send(writer, wire)
            return True
        if kind == 'h0':
            h[0] = 'HTTP/1.0 200 OK'
            if frame == 'l' and rng.random() < 0.5:
                h.append('Connection: keep-alive')
        elif kind == 'vs':
            h.append(rng.choice(('Vary: *', 'Vary: Accept-Encoding, *',
                                 'Vary: *\r\nVary: Accept')))
        elif kind == 'ag':
            h.append(rng.choice(AGES))
        elif kind == 'sc':
            h.append('Set-Cookie: soak=%d; Path=/; HttpOnly' %
                     self.s.origin_reqs)
            if rng.random() < 0.5:
                h.append('Set-Cookie: other=1; Max-Age=60')
        elif kind == 'ex':
            name = odd_case('expires', rng)
            if cache == 'h':
                when = rng.choice(('0', '-1', rfc1123(time.time() - 3600),
                                   'tomorrow', '', 'Thu, 01 Jan 1970 '
                                   '00:00:00 GMT'))
            else:
                t = time.gmtime(time.time() + 3600)
                when = rng.choice((
                    rfc1123(time.time() + 3600),
                    time.strftime('%A, %d-%b-%y %H:%M:%S GMT', t),
                    time.strftime('%a %b ', t) + '%2d' % t.tm_mday +
                    time.strftime(' %H:%M:%S %Y', t)))
            if cache in 'ch':
                h[3] = '%s: %s' % (name, when)
            else:
                h.append('%s: %s' % (name, when))
        return None

    async def garbage(self, frame, writer, h, body):
        if frame == '1':
            data = b'\x00\xff\x16GARBAGE not http at all\r\n\r\n' + body[:500]
        elif frame == '2':
            data = b'HTTP/1.1 200 OK\r\nX-\x00\x01: \xff\xfe\r\n\r\n' + body
        elif frame == '3':
            data = ('\r\n'.join(h + ['Content-Length: 5',
                                     'Transfer-Encoding: chunked']) +
                    '\r\n\r\n').encode() + b'%x\r\n' % len(body) + body + \
                b'\r\n0\r\n\r\n'
        elif frame == '4':
            data = ('\r\n'.join(h + ['X-Big: ' + 'b' * 70000,
                                     'Content-Length: %d' % len(body)]) +
                    '\r\n\r\n').encode() + body
        elif frame == '5':
            good = b'%x\r\n' % min(len(body), 1000) + body[:1000] + b'\r\n'
            data = ('\r\n'.join(h + ['Transfer-Encoding: chunked']) +
                    '\r\n\r\n').encode() + good + b'zz\r\nxx\r\n0\r\n\r\n'
        else:
            data = ('\r\n'.join(h + ['Content-Length: -5']) +
                    '\r\n\r\n').encode() + body
        writer.write(data)
        await self.flush(writer)


# -- client side --------------------------------------------------------------

class _ClientAbort(Exception):
    """The client has read what it wanted."""


class Resp:
    __slots__ = ('status', 'headers', 'cookies', 'body', 'complete', 'err',
                 'hit', 'interims', 'bad', 'codings', 'delimited')

    def __init__(self):
        self.status = None
        self.headers = {}
        self.cookies = []       # every Set-Cookie field, in order
        self.body = b''
        self.complete = False
        self.err = None
        self.hit = False
        self.interims = []	# statuses of the 1xx replies before it
        self.bad = []		# (violation, detail) the reader found
        self.codings = []	# transfer-codings other than chunked
        self.delimited = False	# the body ended with the connection


FRAMING = ('content-length', 'transfer-encoding')


def decode_codings(r, raw):
    """raw with r.codings (gzip only) undone: the body, or as much of it
    as raw holds when the reply is cut.  A complete reply that does not
    decode whole is a corrupted body."""
    out = raw
    for c in reversed(r.codings):
        d = zlib.decompressobj(wbits=31)
        try:
            out = d.decompress(out)
        except zlib.error as e:
            if r.complete:
                r.bad.append(('transfer-coded body does not decode',
                              '%s: %s (%d bytes)' % (c, e, len(raw))))
            return b''
        if r.complete and (not d.eof or d.unused_data):
            r.bad.append(('transfer-coded body does not decode',
                          '%s: %s' % (c, 'ends early' if not d.eof else
                                      '%d bytes after its end' %
                                      len(d.unused_data))))
    return out


async def read_response(reader, method, pace=None, want=None, soak=None,
                        http10=False, pre=None):
    """One reply from reader.  pace=(bytes, seconds) reads slowly;
    want=N stops after N body bytes (an aborting client); http10: the
    request was HTTP/1.0; pre: a header section already read."""
    r = Resp()
    while True:
        if pre is not None:
            head, pre = pre, None
        else:
            try:
                head = await reader.readuntil(b'\r\n\r\n')
            except asyncio.IncompleteReadError as e:
                r.err = 'eof before reply headers' if not e.partial else \
                    'eof inside reply headers'
                return r
            except asyncio.LimitOverrunError:
                r.err = 'reply headers too long'
                return r
            except ConnectionError as e:
                r.err = 'reset before reply headers (%s)' % e
                return r
        lines = head.decode('latin1').split('\r\n')
        m = re.match(r'HTTP/1\.[01] (\d{3})', lines[0])
        if not m:
            r.err = 'bad status line %r' % lines[0][:80]
            if soak:
                soak.violate('cuttle sent a bad status line', r.err)
            return r
        r.status = int(m.group(1))
        for ln in lines[1:]:
            if ln and ':' not in ln:
                r.bad.append(('cuttle sent a header line without a colon',
                              '%r in the reply headed %r' % (ln[:80],
                                                             lines[0])))
        if r.status >= 200:
            break
        # An interim reply: the final one follows.
        r.interims.append(r.status)
        if http10:
            r.bad.append(('interim reply sent to an HTTP/1.0 client',
                          repr(head[:200])))
        if any(ln.split(':', 1)[0].strip().lower() in FRAMING
               for ln in lines[1:]):
            r.bad.append(('interim reply with framing fields',
                          repr(head[:200])))
    cls = []
    for ln in lines[1:]:
        if ':' in ln:
            k, v = ln.split(':', 1)
            k = k.strip().lower()
            if k == 'content-length':
                cls.append(v.strip())
            elif k == 'set-cookie':
                r.cookies.append(v.strip())
            r.headers[k] = v.strip()
    r.hit = r.headers.get('x-cache', '').startswith('HIT')
    te = r.headers.get('transfer-encoding')
    if soak and ((te and cls) or len(set(cls)) > 1):
        soak.violate('cuttle sent ambiguous framing',
                     'Transfer-Encoding %r, Content-Length %r' % (te, cls))
    if 'x-soak-interim' in r.headers:
        r.bad.append(('an interim reply\'s fields in the final reply',
                      repr(head[:300])))
    if http10 and te is not None:
        r.bad.append(('Transfer-Encoding sent to an HTTP/1.0 client',
                      'Transfer-Encoding: %s' % te))
    codings = [c.strip().lower() for c in te.split(',')] if te else []
    chunked = codings[-1:] == ['chunked']
    r.codings = codings[:-1] if chunked else codings
    body = []
    got = 0

    async def take(n):
        nonlocal got
        while n > 0:
            k = min(n, pace[0]) if pace else n
            if want is not None:
                if got >= want:
                    raise _ClientAbort
                k = min(k, want - got)
            b = await reader.readexactly(k)
            body.append(b)
            got += k
            n -= k
            if pace:
                await asyncio.sleep(pace[1])

    try:
        if method == 'HEAD' or r.status in (204, 304):
            r.complete = True
        elif any(c not in ('gzip', 'x-gzip') for c in r.codings):
            r.err = 'transfer-coding %r' % te
            return r
        elif chunked:
            while True:
                ln = await reader.readuntil(b'\r\n')
                n = int(ln.split(b';')[0], 16)
                if n == 0:
                    while (await reader.readuntil(b'\r\n')) != b'\r\n':
                        pass
                    break
                await take(n)
                if await reader.readexactly(2) != b'\r\n':
                    r.err = 'bad chunk end'
                    if soak:
                        soak.violate('cuttle sent bad chunked framing',
                                     'no CRLF after a chunk')
                    return r
            r.complete = True
        elif cls and not te:
            await take(int(cls[0]))
            r.complete = True
        else:
            r.delimited = True
            while True:
                k = pace[0] if pace else 1 << 20
                b = await reader.read(k)
                if not b:
                    break
                body.append(b)
                got += len(b)
                if want is not None and got >= want:
                    raise _ClientAbort
                if pace:
                    await asyncio.sleep(pace[1])
            r.complete = True
    except _ClientAbort:
        r.err = 'aborted by the client'
    except asyncio.IncompleteReadError as e:
        body.append(e.partial)
        r.err = 'eof inside the body'
    except ConnectionError as e:
        r.err = 'reset inside the body (%s)' % e
    except (ValueError, asyncio.LimitOverrunError) as e:
        r.err = 'bad chunk line (%s)' % e
        if soak:
            soak.violate('cuttle sent bad chunked framing', str(e))
    r.body = b''.join(body)
    if r.codings and method != 'HEAD' and r.status not in (204, 304):
        r.body = decode_codings(r, r.body)
    return r


async def stray_bytes(reader, wait):
    """Bytes that arrive on an idle connection within wait seconds after
    a complete reply (none should: the client asked for nothing); b''
    when the connection ended, None when nothing came."""
    try:
        return await asyncio.wait_for(reader.read(4096), wait)
    except asyncio.TimeoutError:
        return None
    except ConnectionError:
        return b''


class Clients:
    def __init__(self, soak, origin, proxy_port, refused_port):
        self.s = soak
        self.origin = '127.0.0.1:%d' % origin.port
        self.refused = '127.0.0.1:%d' % refused_port
        self.pport = proxy_port
        self.catalog = self.make_catalog()
        self.good = [p for p in self.catalog if parse_path(p)[0] in GOOD]
        self.big = [p for p in self.good if parse_path(p)[3] >= 200000]
        self.small = [p for p in self.good if parse_path(p)[3] <= 300000 and
                      parse_path(p)[0] == 'n']

    def make_catalog(self):
        rng = random.Random(self.s.args.seed + 1)
        cat = []
        kinds = (['n'] * 80 + ['s'] * 5 + ['r'] * 3 + ['ls'] * 3 +
                 ['ll'] * 2 + ['kc'] * 3 + ['g'] * 3 + ['x'] * 1)
        for name, kind in SHAPES.items():
            if kind and name in self.s.shapes:
                kinds += [kind] * 2
        for i in range(900):
            kind = rng.choice(kinds)
            x = rng.random()
            if x < 0.70:
                size = rng.choice((0, 1, 100, 1000, 4095, 4096, 16384,
                                   rng.randrange(0, 16384)))
            elif x < 0.90:
                size = rng.randrange(16384, 262144)
            elif x < 0.98:
                size = rng.randrange(262144, 1 << 20)
            else:
                size = rng.randrange(1 << 20, 3 << 20)
            cache = rng.choice('cccchup')
            frame = rng.choice('llkke')
            if kind == 'g':
                frame = rng.choice('123456')
            elif kind in ('r', 'ls', 'll'):
                frame = 'l' if kind != 'r' else rng.choice('lk')
                size = max(size, 1000)
            elif kind == 'kc':
                frame = 'k'
                size = max(size, 1000)
            if kind in CUT or kind == 'll':
                cache = 'c'
                size = min(size, 16384) if kind == 'll' else size
            if kind in ('t', 'ce'):
                frame = 'k'
            elif kind == 'h0':
                frame = rng.choice('le')
            elif kind == 'nb':
                frame, size = rng.choice('1234'), 0
            elif kind == 'cn':
                cache = rng.choice('cchup')
            elif kind == 'p6':
                frame = 'l'
            elif kind == 'tg':
                frame = rng.choice('ek')
                size = min(size, 1 << 20)
            elif kind == 'ex':
                cache = rng.choice('cchhup')
            cat.append('/%s/%s/%s/%d/%d' % (kind, cache, frame, size, i))
        return cat

    def pick(self, pool=None):
        pool = pool or self.catalog
        # Skewed toward the front: repeats make hits.
        i = int(len(pool) * (self.s.rng.random() ** 2.5))
        return pool[min(i, len(pool) - 1)]

    def url(self, path):
        host = self.refused if path.startswith('/x/') else self.origin
        return host, 'http://%s%s' % (host, path)

    def request(self, method, path, close=False, body=None, chunked=False,
                extra=(), version='1.1'):
        host, url = self.url(path)
        h = ['%s %s HTTP/%s' % (method, url, version), 'Host: ' + host,
             'User-Agent: cuttle-soak']
        if close:
            h.append('Connection: close')
        h += extra
        data = b''
        if body is not None:
            if chunked:
                h.append('Transfer-Encoding: chunked')
                data = Origin.chunked(body, self.s.rng) + b'0\r\n\r\n'
            else:
                h.append('Content-Length: %d' % len(body))
                data = body
        return ('\r\n'.join(h) + '\r\n\r\n').encode() + data

    async def connect(self, rcvbuf=None, limit=1 << 18):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.sock_connect(sock, ('127.0.0.1', self.pport)), 10)
            return await asyncio.open_connection(sock=sock, limit=limit)
        except (OSError, asyncio.TimeoutError) as e:
            sock.close()
            self.s.violate('cuttle refused or dropped a connection',
                           'connect: %r' % e)
            await asyncio.sleep(0.5)
            return None, None

    def judge(self, client, path, method, r, aborted=False, cond=False):
        """Check one reply against what the origin does for path.  cond:
        the request carried a validator the origin's matches."""
        s = self.s
        kind, cache, frame, size = parse_path(path)
        s.by_kind[kind] += 1
        s.n['replies'] += 1
        for st in r.interims:
            s.interims[st] += 1
        if r.status is None:
            s.n['no reply'] += 1
            if kind in GOOD and not aborted:
                s.violate('no reply for a good URL',
                          '%s client, %s %s: %s' % (client, method, path,
                                                    r.err))
            return
        s.status[r.status] += 1
        if r.hit:
            s.hits += 1
        if r.delimited and r.complete and r.status == 200 and \
                method != 'HEAD' and \
                len(r.body) < s.bodies.length(path, size) and \
                s.bodies.check_prefix(path, size, r.body) is None:
            # Close-delimited (as to HTTP/1.0 clients): a cut cannot
            # be told from the end.  A prefix is a cut reply.
            r.complete = False
            r.err = 'closed early (close-delimited)'
        where = '%s client, %s %s, %d %s, X-Cache %r' % (
            client, method, path, r.status,
            'complete' if r.complete else 'cut: %s' % r.err,
            r.headers.get('x-cache'))
        for name, detail in r.bad:
            s.violate(name, where + ': ' + detail)
        if r.status == 200 and r.hit and cache in 'up':
            s.violate('uncacheable reply served as a hit', where)
        # RFC 9111 3.1, 7.3: a hit carries the stored Set-Cookie, as the
        # origin sent it for this URL, never altered.
        if kind == 'sc' and r.hit and r.cookies and (
                not COOKIE_RE.match(r.cookies[0]) or
                r.cookies[1:] not in ([], [OTHER_COOKIE])):
            s.violate('a hit\'s Set-Cookie is not one the origin sent',
                      where + ': ' + ' | '.join(r.cookies))
        if r.status == 304 and kind == 'cn' and not cond:
            s.violate('304 to a request without a matching validator', where)
        elif kind in GOOD and r.status != 200 and not \
                (kind == 'cn' and r.status == 304):
            s.violate('error for a good URL', where)
        if kind == 'nb' and r.status != 204 and r.status < 500:
            s.violate('a 204 relayed as another status', where)
        if kind in ('p6', 'tg') and r.status not in (200, 206) and \
                r.status < 500:
            s.violate('unexpected status for a %s reply' % (
                '206' if kind == 'p6' else 'gzip-coded'), where)
        if r.codings and kind != 'tg':
            s.violate('a transfer-coding the origin did not send', where)
        # g/5 is a good header section, then a broken chunked body: a
        # cut kind once the 200 has gone out.
        cut = kind in CUT or (kind == 'g' and frame == '5')
        # Close-delimited, a g/5 whose good chunk held the whole body
        # cannot show that the chunk after it was bad (the body is
        # still checked below).
        if (cut or kind in BAD) and r.status == 200 and r.complete and \
                (method != 'HEAD' or (kind in BAD and not cut)) and \
                not (r.delimited and kind == 'g' and frame == '5'):
            s.violate('cut or broken reply served as complete 200' +
                      (' HIT' if r.hit else ''), where)
            return
        if kind in BAD and not cut and 200 <= r.status < 300:
            s.violate('garbage or refused origin gave a 2xx', where)
        if r.status == 206 and kind == 'p6':
            self.judge_partial(path, size, method, r, where)
            return
        if r.status in (204, 304):
            s.n['204 and 304 replies'] += 1
            return
        if r.status != 200:
            s.n['error replies'] += 1
            return
        if method == 'HEAD':
            cl = r.headers.get('content-length')
            if cl is not None and kind != 'p6' and \
                    int(cl) != s.bodies.length(path, size):
                s.violate('HEAD reply with a wrong Content-Length', where)
            s.n['HEAD checked'] += 1
            return
        if r.complete:
            bad = s.bodies.check(path, size, r.body)
            if bad:
                s.violate('completed body differs from the origin\'s' +
                          (' (a HIT)' if r.hit else ''), where + ': ' + bad)
            else:
                s.n['checksums verified'] += 1
                if r.hit:
                    s.n['hits verified'] += 1
                if kind in UNUSUAL:
                    s.n['unusual shapes verified'] += 1
            return
        bad = s.bodies.check_prefix(path, size, r.body)
        if bad:
            s.violate('cut body differs from the origin\'s prefix',
                      where + ': ' + bad)
        else:
            s.n['prefixes verified'] += 1
        if kind in GOOD and not aborted:
            s.violate('good URL cut short', where)
        if cut:
            s.n['cut replies cut'] += 1
            if r.hit:
                s.n['cut replies cut, X-Cache HIT (collapsed)'] += 1

    def judge_partial(self, path, size, method, r, where):
        """A 206 the origin sent unasked: its Content-Range as sent and
        the bytes of that range."""
        s = self.s
        full = s.bodies.body(path, size)
        m = re.match(r'bytes (\d+)-(\d+)/(\d+)$',
                     r.headers.get('content-range', ''))
        if not m or int(m.group(3)) != len(full) or \
                int(m.group(1)) > int(m.group(2)):
            s.violate('206 with a Content-Range the origin did not send',
                      where + ': %r' % r.headers.get('content-range'))
            return
        a, b = int(m.group(1)), int(m.group(2))
        if method == 'HEAD':
            return
        want = full[a:b + 1]
        if r.complete and r.body != want:
            s.violate('206 body differs from the origin\'s range',
                      where + ': %d bytes for %d-%d' % (len(r.body), a, b))
        elif not r.complete and r.body != want[:len(r.body)]:
            s.violate('cut 206 body differs from the origin\'s range',
                      where)
        else:
            s.n['206 ranges verified'] += 1

    async def run_one(self, client, reader, writer, method, path, close=False,
                      pace=None, want=None, post=False, expect=False,
                      cond=None, http10=False, keepalive=False):
        """Send one request and judge its reply; True if the connection
        may carry another.  expect: send Expect: 100-continue and wait
        (a second at most, as curl does) for the 100 before the body;
        cond: a validator to send ('inm', 'inm-miss', 'ims'); http10:
        an HTTP/1.0 request (keepalive: with Connection: keep-alive)."""
        s = self.s
        body = None
        chunked = False
        extra = []
        if post:
            n = s.rng.choice((0, 10, 1000, 70000, 300000))
            p = os.urandom(n)
            body = ('REQ %d %s\n' % (n, hashlib.sha256(p).hexdigest())
                    ).encode() + p
            chunked = not http10 and s.rng.random() < 0.5
            if expect:
                extra.append('Expect: 100-continue')
        matching = False
        if cond == 'inm':
            extra.append('If-None-Match: "other", ' + cn_etag(path))
            matching = True
        elif cond == 'inm-miss':
            extra.append('If-None-Match: "not-it"')
        elif cond == 'ims':
            extra.append('If-Modified-Since: ' + rfc1123(CN_LAST_MODIFIED))
            matching = True
        if http10 and keepalive:
            extra.append('Connection: keep-alive')
        wire = self.request(method, path, close, body, chunked, extra,
                            '1.0' if http10 else '1.1')
        pre = None
        sent_body = True
        try:
            if expect and not http10:
                cut = wire.index(b'\r\n\r\n') + 4
                writer.write(wire[:cut])
                await writer.drain()
                try:
                    pre = await asyncio.wait_for(
                        reader.readuntil(b'\r\n\r\n'), 1)
                except asyncio.TimeoutError:
                    s.n['Expect: no 100 within 1 s'] += 1
                except (asyncio.IncompleteReadError,
                        asyncio.LimitOverrunError):
                    pass
                if pre is not None and re.match(rb'HTTP/1\.[01] 1\d\d ',
                                                pre):
                    s.n['Expect: 100 before the body'] += 1
                    s.interims[int(pre[9:12])] += 1
                    pre = None
                elif pre is not None:
                    # A final reply without the body: the body is not
                    # sent, and the connection is not used again.
                    s.n['Expect: final reply before the body'] += 1
                    sent_body = False
                if sent_body:
                    writer.write(wire[cut:])
                    await writer.drain()
            else:
                writer.write(wire)
                await writer.drain()
        except ConnectionError:
            s.count(False)
            return False
        try:
            r = await asyncio.wait_for(
                read_response(reader, method, pace, want, s, http10, pre),
                REPLY_DEADLINE + (60 if pace else 0))
        except asyncio.TimeoutError:
            s.count(False)
            s.violate('reply stalled', '%s client, %s %s: nothing '
                      'for %d s' % (client, method, path,
                                    REPLY_DEADLINE))
            return False
        s.count(r.status is not None)
        self.judge(client, path, method, r, aborted=want is not None,
                   cond=matching)
        if not r.complete or not sent_body:
            return False
        kind = parse_path(path)[0]
        conn = r.headers.get('connection', '').lower()
        if http10 and not (keepalive and 'keep-alive' in conn):
            # RFC 9112 9.3: this connection ends after the reply.
            rest = await stray_bytes(reader, 5)
            if rest is None:
                s.violate('HTTP/1.0 connection left open after the reply',
                          '%s %s, %d' % (method, path, r.status))
            elif rest:
                s.violate('bytes after a complete reply',
                          '%s client, %s %s, %d: %r' % (
                              client, method, path, r.status, rest[:120]))
            return False
        if kind in UNUSUAL or r.interims or method == 'HEAD':
            rest = await stray_bytes(reader, 0.03)
            if rest:
                s.violate('bytes after a complete reply',
                          '%s client, %s %s, %d: %r' % (
                              client, method, path, r.status, rest[:120]))
            if rest is not None:
                return False
        return not close and 'close' not in conn

    @staticmethod
    def close(writer, reset=False):
        if writer is None:
            return
        if reset:
            try:
                writer.get_extra_info('socket').setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack('ii', 1, 0))
            except OSError:
                pass
        writer.transport.abort()

    # The kinds of client.  Each loops until the soak stops.

    async def normal(self):
        s = self.s
        while not s.stop:
            reader, writer = await self.connect()
            if reader is None:
                continue
            s.n['connections'] += 1
            for i in range(s.rng.randint(1, 20)):
                path = self.pick()
                kind = parse_path(path)[0]
                post = kind in ('n', 'i') and s.rng.random() < 0.05
                expect = post and 'expect' in s.shapes and \
                    s.rng.random() < 0.4
                method = 'POST' if post else \
                    'HEAD' if s.rng.random() < 0.03 else 'GET'
                cond = None
                if kind == 'cn' and s.rng.random() < 0.6:
                    cond = s.rng.choice(('inm', 'inm-miss', 'ims'))
                s.n['requests normal'] += 1
                if not await self.run_one('normal', reader, writer, method,
                                          path, post=post, expect=expect,
                                          cond=cond) or s.stop:
                    break
                await asyncio.sleep(s.rng.uniform(0, 2 * THINK))
            self.close(writer)

    async def http10(self):
        """HTTP/1.0 clients: never a 1xx, never a transfer-coding, the
        connection closed after the reply unless kept alive."""
        s = self.s
        while not s.stop:
            reader, writer = await self.connect()
            if reader is None:
                continue
            s.n['connections'] += 1
            keep = s.rng.random() < 0.3
            for _ in range(s.rng.randint(1, 4) if keep else 1):
                path = self.pick()
                post = parse_path(path)[0] in ('n', 'i') and \
                    s.rng.random() < 0.1
                method = 'POST' if post else \
                    'HEAD' if s.rng.random() < 0.05 else 'GET'
                s.n['requests http/1.0'] += 1
                if not await self.run_one(
                        'http/1.0', reader, writer, method, path, post=post,
                        expect=post and s.rng.random() < 0.5, http10=True,
                        keepalive=keep) or s.stop:
                    break
                await asyncio.sleep(s.rng.uniform(0, 2 * THINK))
            self.close(writer)
            await asyncio.sleep(s.rng.uniform(0, 4 * THINK))

    async def slow(self):
        s = self.s
        while not s.stop:
            reader, writer = await self.connect(rcvbuf=4096, limit=16384)
            if reader is None:
                continue
            s.n['connections'] += 1
            s.n['requests slow reader'] += 1
            await self.run_one('slow reader', reader, writer, 'GET',
                               self.pick(self.big),
                               pace=(4096, s.rng.choice((0.002, 0.01, 0.02))))
            self.close(writer)

    async def abort(self):
        s = self.s
        while not s.stop:
            reader, writer = await self.connect()
            if reader is None:
                continue
            s.n['connections'] += 1
            s.n['requests abort'] += 1
            path = self.pick(self.big if s.rng.random() < 0.7 else None)
            if s.rng.random() < 0.15:
                # Gone before the reply: cuttle may or may not have
                # parsed it.
                writer.write(self.request('GET', path))
                await asyncio.sleep(s.rng.choice((0, 0.001, 0.05)))
                s.count(False)
                s.n['aborted before reply'] += 1
            else:
                size = parse_path(path)[3]
                await self.run_one('abort', reader, writer, 'GET', path,
                                   want=s.rng.randrange(0, size + 1))
            self.close(writer, reset=s.rng.random() < 0.5)
            await asyncio.sleep(0.02)

    async def pipeline(self):
        s = self.s
        while not s.stop:
            reader, writer = await self.connect()
            if reader is None:
                continue
            s.n['connections'] += 1
            for _ in range(s.rng.randint(1, 4)):
                reqs = []
                for _ in range(s.rng.randint(2, 8)):
                    reqs.append(('HEAD' if s.rng.random() < 0.15 else 'GET',
                                 self.pick(self.small)))
                bad = None
                wire = b''.join(self.request(m, p) for m, p in reqs)
                if s.rng.random() < 0.2:
                    bad = s.rng.choice(list(MALFORMED))
                    if bad == 'tls-hello':
                        bad = 'obs-fold'
                    wire += MALFORMED[bad][0].replace(
                        '{O}', self.origin).encode('latin1')
                s.n['requests pipelined'] += len(reqs)
                try:
                    writer.write(wire)
                    await writer.drain()
                except ConnectionError:
                    s.count(False, len(reqs))
                    break
                ok = True
                for i, (m, p) in enumerate(reqs):
                    try:
                        r = await asyncio.wait_for(
                            read_response(reader, m, soak=s), REPLY_DEADLINE)
                    except asyncio.TimeoutError:
                        s.violate('reply stalled', 'pipelined %s %s' % (m, p))
                        r = Resp()
                    s.count(r.status is not None)
                    self.judge('pipeline', p, m, r)
                    if not r.complete:
                        s.count(False, len(reqs) - i - 1)
                        ok = False
                        break
                if bad and ok:
                    ok = await self.check_malformed(reader, bad, 'pipeline')
                if not ok or s.stop:
                    break
                await asyncio.sleep(s.rng.uniform(0, 4 * THINK))
            self.close(writer)
            await asyncio.sleep(s.rng.uniform(0, 4 * THINK))

    async def malformed(self):
        s = self.s
        while not s.stop:
            name = s.rng.choice(list(MALFORMED))
            reader, writer = await self.connect()
            if reader is None:
                continue
            s.n['connections'] += 1
            try:
                writer.write(MALFORMED[name][0].replace(
                    '{O}', self.origin).encode('latin1'))
                await writer.drain()
            except ConnectionError:
                pass
            await self.check_malformed(reader, name, 'malformed')
            self.close(writer)
            await asyncio.sleep(0.05)

    async def check_malformed(self, reader, name, client):
        s = self.s
        _, statuses, counted = MALFORMED[name]
        s.n['requests malformed'] += 1
        s.by_kind['malformed ' + name] += 1
        try:
            r = await asyncio.wait_for(read_response(reader, 'GET'),
                                       5 if statuses else 1)
        except asyncio.TimeoutError:
            r = None
        if not statuses:
            s.count(False, counted)
            if r is not None and r.status is not None:
                s.violate('reply to a request that never ended',
                          '%s: %d' % (name, r.status))
            return False
        if r is None or r.status is None:
            s.count(False, counted)
            s.violate('malformed request not answered',
                      '%s (%s client): %s' % (name, client,
                                              r.err if r else 'timeout'))
            return False
        s.count(True, counted)
        s.status[r.status] += 1
        s.n['malformed refused'] += 1
        if r.status not in statuses:
            s.violate('malformed request not refused as expected',
                      '%s (%s client): %d, want %s' % (name, client, r.status,
                                                       statuses))
        # The connection must end: what follows could be smuggled.
        try:
            rest = await asyncio.wait_for(reader.read(1 << 16), 5)
            if rest:
                s.violate('bytes after the refusal of a malformed request',
                          '%s: %r' % (name, rest[:80]))
        except asyncio.TimeoutError:
            s.violate('connection left open after a malformed request', name)
        except ConnectionError:
            pass
        return False

    async def idle(self):
        """Connections that say nothing, or half a request, or go quiet
        between requests: cuttle must close the silent ones in time
        (request_timeout) and serve the rest."""
        s = self.s
        while not s.stop:
            conns = []
            for _ in range(s.rng.randint(3, 10)):
                reader, writer = await self.connect()
                if reader is None:
                    break
                s.n['connections'] += 1
                mode = s.rng.choice(('silent', 'partial', 'partial-finish',
                                     'between'))
                conns.append(asyncio.ensure_future(
                    self.idle_one(mode, reader, writer)))
            s.n['idle connections'] += len(conns)
            if conns:
                await asyncio.gather(*conns)

    async def idle_one(self, mode, reader, writer):
        s = self.s
        path = self.pick(self.small)
        try:
            if mode == 'between':
                if not await self.run_one('idle', reader, writer, 'GET', path):
                    return
                await asyncio.sleep(s.rng.uniform(0.5, IDLE_PCONN_TIMEOUT - 5))
                s.n['requests idle'] += 1
                await self.run_one('idle', reader, writer, 'GET', path)
                return
            req = self.request('GET', path)
            if mode == 'partial-finish':
                # Two parts, a pause below request_timeout: served.
                cut = s.rng.randrange(1, len(req) - 1)
                writer.write(req[:cut])
                await asyncio.sleep(s.rng.uniform(0.2, REQUEST_TIMEOUT - 4))
                s.n['requests idle'] += 1
                try:
                    writer.write(req[cut:])
                    await writer.drain()
                    r = await asyncio.wait_for(
                        read_response(reader, 'GET', soak=s), REPLY_DEADLINE)
                except (ConnectionError, asyncio.TimeoutError) as e:
                    r = Resp()
                    r.err = repr(e)
                s.count(r.status is not None)
                self.judge('idle', path, 'GET', r)
                return
            if mode == 'partial':
                writer.write(req[:s.rng.randrange(1, len(req) - 4)])
            t0 = now()
            try:
                got = await asyncio.wait_for(reader.read(1 << 16),
                                             REQUEST_TIMEOUT + 10)
                if got:
                    s.violate('reply to an unfinished request', repr(got[:80]))
                s.n['idle closed by cuttle'] += 1
                s.n['idle close seconds x10'] += int((now() - t0) * 10)
            except asyncio.TimeoutError:
                s.violate('request_timeout not enforced',
                          '%s connection still open after %d s' %
                          (mode, REQUEST_TIMEOUT + 10))
            except ConnectionError:
                s.n['idle closed by cuttle'] += 1
        finally:
            self.close(writer)


# -- cuttle and its figures ---------------------------------------------------

def proc_rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for ln in f:
                if ln.startswith('VmRSS:'):
                    return int(ln.split()[1])
    except OSError:
        pass
    return 0


def proc_fds(pid):
    try:
        return len(os.listdir('/proc/%d/fd' % pid))
    except OSError:
        return -1


def proc_fd_list(pid):
    out = []
    try:
        for fd in sorted(os.listdir('/proc/%d/fd' % pid), key=int):
            try:
                out.append('%s -> %s' % (fd, os.readlink(
                    '/proc/%d/fd/%s' % (pid, fd))))
            except OSError:
                pass
    except OSError:
        pass
    return out


def tcp_states(pid, port):
    """Socket states of cuttle's fds, from /proc/net/tcp (diagnostics)."""
    inodes = set()
    for ln in proc_fd_list(pid):
        m = re.search(r'socket:\[(\d+)\]', ln)
        if m:
            inodes.add(m.group(1))
    names = {'01': 'ESTABLISHED', '02': 'SYN_SENT', '04': 'FIN_WAIT1',
             '05': 'FIN_WAIT2', '06': 'TIME_WAIT', '07': 'CLOSE',
             '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN',
             '0B': 'CLOSING'}
    c = collections.Counter()
    for fn in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(fn) as f:
                next(f)
                for ln in f:
                    p = ln.split()
                    if p[9] in inodes:
                        lport = int(p[1].split(':')[1], 16)
                        side = 'client' if lport == port else 'server'
                        c['%s %s' % (side, names.get(p[3], p[3]))] += 1
        except OSError:
            pass
    return dict(c)


async def mgr_counters(port):
    """The counters page as a dict, or raise."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection('127.0.0.1', port), 10)
    try:
        writer.write(('GET http://127.0.0.1:%d/squid-internal-mgr/counters '
                      'HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close'
                      '\r\n\r\n' % (port, port)).encode())
        r = await asyncio.wait_for(read_response(reader, 'GET'), 10)
    finally:
        writer.transport.abort()
    if r.status != 200 or not r.complete:
        raise RuntimeError('counters: %s %s' % (r.status, r.err))
    out = {}
    for ln in r.body.decode('latin1').splitlines():
        m = re.match(r'(\S+) = ([0-9.]+)$', ln)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Run:
    def __init__(self, args):
        self.args = args
        self.s = Soak(args)
        self.tmp = tempfile.mkdtemp(prefix='cuttle-soak.')
        self.port = None
        self.baseline_fds = None
        self.mgr_ok = 0
        self.samples = 0

    def start_cuttle(self, origin_port):
        self.port = free_port()
        user = pwd.getpwuid(os.geteuid()).pw_name
        conf = os.path.join(self.tmp, 'cuttle.conf')
        with open(conf, 'w') as f:
            f.write('\n'.join([
                '# written by test-suite/soak/soak.py',
                'http_port 127.0.0.1:%d' % self.port,
                'visible_hostname soak.test',
                'cache_mem %d MB' % CACHE_MEM_MB,
                'maximum_object_size 8 MB',
                'maximum_object_size_in_memory 4 MB',
                'access_log %s/access.log' % self.tmp,
                'pid_filename %s/cuttle.pid' % self.tmp,
                'cache_effective_user %s' % user,
                'dns_nameservers 127.0.0.1:1',
                'request_timeout %d seconds' % REQUEST_TIMEOUT,
                'client_idle_pconn_timeout %d seconds' % IDLE_PCONN_TIMEOUT,
                'pconn_timeout %d seconds' % PCONN_TIMEOUT,
                'connect_timeout 5 seconds',
                'read_timeout 20 seconds',
                'shutdown_lifetime 2 seconds',
                'debug_options ALL,1',
                '']))
        self.stderr = open(os.path.join(self.tmp, 'cuttle.stderr'), 'w')
        self.s.proc = subprocess.Popen(
            [self.args.cuttle, '-N', '-f', conf], stdin=subprocess.DEVNULL,
            stdout=self.stderr, stderr=self.stderr, cwd=self.tmp)
        return conf

    def alive(self):
        p = self.s.proc
        if p.poll() is not None:
            if not self.s.fatal:
                self.s.fatal = True
                self.s.violate('cuttle died', 'exit status %s' % p.returncode)
            return False
        return True

    async def wait_ready(self):
        for _ in range(100):
            if not self.alive():
                return False
            try:
                await mgr_counters(self.port)
                return True
            except (OSError, RuntimeError, asyncio.TimeoutError):
                await asyncio.sleep(0.1)
        return False

    async def monitor(self, t_end):
        s = self.s
        pid = s.proc.pid
        bound = (CACHE_MEM_MB + RSS_SLACK_MB) * 1024
        last_mgr = last_print = now()
        while not s.stop:
            await asyncio.sleep(0.5)
            if not self.alive():
                s.stop = True
                return
            rss = proc_rss_kb(pid)
            fds = proc_fds(pid)
            s.peak_rss = max(s.peak_rss, rss)
            s.peak_fds = max(s.peak_fds, fds)
            self.samples += 1
            if rss > bound:
                s.violate('RSS over bound', '%d KB > %d KB' % (rss, bound))
            if now() - last_mgr >= 5:
                last_mgr = now()
                try:
                    await mgr_counters(self.port)
                    self.mgr_ok += 1
                    s.sure += 1
                except (OSError, RuntimeError, asyncio.TimeoutError) as e:
                    s.maybe += 1
                    if self.alive():
                        s.violate('cuttle did not answer the manager',
                                  repr(e))
            if now() - last_print >= 10:
                last_print = now()
                print('soak: %3ds left: %d replies, %d hits, %d verified, '
                      '%d violations, fds %d, RSS %d MB' % (
                          max(0, t_end - now()), s.n['replies'], s.hits,
                          s.n['checksums verified'],
                          sum(len(v) for v in s.violations.values()), fds,
                          rss // 1024), flush=True)
            if now() >= t_end:
                s.stop = True

    async def main(self):
        s = self.s
        args = self.args
        origin = Origin(s)
        await origin.start()
        refuser = socket.socket()	# bound, never listening: refuses
        refuser.bind(('127.0.0.1', 0))
        refused_port = refuser.getsockname()[1]
        conf = self.start_cuttle(origin.port)
        print('soak: cuttle %s pid %d on 127.0.0.1:%d, origin :%d, refusing '
              ':%d, %d s, seed %d, dir %s' % (
                  args.cuttle, s.proc.pid, self.port, origin.port,
                  refused_port, args.seconds, args.seed, self.tmp),
              flush=True)
        print('soak: unusual shapes: %s' % (
            ', '.join(n for n in SHAPES if n in s.shapes) or 'none'),
            flush=True)
        if not await self.wait_ready():
            s.violate('cuttle did not start', 'see %s/cuttle.stderr' %
                      self.tmp)
            return conf
        s.sure += 1			# wait_ready's manager request
        await asyncio.sleep(0.3)
        self.baseline_fds = proc_fds(s.proc.pid)
        base_list = proc_fd_list(s.proc.pid)
        cl = Clients(s, origin, self.port, refused_port)
        t0 = now()
        t_end = t0 + args.seconds
        mix = ([cl.normal] * 8 + [cl.slow] * 3 + [cl.abort] * 3 +
               [cl.pipeline] * 2 + [cl.malformed] * 2 + [cl.idle] * 4)
        if 'client10' in s.shapes:
            mix += [cl.http10] * 2
        tasks = [asyncio.ensure_future(f()) for f in mix]
        mon = asyncio.ensure_future(self.monitor(t_end))
        await mon
        s.stop = True
        # Clients finish what they are doing (bounded), then stop.
        done, pending = await asyncio.wait(tasks, timeout=90)
        for t in pending:
            t.cancel()
        if pending:
            s.violate('clients still busy 90 s after the load stopped',
                      '%d' % len(pending))
        for t in done:
            if t.exception() is not None:
                s.violate('soak client crashed (a soak bug, or a reply it '
                          'could not handle)', repr(t.exception()))
        load_secs = now() - t0
        if s.fatal:
            refuser.close()
            return conf
        # Load is over: the origin closes its side; cuttle must drop
        # back to its baseline of fds.
        await origin.close_all()
        refuser.close()
        t_idle = now()
        fds = proc_fds(s.proc.pid)
        limit = self.baseline_fds + FD_SLACK
        t_ok = None
        while now() - t_idle < PCONN_TIMEOUT + REQUEST_TIMEOUT + 20:
            fds = proc_fds(s.proc.pid)
            if not self.alive() or fds <= self.baseline_fds:
                break
            if fds <= limit:
                # Within the slack: give it a few seconds more to settle.
                t_ok = t_ok or now()
                if now() - t_ok > 5:
                    break
            await asyncio.sleep(0.5)
        self.fd_states = tcp_states(s.proc.pid, self.port)
        self.fds_after = fds
        self.fds_after_secs = now() - t_idle
        if self.alive() and fds > limit:
            s.violate('fd leak', '%d fds %.0f s after the load stopped, '
                      'baseline %d (+%d slack); sockets by state %s; fds '
                      'now: %s; at start: %s' % (
                          fds, self.fds_after_secs, self.baseline_fds,
                          FD_SLACK, tcp_states(s.proc.pid, self.port),
                          '; '.join(proc_fd_list(s.proc.pid)[:40]),
                          '; '.join(base_list)))
        # The counters: this request is counted too.
        self.counters = {}
        if self.alive():
            try:
                self.counters = await mgr_counters(self.port)
                s.sure += 1
            except (OSError, RuntimeError, asyncio.TimeoutError) as e:
                s.violate('cuttle did not answer the manager', repr(e))
        c = self.counters
        if c:
            req = c.get('client_http.requests', -1)
            if not s.sure <= req <= s.sure + s.maybe:
                s.violate('client_http.requests does not add up',
                          '%d, the soak expects %d..%d (%d requests it '
                          'knows were parsed, %d it cannot know)' % (
                              req, s.sure, s.sure + s.maybe, s.sure,
                              s.maybe))
            hits = c.get('client_http.hits', -1)
            if not s.hits <= hits <= s.hits + s.maybe:
                s.violate('client_http.hits does not add up',
                          '%d, the soak saw %d X-Cache: HIT (and %d '
                          'replies it did not see)' % (hits, s.hits,
                                                       s.maybe))
        self.check_access_log()
        self.load_secs = load_secs
        return conf

    def check_access_log(self):
        """A cut URL logged as a 200 hit that sent at least the whole
        body is a truncated body served from the cache as if complete,
        whether or not a client noticed.  (A GET that joined a fill and
        was cut, or whose client left, sent less than that.)"""
        s = self.s
        self.log_lines = 0
        self.log_cut_hits = 0
        try:
            f = open(os.path.join(self.tmp, 'access.log'), errors='replace')
        except OSError as e:
            s.violate('no access.log', str(e))
            return
        with f:
            for ln in f:
                self.log_lines += 1
                p = ln.split()
                if len(p) < 7 or '/' not in p[3]:
                    continue
                code, status = p[3].split('/', 1)
                m = re.match(r'https?://[^/]+(/.*)', p[6])
                info = parse_path(m.group(1)) if m else None
                if info and info[0] in CUT and 'HIT' in code and \
                        status == '200' and p[5] == 'GET' and \
                        int(p[4]) >= s.bodies.length(m.group(1), info[3]):
                    self.log_cut_hits += 1
                    s.violate('cut URL logged as a 200 hit', ln.strip())
                # Vary: * never matches a stored reply (RFC 9111 4.1);
                # an Expires of 0, past or invalid is stale at once
                # (5.3), and these have no other freshness.  Joining a
                # fill (TCP_CF_HIT) is not serving from the cache.
                if info and (info[0] == 'vs' or (info[0] == 'ex' and
                                                  info[1] == 'h')) and \
                        code in ('TCP_MEM_HIT', 'TCP_STALE_HIT',
                                 'TCP_IMS_HIT'):
                    s.violate('Vary: * or expired reply served from the '
                              'cache', ln.strip())

    def stop_cuttle(self):
        p = self.s.proc
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(15)
        except subprocess.TimeoutExpired:
            self.s.violate('cuttle did not stop on SIGTERM', 'within 15 s')
            p.kill()
            p.wait()
            return
        if rc != 0:
            self.s.violate('cuttle exited badly on SIGTERM', 'status %d' % rc)

    def summary(self):
        s = self.s
        c = getattr(self, 'counters', {})
        pr = print
        pr('\n== cuttle fault soak: %s' % ('PASS' if not s.violations
                                            else 'FAIL'))
        pr('load: %.0f s; replies judged %d; connections %d' % (
            getattr(self, 'load_secs', 0), s.n['replies'],
            s.n['connections']))
        pr('requests by client: ' + ', '.join(
            '%s %d' % (k[9:], v) for k, v in sorted(s.n.items())
            if k.startswith('requests ')))
        pr('replies by origin kind: ' + ', '.join(
            '%s %d' % kv for kv in sorted(s.by_kind.items())
            if not kv[0].startswith('malformed')))
        pr('malformed requests by kind: ' + ', '.join(
            '%s %d' % (k[10:], v) for k, v in sorted(s.by_kind.items())
            if k.startswith('malformed')))
        pr('statuses: ' + ', '.join('%d: %d' % kv
                                    for kv in sorted(s.status.items())))
        pr('hits seen (X-Cache: HIT) %d, of which verified whole %d; '
           'checksums verified %d; cut prefixes verified %d; HEAD checked %d'
           % (s.hits, s.n['hits verified'], s.n['checksums verified'],
              s.n['prefixes verified'], s.n['HEAD checked']))
        pr('cut URLs cut as they should be %d (%d with X-Cache HIT, '
           'collapsed onto a fill that then failed); error replies %d; '
           'no reply %d; aborted before the reply %d' % (
               s.n['cut replies cut'],
               s.n['cut replies cut, X-Cache HIT (collapsed)'],
               s.n['error replies'], s.n['no reply'],
               s.n['aborted before reply']))
        if s.n['idle closed by cuttle']:
            pr('idle connections %d; closed by cuttle for silence %d, '
               'after %.1f s on average (request_timeout %d s)' % (
                   s.n['idle connections'], s.n['idle closed by cuttle'],
                   s.n['idle close seconds x10'] / 10.0 /
                   s.n['idle closed by cuttle'], REQUEST_TIMEOUT))
        pr('origin: %d requests received' % s.origin_reqs)
        pr('unusual shapes: %s; verified whole %d, 206 ranges verified %d, '
           '204 and 304 replies %d; interim replies reaching clients: %s; '
           'Expect: 100 before the body %d, no 100 within 1 s %d, final '
           'reply instead %d' % (
               ', '.join(n for n in SHAPES if n in s.shapes) or 'none',
               s.n['unusual shapes verified'], s.n['206 ranges verified'],
               s.n['204 and 304 replies'],
               ', '.join('%d: %d' % kv for kv in sorted(s.interims.items()))
               or 'none', s.n['Expect: 100 before the body'],
               s.n['Expect: no 100 within 1 s'],
               s.n['Expect: final reply before the body']))
        if c:
            pr('counters: client_http.requests %d (soak: %d..%d), '
               'client_http.hits %d (soak saw %d), client_http.errors %d, '
               'server.all.requests %d, cache.mem_objects %d, '
               'cache.mem_bytes %d, cache.evicted %d, aborted_requests %d'
               % (c.get('client_http.requests', -1), s.sure,
                  s.sure + s.maybe, c.get('client_http.hits', -1), s.hits,
                  c.get('client_http.errors', -1),
                  c.get('server.all.requests', -1),
                  c.get('cache.mem_objects', -1),
                  c.get('cache.mem_bytes', -1),
                  c.get('cache.evicted', -1), c.get('aborted_requests', -1)))
        pr('access.log: %d lines' % getattr(self, 'log_lines', 0))
        if self.baseline_fds is not None:
            pr('fds: baseline %d, peak %d, after load %s (%.1f s after it '
               'stopped; sockets then: %s)' % (
                   self.baseline_fds, s.peak_fds,
                   getattr(self, 'fds_after', '?'),
                   getattr(self, 'fds_after_secs', 0),
                   getattr(self, 'fd_states', {}) or 'none but listeners'))
        pr('RSS: peak %.1f MB, bound %d MB (cache_mem %d MB + %d MB); '
           'manager answered %d times during the load' % (
               s.peak_rss / 1024.0, CACHE_MEM_MB + RSS_SLACK_MB,
               CACHE_MEM_MB, RSS_SLACK_MB, self.mgr_ok))
        if s.violations:
            pr('VIOLATIONS:')
            for name, lst in sorted(s.violations.items(),
                                    key=lambda kv: kv[0] != 'cuttle died'):
                pr('  %s: %d' % (name, len(lst)))
                for d in lst[:5]:
                    pr('      ' + d[:2000])
            pr('cuttle stderr (last lines, %s/cuttle.stderr):' % self.tmp)
            try:
                with open(os.path.join(self.tmp, 'cuttle.stderr'),
                          errors='replace') as f:
                    for ln in f.readlines()[-25:]:
                        pr('  | ' + ln.rstrip())
            except OSError:
                pass
        return 1 if s.violations else 0


# -- self-test: the checks can fail -------------------------------------------

def self_test(args):
    """Feed judge() replies a broken proxy would give; each must raise
    its violation, and the good ones none.  Run by --self-test (and by
    every soak before it starts cuttle)."""
    s = Soak(args)
    s.quiet = True
    dummy = type('O', (), {'port': 1})()
    cl = Clients(s, dummy, 2, 3)
    b = s.bodies
    good = '/n/c/l/5000/1'
    cutp = '/r/c/l/5000/2'
    body = b.body(good, 5000)

    def resp(status, data, complete, hit=False, te=None):
        r = Resp()
        r.status, r.body, r.complete, r.hit = status, data, complete, hit
        r.headers = {'x-cache': ('HIT' if hit else 'MISS') + ' from x'}
        return r

    flipped = bytearray(body)
    flipped[-1] ^= 1
    cases = [
        ('whole', good, resp(200, body, True, True), None),
        ('cut good prefix', cutp, resp(200, b.body(cutp, 5000)[:2600],
                                       False), None),
        ('corrupt', good, resp(200, bytes(flipped), True, True),
         "completed body differs from the origin's (a HIT)"),
        ('short', good, resp(200, body[:-1], True),
         "completed body differs from the origin's"),
        ('other URL', good, resp(200, b.body('/n/c/l/5000/3', 5000), True),
         "completed body differs from the origin's"),
        ('forged', good, resp(200, b.body('/POISON/c/l/100/0', 100), True),
         "completed body differs from the origin's"),
        ('cut hit', cutp, resp(200, b.body(cutp, 5000)[:2600], True, True),
         'cut or broken reply served as complete 200 HIT'),
        ('cut whole', cutp, resp(200, b.body(cutp, 5000), True),
         'cut or broken reply served as complete 200'),
        ('no-store hit', '/n/u/l/10/4', resp(200, b.body('/n/u/l/10/4', 10),
                                             True, True),
         'uncacheable reply served as a hit'),
        ('good cut', good, resp(200, body[:100], False),
         'good URL cut short'),
        ('bad prefix', good, resp(200, body[:90] + b'x' * 10, False),
         "cut body differs from the origin's prefix"),
        ('error', good, resp(502, b'', True), 'error for a good URL'),
        ('garbage 200', '/g/c/1/10/5', resp(200, b'', False),
         'garbage or refused origin gave a 2xx'),
    ]
    # Replies as bytes on the wire, read by read_response and judged:
    # (name, path, wire, http10, cond, violation wanted).
    cnp = '/cn/c/l/500/6'
    cnb = b.body(cnp, 500)
    p6 = '/p6/c/l/500/7'
    p6b = b.body(p6, 500)
    tgp = '/tg/c/e/5000/1'
    gz = gzip.compress(b.body(tgp, 5000))

    def ok200(extra, data):
        return b'HTTP/1.1 200 OK\r\n' + extra + \
            b'Content-Length: %d\r\n\r\n' % len(data) + data
    i103 = b'HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n'
    wires = [
        ('interims then whole', good, i103 + i103 + ok200(b'', body), False,
         False, None),
        ('interim fields in the final', good,
         i103 + ok200(b'X-Soak-Interim: 103\r\n', body), False, False,
         "an interim reply's fields in the final reply"),
        ('interim as a header line', good,
         i103[:-2] + ok200(b'', body), False, False,
         'cuttle sent a header line without a colon'),
        ('1xx to HTTP/1.0', good, i103 + ok200(b'', body), True, False,
         'interim reply sent to an HTTP/1.0 client'),
        ('interim with framing', good,
         b'HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n' +
         ok200(b'', body), False, False, 'interim reply with framing fields'),
        ('chunked to HTTP/1.0', good,
         b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
         b'%x\r\n' % len(body) + body + b'\r\n0\r\n\r\n', True, False,
         'Transfer-Encoding sent to an HTTP/1.0 client'),
        ('304 unconditional', cnp, b'HTTP/1.1 304 Not Modified\r\n\r\n',
         False, False, '304 to a request without a matching validator'),
        ('304 conditional', cnp, b'HTTP/1.1 304 Not Modified\r\n\r\n',
         False, True, None),
        ('cn 200', cnp, ok200(b'', cnb), False, True, None),
        ('204 as 200', '/nb/c/2/0/8', ok200(b'', b''), False, False,
         'a 204 relayed as another status'),
        ('206 as sent', p6, b'HTTP/1.1 206 Partial Content\r\nContent-Range:'
         b' bytes 10-99/%d\r\n' % len(p6b) + b'Content-Length: 90\r\n\r\n'
         + p6b[10:100], False, False, None),
        ('206 shifted', p6, b'HTTP/1.1 206 Partial Content\r\nContent-Range:'
         b' bytes 10-99/%d\r\n' % len(p6b) + b'Content-Length: 90\r\n\r\n'
         + p6b[11:101], False, False,
         "206 body differs from the origin's range"),
        ('206 as a 200', p6, ok200(b'', p6b[:100]), False, False,
         "completed body differs from the origin's"),
        ('gzip kept', tgp,
         b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' +
         b'%x\r\n' % len(gz) + gz + b'\r\n0\r\n\r\n', False, False, None),
        ('gzip kept, close', tgp,
         b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n' + gz,
         False, False, None),
        ('gzip cut, close', tgp,
         b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n' +
         gz[:-20], False, False, 'transfer-coded body does not decode'),
        ('gzip bytes as identity', tgp, ok200(b'', gz), False,
         False, "completed body differs from the origin's"),
        ('gzip 502', tgp, b'HTTP/1.1 502 Bad Gateway\r\n'
         b'Content-Length: 0\r\n\r\n', False, False, None),
        ('HTTP/1.0 cut, close-delimited', cutp,
         b'HTTP/1.1 200 OK\r\n\r\n' + b.body(cutp, 5000)[:2600], True,
         False, None),
        ('HTTP/1.0 whole of a cut URL', cutp,
         b'HTTP/1.1 200 OK\r\n\r\n' + b.body(cutp, 5000), True,
         False, 'cut or broken reply served as complete 200'),
        ('HTTP/1.0 good cut, close-delimited', good,
         b'HTTP/1.1 200 OK\r\n\r\n' + body[:100], True, False,
         'good URL cut short'),
        ('cookie hit', '/sc/c/l/5000/1', ok200(
            b'X-Cache: HIT from x\r\nSet-Cookie: soak=3; Path=/; '
            b'HttpOnly\r\n', b.body('/sc/c/l/5000/1', 5000)), False, False,
         None),
        ('cookie hit altered', '/sc/c/l/5000/1', ok200(
            b'X-Cache: HIT from x\r\nSet-Cookie: a=1\r\n', b.body(
                '/sc/c/l/5000/1', 5000)), False, False,
         'a hit\'s Set-Cookie is not one the origin sent'),
    ]

    async def wire_reply(wire, http10):
        rd = asyncio.StreamReader()
        rd.feed_data(wire)
        rd.feed_eof()
        return await read_response(rd, 'GET', soak=s, http10=http10)

    for name, path, wire, http10, cond, want in wires:
        r = asyncio.run(wire_reply(wire, http10))
        cases.append((name, path, r, want, cond))
    bad = 0
    for case in cases:
        name, path, r, want = case[:4]
        s.violations.clear()
        cl.judge('self-test', path, 'GET', r, cond=case[4:] == (True,))
        got = list(s.violations)
        ok = (want is None and not got) or (want is not None and want in got)
        if not ok:
            bad += 1
            print('soak: self-test %s: want %r, got %r' % (name, want, got))
    if bad == 0:
        print('soak: self-test: %d cases, the checks fail when they should'
              % len(cases))
    return bad == 0


def main():
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cuttle', default=os.path.join(top, 'src', 'cuttle'))
    ap.add_argument('--seconds', type=float,
                    default=float(os.environ.get('SOAK_SECONDS') or 300))
    ap.add_argument('--seed', type=int, default=int(time.time()) % 100000)
    ap.add_argument('--keep', action='store_true',
                    default=os.environ.get('SOAK_KEEP') == '1',
                    help='keep the temporary directory (kept on failure)')
    ap.add_argument('--shapes', default=os.environ.get('SOAK_SHAPES') or
                    'all', help='unusual shapes to use, comma-separated '
                    '(%s); all (the default), none, or all,-NAME' %
                    ', '.join(SHAPES))
    ap.add_argument('--self-test', action='store_true',
                    help='check the checks, and exit')
    args = ap.parse_args()
    try:
        parse_shapes(args.shapes)
    except ValueError as e:
        ap.error(str(e))
    if not self_test(args):
        return 2
    if args.self_test:
        return 0
    if not os.access(args.cuttle, os.X_OK):
        print('soak: no cuttle binary at %s (build it, or --cuttle)' %
              args.cuttle, file=sys.stderr)
        return 2
    run = Run(args)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    watchdog = args.seconds + 300
    try:
        loop.run_until_complete(asyncio.wait_for(run.main(), watchdog))
    except asyncio.TimeoutError:
        run.s.violate('soak hung', 'not done %d s after its start' % watchdog)
    except KeyboardInterrupt:
        run.s.violate('interrupted', 'SIGINT')
    finally:
        run.stop_cuttle()
        loop.close()
    rc = run.summary()
    if rc == 0 and not args.keep:
        shutil.rmtree(run.tmp, ignore_errors=True)
    else:
        print('soak: kept %s' % run.tmp)
    return rc


if __name__ == '__main__':
    sys.exit(main())
