#!/usr/bin/env python3
"""disk_crash.py - the disk store (cache_dir) under faults, through the
real cuttle: kill -9 during fills, damage, I/O errors, a full
filesystem, wrap-around under readers.

    disk_crash.py [--cuttle PATH] [--kills N] [--seed N] [--keep]
                  [--tests crash,replace,purge,damage,ioerr,full,wrap,
                          large,load,slow]

Each test starts cuttle itself (-N, a free 127.0.0.1 port, a conf
written into a temporary directory) against an origin in this script
whose bodies are a function of the URL (and of a version for /v/ URLs),
so that every 200 can be compared byte for byte with what the origin
sends.  Exit 0 when every check held, 1 when one did not (each named),
2 on set-up trouble, 77 when nothing could run.  cuttle is killed by
its PID only.  See README.md.

    crash    --kills N times: a heavy fill by 8 clients, kill -9 at a
             random moment, restart, read back what was filled: every
             200 byte-equal, and every object whose fill ended 1.5 s
             before the kill a HIT (the one-second flush)
    replace  v1 filled, v2 fetched over it, kill -9 0.05-1.5 s later:
             after the restart only v2 (a HIT) or a miss, never v1
    purge    PURGE then kill -9: a miss after the restart
    damage   the store truncated, random blocks overwritten, bits
             flipped while cuttle is stopped: no crash, every 200
             byte-equal, the drops counted
    ioerr    reads, then writes failing with EIO (disk_fault_shim.c,
             threads back-end): misses, the loop answers, the store
             out of service with a log line
    full     the store's file on a small tmpfs that fills (root only):
             serving goes on, nothing indexed after the failed write
    large    a 64 MiB object (over maximum_object_size_in_memory) filled,
             cuttle restarted: a HIT, byte-equal, streamed (RSS grows by
             less than 16 MB); two clients at once share one read
             (disk.joined); a chunk damaged mid-object cuts the reply,
             is counted, and the next request is a MISS
    load     a store whose index loads slowly (each read of the file
             delayed by the shim): the proxy listens and serves at once,
             misses (disk objects too) and memory hits while it loads;
             a PURGE and a fill meanwhile leave a tombstone once loaded;
             then the disk objects are HITs, and after a kill -9 neither
             the purged object nor the version the fill replaced is
             a HIT
    slow     swap-timeout=300: with every read of the file taking 3 s
             (the shim), memory hits stay fast and disk objects are
             misses within the timeout, counted; max-swap-rate=5: a fill
             of 100 objects writes at most 5 a second, the rest skipped
             and counted (mgr:disks, mgr:storedir)
    wrap     20 times a small store's size filled while readers read
             back what may be reclaimed: every 200 byte-equal, the file
             never larger than its size
"""

import argparse
import hashlib
import http.client
import http.server
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ALL_TESTS = ('crash', 'replace', 'purge', 'damage', 'ioerr', 'full', 'wrap',
             'large', 'load', 'slow')
HERE = os.path.dirname(os.path.abspath(__file__))
PROCS = []			# every cuttle started, killed at the end


class Failed(Exception):
    pass


# -- origin ------------------------------------------------------------------

def body_of(path, ver=0):
    """/o/ID/SIZE: SIZE bytes of SHAKE-256 of the path; /v/ID/SIZE the
    same with the version in it."""
    size = int(path.rstrip('/').split('/')[-1])
    seed = path if ver == 0 else '%s#%d' % (path, ver)
    head = ('v%d ' % ver).encode() if ver else b''
    return head + hashlib.shake_256(seed.encode()).digest(size)


class Origin:
    def __init__(self):
        self.versions = {}		# /v/ path -> current version
        self.lock = threading.Lock()
        self.requests = 0
        origin = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *a):
                pass

            def do_GET(self):
                path = self.path
                if path.startswith('http://'):
                    path = '/' + path.split('/', 3)[3]
                with origin.lock:
                    origin.requests += 1
                    ver = origin.versions.get(path, 1) \
                        if path.startswith('/v/') else 0
                try:
                    b = body_of(path, ver)
                except ValueError:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header('Content-Length', str(len(b)))
                self.send_header('Cache-Control', 'max-age=86400')
                self.send_header('Content-Type', 'application/octet-stream')
                if ver:
                    self.send_header('X-Ver', str(ver))
                self.end_headers()
                self.wfile.write(b)

        class S(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass		# a client cut by a kill -9

        self.srv = S(('127.0.0.1', 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


# -- cuttle ------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proxy:
    def __init__(self, args, tmp, store_dir, size_mb, extra=(), env=None,
                 dir_opts=''):
        self.args = args
        self.tmp = tmp
        self.store_dir = store_dir
        self.port = free_port()
        self.proc = None
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.conf = os.path.join(tmp, 'cuttle.conf')
        self.log = os.path.join(tmp, 'cuttle.stderr')
        # Objects over 256 KB (a tenth of random_size()'s, and more)
        # are filled to disk as they arrive, their chunks written from
        # the fill's pages; the rest are written once whole.
        with open(self.conf, 'w') as f:
            f.write('\n'.join([
                '# written by test-suite/soak/disk_crash.py',
                'http_port 127.0.0.1:%d' % self.port,
                'visible_hostname crash.test',
                'cache_mem 16 MB',
                'maximum_object_size 8 MB',
                'maximum_object_size_in_memory 256 KB',
                'cache_dir rock %s %d %s' % (store_dir, size_mb, dir_opts),
                'access_log %s/access.log' % tmp,
                'pid_filename %s/cuttle.pid' % tmp,
                'dns_nameservers 127.0.0.1:1',
                'cache_effective_user %s'
                % pwd.getpwuid(os.geteuid()).pw_name,
                'shutdown_lifetime 1 seconds',
                'acl purge method PURGE',
                'http_access allow localhost purge',
                'http_access deny purge',
                'http_access allow localhost',
                'http_access deny all',
                'debug_options ALL,1',
            ] + list(extra) + ['']))

    def start(self, wait_loaded=True):
        """Start and wait until it listens, then (wait_loaded) until its
        index has loaded: the tests read back what is on disk."""
        err = open(self.log, 'a')
        err.write('---- start %s\n' % time.strftime('%T'))
        err.flush()
        self.proc = subprocess.Popen([self.args.cuttle, '-N', '-f',
                                      self.conf], stdin=subprocess.DEVNULL,
                                     stdout=err, stderr=err, cwd=self.tmp,
                                     env=self.env)
        PROCS.append(self.proc)
        err.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failed('cuttle exited at start: %d (see %s)'
                             % (self.proc.returncode, self.log))
            try:
                socket.create_connection(('127.0.0.1', self.port),
                                         0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        else:
            raise Failed('cuttle did not listen within 30 s')
        while wait_loaded and self.loading():
            if time.monotonic() > deadline + 60:
                raise Failed('the index did not load within 90 s')
            time.sleep(0.05)

    def loading(self):
        """Stores still loading their index (0 without the figure)."""
        m = re.search(r'^disk\.loading = (\d+)$', self.mgr('disks'), re.M)
        return int(m.group(1)) if m else 0

    def alive(self):
        if self.proc is None or self.proc.poll() is not None:
            raise Failed('cuttle died: status %s (see %s)'
                         % (self.proc.returncode if self.proc else None,
                            self.log))

    def kill9(self):
        self.alive()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self):
        self.alive()
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise Failed('cuttle did not stop within 20 s of SIGTERM')
        self.proc = None
        if rc != 0:
            raise Failed('cuttle exited %d on SIGTERM' % rc)

    def mgr(self, page):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        c.request('GET', 'http://127.0.0.1:%d/squid-internal-mgr/%s'
                  % (self.port, page))
        r = c.getresponse()
        text = r.read().decode('utf-8', 'replace')
        c.close()
        return text

    def disk_stat(self, name):
        m = re.search(r'^disk\.%s = (\d+)$' % name, self.mgr('disks'), re.M)
        if m is None:
            raise Failed('mgr:disks has no disk.%s' % name)
        return int(m.group(1))

    def log_has(self, pattern):
        with open(self.log, errors='replace') as f:
            return re.search(pattern, f.read()) is not None


class Client:
    """One keep-alive connection through the proxy, remade on error."""

    def __init__(self, proxy, timeout=30):
        self.proxy = proxy
        self.timeout = timeout
        self.c = None

    def get(self, url, headers=None, method='GET'):
        """(status, x-cache, body, headers) or None when the connection
        failed (the proxy was killed)."""
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection(
                    '127.0.0.1', self.proxy.port, timeout=self.timeout)
            try:
                self.c.request(method, url, headers=headers or {})
                r = self.c.getresponse()
                body = r.read()
                if r.will_close:
                    self.close()
                return (r.status, r.getheader('X-Cache', ''), body,
                        dict(r.getheaders()))
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 1:
                    return None
        return None

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


def check_body(url_path, got, fails, what, ver=0):
    want = body_of(url_path, ver)
    if got != want:
        fails.append('%s: %s: %d bytes not the origin\'s %d'
                     % (what, url_path, len(got), len(want)))
        return False
    return True


def random_size(rng):
    r = rng.random()
    if r < 0.6:
        return rng.randint(0, 16 * 1024)
    if r < 0.9:
        return rng.randint(16 * 1024, 256 * 1024)
    return rng.randint(256 * 1024, 1536 * 1024)


# -- tests -------------------------------------------------------------------

def fill(proxy, origin, paths, nclients, stop_at=None, done=None):
    """Fetch paths with nclients in parallel; done[path] = the monotonic
    time its 200 was whole and right.  Returns the failures."""
    fails = []
    it = iter(list(paths))
    lock = threading.Lock()

    def worker():
        cl = Client(proxy)
        while True:
            if stop_at is not None and time.monotonic() >= stop_at:
                break
            with lock:
                p = next(it, None)
            if p is None:
                break
            r = cl.get(origin.url(p))
            if r is None:
                continue		# killed under us
            if r[0] != 200:
                fails.append('fill %s: status %d' % (p, r[0]))
                continue
            if check_body(p, r[2], fails, 'fill') and done is not None:
                done[p] = time.monotonic()
        cl.close()

    ts = [threading.Thread(target=worker) for _ in range(nclients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return fails


def read_back(proxy, origin, paths, fails, what):
    """Every path read once: 200 and the origin's bytes.  Returns the
    paths that were HITs."""
    hits = set()
    cl = Client(proxy)
    for p in paths:
        r = cl.get(origin.url(p))
        if r is None:
            proxy.alive()
            fails.append('%s %s: no reply' % (what, p))
            continue
        if r[0] != 200:
            fails.append('%s %s: status %d' % (what, p, r[0]))
            continue
        if check_body(p, r[2], fails, what) and 'HIT' in r[1]:
            hits.add(p)
    cl.close()
    return hits


def test_crash(args, tmp, origin, rng):
    store = os.path.join(tmp, 'cache')
    proxy = Proxy(args, tmp, store, 256)
    fails = []
    older = []
    serial = 0
    proxy.start()
    for k in range(args.kills):
        paths = []
        for _ in range(4000):
            serial += 1
            paths.append('/o/c%d/%d' % (serial, random_size(rng)))
        done = {}
        t0 = time.monotonic()
        kill_at = t0 + rng.uniform(1.0, 3.0)
        th = threading.Thread(target=lambda: fails.extend(
            fill(proxy, origin, paths, 8, kill_at + 0.5, done)))
        th.start()
        while time.monotonic() < kill_at:
            time.sleep(0.01)
        proxy.kill9()
        killed = time.monotonic()
        th.join()
        proxy.start()
        filled = sorted(done, key=done.get)
        hits = read_back(proxy, origin, filled, fails, 'kill %d' % (k + 1))
        durable = [p for p in filled if done[p] < killed - 1.5]
        lost = [p for p in durable if p not in hits]
        if lost:
            fails.append('kill %d: %d of %d objects filled 1.5 s before '
                         'the kill were not HITs after it, e.g. %s'
                         % (k + 1, len(lost), len(durable), lost[:3]))
        sample = rng.sample(older, min(len(older), 100))
        read_back(proxy, origin, sample, fails, 'kill %d older' % (k + 1))
        older.extend(filled)
        print('  kill %d at %.2f s: %d filled, %d durable, %d hits after '
              'restart' % (k + 1, kill_at - t0, len(filled), len(durable),
                           len(hits)))
        if fails:
            break
    proxy.stop()
    return fails


def test_replace(args, tmp, origin, rng):
    store = os.path.join(tmp, 'cache')
    proxy = Proxy(args, tmp, store, 64)
    fails = []
    proxy.start()
    rounds = max(4, args.kills)
    for i in range(rounds):
        p = '/v/r%d/%d' % (i, rng.choice((100, 30000, 600000)))
        origin.versions[p] = 1
        cl = Client(proxy)
        r = cl.get(origin.url(p))
        if r is None or r[0] != 200 or r[2] != body_of(p, 1):
            fails.append('replace %s: v1 not served' % p)
        time.sleep(1.3)			# v1 on disk
        origin.versions[p] = 2
        r = cl.get(origin.url(p), {'Cache-Control': 'no-cache'})
        if r is None or r[0] != 200 or r[2] != body_of(p, 2):
            fails.append('replace %s: v2 not served on a reload' % p)
        r = cl.get(origin.url(p))
        if r is None or r[2] != body_of(p, 2):
            fails.append('replace %s: v2 not served after the reload' % p)
        cl.close()
        delay = rng.uniform(0.05, 1.5)
        time.sleep(delay)
        proxy.kill9()
        origin.versions[p] = 3
        proxy.start()
        cl = Client(proxy)
        r = cl.get(origin.url(p))
        cl.close()
        if r is None or r[0] != 200:
            fails.append('replace %s: no 200 after the restart' % p)
        elif r[2] == body_of(p, 1):
            fails.append('replace %s: v1 came back after kill -9 %.2f s '
                         'after v2' % (p, delay))
        elif r[2] == body_of(p, 2):
            if 'HIT' not in r[1]:
                fails.append('replace %s: v2 not a HIT' % p)
        elif r[2] != body_of(p, 3) or 'HIT' in r[1]:
            fails.append('replace %s: neither v2 nor a miss' % p)
    proxy.stop()
    return fails


def test_purge(args, tmp, origin, rng):
    store = os.path.join(tmp, 'cache')
    proxy = Proxy(args, tmp, store, 64)
    fails = []
    proxy.start()
    rounds = max(3, args.kills)
    for i in range(rounds):
        p = '/o/p%d/%d' % (i, rng.choice((10, 40000, 700000)))
        cl = Client(proxy)
        cl.get(origin.url(p))
        time.sleep(1.3)			# on disk
        r = cl.get(origin.url(p), method='PURGE')
        if r is None or r[0] != 200:
            fails.append('purge %s: PURGE answered %s' % (p, r and r[0]))
        cl.close()
        time.sleep(rng.uniform(0.05, 1.5))
        proxy.kill9()
        proxy.start()
        cl = Client(proxy)
        r = cl.get(origin.url(p))
        cl.close()
        if r is None or r[0] != 200 or 'HIT' in r[1]:
            fails.append('purge %s: %s after PURGE and kill -9'
                         % (p, 'a HIT' if r else 'no reply'))
        elif r[2] != body_of(p):
            fails.append('purge %s: not the origin\'s bytes' % p)
    proxy.stop()
    return fails


def damage(path, rng, how):
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        if how == 'truncate':
            f.truncate(rng.randint(4 << 20, 12 << 20))
        elif how == 'blocks':
            for _ in range(64):
                f.seek(rng.randrange(4096, size - 4096))
                f.write(os.urandom(rng.choice((512, 4096))))
        else:
            for _ in range(400):
                f.seek(rng.randrange(4096, size))
                b = f.read(1)
                f.seek(-1, 1)
                f.write(bytes([b[0] ^ (1 << rng.randrange(8))]))


def test_damage(args, tmp, origin, rng):
    fails = []
    for n, how in enumerate(('truncate', 'blocks', 'bits')):
        store = os.path.join(tmp, 'cache-%s' % how)
        proxy = Proxy(args, tmp, store, 96)
        proxy.start()
        paths = ['/o/d%s%d/%d' % (how, i, random_size(rng))
                 for i in range(200)]
        fails += fill(proxy, origin, paths, 4)
        proxy.stop()
        damage(os.path.join(store, 'cuttle.store'), rng, how)
        proxy.start()
        hits = read_back(proxy, origin, paths, fails, how)
        dropped = proxy.disk_stat('get_corrupt') + \
            proxy.disk_stat('bad_records') + proxy.disk_stat('scan_lost') + \
            proxy.disk_stat('bad_footers') + proxy.disk_stat('get_errors')
        proxy.stop()
        print('  %s: %d of %d hits, %d drops counted'
              % (how, len(hits), len(paths), dropped))
        if len(hits) == len(paths):
            fails.append('%s: every object a HIT: was the store damaged?'
                         % how)
        if dropped == 0:
            fails.append('%s: no drop counted' % how)
    return fails


def build_shim(tmp):
    cc = os.environ.get('CC', 'cc')
    so = os.path.join(tmp, 'disk_fault_shim.so')
    try:
        subprocess.run([cc.split()[0], '-shared', '-fPIC', '-O1', '-o', so,
                        os.path.join(HERE, 'disk_fault_shim.c'), '-ldl'],
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return so


def test_ioerr(args, tmp, origin, rng):
    so = build_shim(tmp)
    if so is None:
        print('  skipped: no C compiler for the shim')
        return []
    trig = os.path.join(tmp, 'fault')
    store = os.path.join(tmp, 'cache')
    env = {'LD_PRELOAD': so, 'DISK_FAULT_TRIGGER': trig,
           'CUTTLE_DISK_IO': 'threads',
           'ASAN_OPTIONS': os.environ.get('ASAN_OPTIONS', '') +
           ':verify_asan_link_order=0'}
    proxy = Proxy(args, tmp, store, 32, env=env)
    fails = []
    proxy.start()
    paths = ['/o/e%d/%d' % (i, random_size(rng)) for i in range(60)]
    fails += fill(proxy, origin, paths, 4)
    proxy.stop()
    proxy.start()
    # Reads fail: misses with the origin's bytes, each entry dropped.
    with open(trig, 'w') as f:
        f.write('r')
    t0 = time.monotonic()
    hits = read_back(proxy, origin, paths[:30], fails, 'read errors')
    if hits:
        fails.append('read errors: %d HITs from a disk that fails reads'
                     % len(hits))
    errs = proxy.disk_stat('get_errors')
    if errs < 1:
        fails.append('read errors: disk.get_errors is %d' % errs)
        print(proxy.mgr('disks'))
    # The loop answered throughout, and answers now.
    if proxy.mgr('info') == '':
        fails.append('read errors: mgr:info empty')
    time.sleep(1.5)
    if not proxy.log_has(r'out of service after an I/O error'):
        fails.append('read errors: no log line for the store out of '
                     'service after %d failed reads' % errs)
    os.unlink(trig)
    # Out of service: misses from then on, even with reads back.
    hits = read_back(proxy, origin, paths[30:], fails, 'out of service')
    if hits:
        fails.append('out of service: %d HITs' % len(hits))
    print('  reads failing: %d read errors in %.2f s, store out of service'
          % (errs, time.monotonic() - t0))
    proxy.stop()

    # Writes fail: serving goes on; nothing written after is indexed.
    shutil.rmtree(store)
    proxy = Proxy(args, tmp, store, 32, env=env)
    proxy.start()
    with open(trig, 'w') as f:
        f.write('w')
    paths = ['/o/w%d/%d' % (i, random_size(rng)) for i in range(60)]
    fails += fill(proxy, origin, paths, 4)
    time.sleep(1.5)
    if not proxy.log_has(r'cuttle.store|out of service after an I/O error'):
        fails.append('write errors: no log line')
    wrote = proxy.disk_stat('write_errors')
    if wrote < 1:
        fails.append('write errors: disk.write_errors is %d' % wrote)
    cl = Client(proxy)
    r = cl.get(origin.url(paths[0]))
    cl.close()
    if r is None or r[0] != 200:
        fails.append('write errors: serving stopped')
    os.unlink(trig)
    proxy.kill9()
    proxy.start()
    hits = read_back(proxy, origin, paths, fails, 'after write errors')
    if hits:
        fails.append('write errors: %d HITs after a restart, of objects '
                     'whose writes failed' % len(hits))
    proxy.stop()
    return fails


def test_load(args, tmp, origin, rng):
    so = build_shim(tmp)
    if so is None:
        print('  skipped: no C compiler for the shim')
        return []
    trig = os.path.join(tmp, 'fault')
    store = os.path.join(tmp, 'cache')
    env = {'LD_PRELOAD': so, 'DISK_FAULT_TRIGGER': trig,
           'CUTTLE_DISK_IO': 'threads',
           'ASAN_OPTIONS': os.environ.get('ASAN_OPTIONS', '') +
           ':verify_asan_link_order=0'}
    proxy = Proxy(args, tmp, store, 32, env=env)
    fails = []
    proxy.start()
    paths = ['/o/l%d/%d' % (i, rng.randint(100, 60000)) for i in range(40)]
    fails += fill(proxy, origin, paths, 4)
    proxy.stop()
    # Every read of the file 0.15 s: some 50 reads make the load last
    # seconds, far longer than what follows takes.
    with open(trig, 'w') as f:
        f.write('d150')
    t0 = time.monotonic()
    proxy.start(wait_loaded=False)
    listened = time.monotonic() - t0
    cl = Client(proxy)
    fresh = '/o/lnew/5000'
    r = cl.get(origin.url(fresh))
    if r is None or r[0] != 200 or r[2] != body_of(fresh):
        fails.append('loading: a miss not served')
    r = cl.get(origin.url(fresh))
    if r is None or r[2] != body_of(fresh) or 'HIT' not in r[1]:
        fails.append('loading: a memory hit not served')
    refilled, purged = paths[0], paths[1]
    r = cl.get(origin.url(refilled))
    if r is None or r[0] != 200 or r[2] != body_of(refilled):
        fails.append('loading: a disk object not served')
    elif 'HIT' in r[1]:
        fails.append('loading: a disk object a HIT before its index is '
                     'whole')
    r = cl.get(origin.url(purged), method='PURGE')
    if r is None:
        fails.append('loading: PURGE not answered')
    cl.close()
    loading = proxy.loading()
    if loading != 1:
        fails.append('not served while the index loaded: disk.loading '
                     'is %d after the requests' % loading)
        return fails
    served = time.monotonic() - t0
    os.unlink(trig)
    deadline = time.monotonic() + 60
    while proxy.loading():
        if time.monotonic() > deadline:
            fails.append('the index did not load within 60 s')
            return fails
        time.sleep(0.05)
    loaded = time.monotonic() - t0
    hits = read_back(proxy, origin, paths[2:], fails, 'loaded')
    if len(hits) != len(paths) - 2:
        fails.append('loaded: %d of %d disk objects HITs'
                     % (len(hits), len(paths) - 2))
    if proxy.disk_stat('load_skipped') < 1:
        fails.append('loaded: the fill while loading not counted')
    print('  listening %.2f s after start, served while loading until '
          '%.2f s, index whole at %.2f s' % (listened, served, loaded))
    # The tombstones were written when the load ended: the purged
    # object and the one filled again (whose disk copy is older than
    # what memory held) are misses after a kill -9.
    proxy.kill9()
    proxy.start()
    cl = Client(proxy)
    for p in (purged, refilled):
        r = cl.get(origin.url(p))
        if r is None or r[0] != 200 or r[2] != body_of(p):
            fails.append('after the restart %s: not served' % p)
        elif 'HIT' in r[1]:
            fails.append('after the restart %s: a HIT of the copy on disk '
                         'from before the load' % p)
    cl.close()
    proxy.stop()
    return fails


def test_slow(args, tmp, origin, rng):
    so = build_shim(tmp)
    if so is None:
        print('  skipped: no C compiler for the shim')
        return []
    trig = os.path.join(tmp, 'fault')
    store = os.path.join(tmp, 'cache')
    env = {'LD_PRELOAD': so, 'DISK_FAULT_TRIGGER': trig,
           'CUTTLE_DISK_IO': 'threads',
           'ASAN_OPTIONS': os.environ.get('ASAN_OPTIONS', '') +
           ':verify_asan_link_order=0'}
    fails = []
    proxy = Proxy(args, tmp, store, 32, env=env, dir_opts='swap-timeout=300')
    proxy.start()
    # Some 6 MB: the first objects are in sealed regions, read from the
    # file (the open region's are in memory).
    paths = ['/o/s%d/%d' % (i, rng.randint(60000, 120000))
             for i in range(60)]
    for p in paths:
        fails += fill(proxy, origin, [p], 1)
    proxy.stop()
    proxy.start()
    with open(trig, 'w') as f:
        f.write('d3000')
    cl = Client(proxy)
    mem = '/o/smem/4000'
    cl.get(origin.url(mem))
    t0 = time.monotonic()
    r = cl.get(origin.url(mem))
    if r is None or r[2] != body_of(mem) or 'HIT' not in r[1]:
        fails.append('slow disk: a memory hit not served')
    elif time.monotonic() - t0 > 1.0:
        fails.append('slow disk: a memory hit took %.2f s'
                     % (time.monotonic() - t0))
    slowest = 0
    for p in paths[:4]:
        t0 = time.monotonic()
        r = cl.get(origin.url(p))
        took = time.monotonic() - t0
        slowest = max(slowest, took)
        if r is None or r[0] != 200 or r[2] != body_of(p):
            fails.append('slow disk %s: not served' % p)
        elif 'HIT' in r[1]:
            fails.append('slow disk %s: a HIT from a disk slower than '
                         'swap-timeout' % p)
        elif took >= 2.5:
            fails.append('slow disk %s: took %.2f s, as long as the read'
                         % (p, took))
    cl.close()
    timeouts = proxy.disk_stat('read_timeouts')
    if timeouts < 4:
        fails.append('slow disk: disk.read_timeouts is %d' % timeouts)
    os.unlink(trig)
    # The slow reads still out end first (the threads are theirs).
    deadline = time.monotonic() + 30
    while proxy.disk_stat('io_outstanding') > 0:
        if time.monotonic() > deadline:
            fails.append('slow disk: reads still out after 30 s')
            break
        time.sleep(0.05)
    cl = Client(proxy)
    r = cl.get(origin.url(paths[5]))
    cl.close()
    if r is None or r[2] != body_of(paths[5]) or 'HIT' not in r[1]:
        fails.append('disk fast again: not a HIT')
    print('  slow disk: disk objects misses in %.2f s at most, %d timeouts'
          % (slowest, timeouts))
    proxy.stop()

    shutil.rmtree(store)
    proxy = Proxy(args, tmp, store, 32, dir_opts='max-swap-rate=5')
    proxy.start()
    paths = ['/o/r%d/%d' % (i, rng.randint(100, 3000)) for i in range(100)]
    t0 = time.monotonic()
    fails += fill(proxy, origin, paths, 4)
    took = time.monotonic() - t0
    puts = proxy.disk_stat('puts')
    skipped = proxy.disk_stat('rate_skipped')
    if skipped < 1 or puts + skipped < 100:
        fails.append('max-swap-rate: %d written, %d skipped of 100'
                     % (puts, skipped))
    if puts > 5 * (int(took) + 2):
        fails.append('max-swap-rate=5: %d written in %.2f s' % (puts, took))
    if not re.search(r'^Skipped writes: \d+ \(limits\), %d \(max-swap-rate\)'
                     % skipped, proxy.mgr('storedir'), re.M):
        fails.append('max-swap-rate: mgr:storedir does not say %d skipped'
                     % skipped)
    print('  max-swap-rate=5: %d written, %d skipped in %.2f s'
          % (puts, skipped, took))
    proxy.stop()
    return fails


def test_full(args, tmp, origin, rng):
    if os.geteuid() != 0:
        print('  skipped: not root (no tmpfs mount)')
        return []
    mnt = os.path.join(tmp, 'small')
    os.mkdir(mnt)
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=6m', 'tmpfs',
                       mnt], capture_output=True).returncode != 0:
        print('  skipped: mount -t tmpfs refused')
        return []
    fails = []
    try:
        # A 16 MB store made elsewhere, copied sparse onto 6 MB: its
        # writes find the filesystem full once 6 MB are used.
        made = os.path.join(tmp, 'made')
        pre = Proxy(args, tmp, made, 16)
        subprocess.run([args.cuttle, '-z', '-f', pre.conf], check=True,
                       capture_output=True)
        store = os.path.join(mnt, 'cache')
        os.mkdir(store)
        subprocess.run(['cp', '--sparse=always',
                        os.path.join(made, 'cuttle.store'), store],
                       check=True)
        proxy = Proxy(args, tmp, store, 16)
        proxy.start()
        paths = ['/o/f%d/%d' % (i, rng.randint(20000, 200000))
                 for i in range(150)]
        fails += fill(proxy, origin, paths, 4)
        time.sleep(1.5)
        werr = proxy.disk_stat('write_errors')
        if werr < 1:
            fails.append('full: no write error counted (the tmpfs did '
                         'not fill?)')
        if not proxy.log_has(r'out of service after an I/O error'):
            fails.append('full: no log line for the store out of service')
        # Serving goes on: memory hits and misses.
        hits = read_back(proxy, origin, paths[-20:], fails, 'full')
        proxy.kill9()
        proxy.start()
        hits = read_back(proxy, origin, paths, fails, 'full, restarted')
        print('  full: %d write errors, %d of %d HITs after a restart'
              % (werr, len(hits), len(paths)))
        proxy.stop()
    finally:
        subprocess.run(['umount', mnt])
    return fails


def test_wrap(args, tmp, origin, rng):
    store = os.path.join(tmp, 'cache')
    size_mb = 8
    proxy = Proxy(args, tmp, store, size_mb)
    proxy.start()
    path = os.path.join(store, 'cuttle.store')
    limit = size_mb << 20
    fails = []
    recent = []
    stop = threading.Event()

    def reader():
        cl = Client(proxy)
        r2 = random.Random(rng.random())
        while not stop.is_set():
            if len(recent) < 10:
                time.sleep(0.01)
                continue
            # Old enough to sit in the regions being reclaimed.
            p = recent[max(0, len(recent) - r2.randint(1, 400))]
            r = cl.get(origin.url(p))
            if r is None:
                fails.append('wrap reader %s: no reply' % p)
            elif r[0] != 200:
                fails.append('wrap reader %s: status %d' % (p, r[0]))
            else:
                check_body(p, r[2], fails, 'wrap reader')
        cl.close()

    rs = [threading.Thread(target=reader) for _ in range(3)]
    for t in rs:
        t.start()
    total = 0
    i = 0
    maxfile = 0
    while total < 20 * limit and not fails:
        batch = []
        for _ in range(50):
            i += 1
            n = rng.randint(1000, 300000)
            batch.append('/o/w%d/%d' % (i, n))
            total += n
        fails += fill(proxy, origin, batch, 4)
        recent.extend(batch)
        st = os.stat(path)
        maxfile = max(maxfile, st.st_size, st.st_blocks * 512)
    stop.set()
    for t in rs:
        t.join()
    regions = proxy.mgr('disks')
    proxy.stop()
    if maxfile > limit:
        fails.append('wrap: the store file reached %d bytes, over its %d'
                     % (maxfile, limit))
    m = re.search(r'^disk\.reclaimed = (\d+)$', regions, re.M)
    print('  wrap: %d MB written through an %d MB store, %s objects '
          'reclaimed, file at most %d bytes' % (total >> 20, size_mb,
                                                 m and m.group(1), maxfile))
    return fails


def rss_kb(pid, field):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


def sanitized(cuttle):
    """Was cuttle built with AddressSanitizer (cuttle -v says so)?"""
    out = subprocess.run([cuttle, '-v'], capture_output=True, text=True)
    return 'sanitizers' in out.stdout + out.stderr


def two_clients(proxy, origin, p, fails):
    """Two clients ask for p at once and read both replies together."""
    socks = [socket.create_connection(('127.0.0.1', proxy.port), 10)
             for i in range(2)]
    time.sleep(0.2)
    u = origin.url(p)
    req = ('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n'
           % (u, u.split('/')[2])).encode()
    for sk in socks:
        sk.sendall(req)
    # Read both at once: a shared window goes at the slower one's pace.
    got = [b'', b'']

    def drain(i):
        sk = socks[i]
        sk.settimeout(60)
        data = bytearray()
        try:
            while True:
                b = sk.recv(1 << 20)
                if not b:
                    break
                data += b
        except OSError:
            pass
        sk.close()
        got[i] = bytes(data)
    ths = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    for i in range(2):
        head, _, body = got[i].partition(b'\r\n\r\n')
        if not head.startswith(b'HTTP/1.1 200') or b'HIT' not in head:
            fails.append('large: concurrent client %d: %r' % (i, head[:60]))
        check_body(p, body, fails, 'large concurrent %d' % i)


def test_large(args, tmp, origin, rng):
    store = os.path.join(tmp, 'cache')
    size = 64 << 20
    proxy = Proxy(args, tmp, store, 1024, extra=(
        'maximum_object_size 100 MB',))
    fails = []
    proxy.start()
    p = '/o/L%d/%d' % (rng.randrange(1 << 30), size)
    cl = Client(proxy, timeout=60)
    r = cl.get(origin.url(p))
    if r is None or r[0] != 200:
        fails.append('large: the fill failed')
    else:
        check_body(p, r[2], fails, 'large fill')
    cl.close()
    time.sleep(1.5)
    proxy.stop()
    proxy.start()
    base = rss_kb(proxy.proc.pid, 'VmRSS')
    cl = Client(proxy, timeout=60)
    r = cl.get(origin.url(p))
    cl.close()
    peak = rss_kb(proxy.proc.pid, 'VmHWM')
    if r is None or r[0] != 200:
        fails.append('large: no 200 after the restart')
    else:
        if 'HIT' not in r[1]:
            fails.append('large: %s after the restart, not a HIT' % r[1])
        check_body(p, r[2], fails, 'large hit')
    print('  large: 64 MiB %s after a restart; cuttle RSS %d kB before, '
          'peak %d kB' % (r and r[1], base, peak))
    # Streamed from disk a window at a time, never whole in memory.  A
    # sanitizer build keeps freed blocks in quarantine: no RSS bound.
    if sanitized(args.cuttle):
        print('  large: sanitizer build, RSS bound not checked')
    elif peak - base > 16 * 1024:
        fails.append('large: RSS grew by %d kB serving it (more than '
                     '16 MB: held whole?)' % (peak - base))
    # Two clients at once: one read of the disk serves both.  The second
    # joins only while the read still holds the object's first bytes,
    # and this process may be put off the CPU between its two requests
    # on a busy machine: up to 5 tries, and one of them must join.
    for attempt in range(5):
        joined = proxy.disk_stat('joined')
        tryfails = []
        two_clients(proxy, origin, p, tryfails)
        if proxy.disk_stat('joined') == joined + 1 or tryfails:
            break
    fails.extend(tryfails)
    if proxy.disk_stat('joined') != joined + 1:
        fails.append('large: two clients at once: %d joined, not one, '
                     'in %d tries' % (proxy.disk_stat('joined') - joined,
                                      attempt + 1))
    # A chunk damaged mid-object: the reply is cut (never a 200 taken
    # for whole), the object dropped and counted, then a miss.
    proxy.stop()
    want = body_of(p)
    at = (40 << 20) + 1000
    sample = want[at:at + 256]
    path = os.path.join(store, 'cuttle.store')
    pos = -1
    with open(path, 'r+b') as f:
        off = 0
        while pos < 0:
            f.seek(off)
            blk = f.read(64 << 20)
            if len(blk) < len(sample):
                break
            i = blk.find(sample)
            if i >= 0:
                pos = off + i
            off += len(blk) - len(sample)
        if pos >= 0:
            f.seek(pos + 100)
            f.write(bytes([want[at + 100] ^ 0x55]))
    if pos < 0:
        fails.append('large: the body sample is not in the store file')
    proxy.start()
    c = http.client.HTTPConnection('127.0.0.1', proxy.port, timeout=60)
    c.request('GET', origin.url(p))
    resp = c.getresponse()
    status = resp.status
    try:
        got = resp.read()
        cut = False
    except http.client.IncompleteRead as e:
        got = e.partial
        cut = True
    c.close()
    if status == 200 and not cut:
        fails.append('large: a damaged chunk gave a whole 200 (%d bytes,%s '
                     'the origin\'s)' % (len(got), '' if got == want
                                           else ' not'))
    if got != want[:len(got)]:
        fails.append('large: wrong bytes before the cut')
    if proxy.disk_stat('get_corrupt') < 1:
        fails.append('large: the damaged chunk was not counted')
    cl = Client(proxy, timeout=60)
    r = cl.get(origin.url(p))
    cl.close()
    if r is None or r[0] != 200 or 'MISS' not in r[1]:
        fails.append('large: after the damage %s, not a MISS'
                     % (r and (r[0], r[1])))
    else:
        check_body(p, r[2], fails, 'large after damage')
    print('  large: two clients at once, one read; a damaged chunk: %s '
          'after %d of %d bytes' % ('cut' if cut else 'status %d' % status,
                                     len(got), len(want)))
    proxy.stop()
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cuttle', default=os.path.join(
        HERE, '..', '..', 'src', 'cuttle'))
    ap.add_argument('--kills', type=int, default=3)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--keep', action='store_true')
    ap.add_argument('--tests', default=','.join(ALL_TESTS))
    args = ap.parse_args()
    args.cuttle = os.path.abspath(args.cuttle)
    if not os.access(args.cuttle, os.X_OK):
        print('no cuttle at %s' % args.cuttle)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print('disk_crash: seed %d, %d kills' % (seed, args.kills))
    origin = Origin()
    bad = 0
    for name in args.tests.split(','):
        if name not in ALL_TESTS:
            print('unknown test %s' % name)
            return 2
        tmp = tempfile.mkdtemp(prefix='disk_crash.%s.' % name)
        rng = random.Random('%d%s' % (seed, name))
        t0 = time.monotonic()
        print('%s:' % name)
        try:
            fails = globals()['test_' + name](args, tmp, origin, rng)
        except Failed as e:
            fails = [str(e)]
        print('%s: %s in %.1f s' % (name, 'FAIL' if fails else 'ok',
                                   time.monotonic() - t0))
        for f in fails[:10]:
            print('  ' + f)
        if fails:
            bad += 1
            print('  kept %s' % tmp)
            try:
                with open(os.path.join(tmp, 'cuttle.stderr')) as f:
                    print(''.join(f.readlines()[-15:]))
            except OSError:
                pass
        elif not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    origin.close()
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
