#!/usr/bin/env python3
"""chromium_auth.py PROXY URL USER PASS|- OUTDIR - headless Chromium through
an authenticating proxy, driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: no extension, no websocket library).

Chromium takes no proxy credentials from its command line (a user:pass@
in --proxy-server is dropped), so they are given the way a browser's
user would: the DevTools Fetch domain reports each 407's challenge
(Fetch.authRequired) and answers the first with USER and PASS, or
cancels it when PASS is "-"; a second one (the credentials were refused)
is cancelled, as a user who gives up.  Prints, one a line:
    challenge SOURCE SCHEME REALM      for each challenge Chromium saw
    navigate ERRORTEXT|ok              Page.navigate's outcome
    body TEXT                          the page's innerText, one line
Exits 0 once the page loaded (or failed to), 2 on a protocol failure.
"""
import json
import os
import sys
import time


def main():
    proxy, url, user, password, outdir = sys.argv[1:6]
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    args = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--user-data-dir=" + os.path.join(outdir, "ud"),
            "--proxy-server=http://" + proxy,
            "--proxy-bypass-list=<-loopback>",
            "--remote-debugging-pipe", "about:blank"]
    err = os.open(os.path.join(outdir, "chromium.err"),
                  os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    pid = os.fork()
    if pid == 0:
        # Chromium reads fd 3 and writes fd 4: the child's ends go there
        # by way of numbers no other descriptor has.
        try:
            os.dup2(to_chrome_r, 100)
            os.dup2(from_chrome_w, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)
            os.dup2(err, 1)
            os.dup2(err, 2)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.closerange(5, 1024)
            os.execvp(args[0], args)
        finally:
            os._exit(127)
    for fd in (to_chrome_r, from_chrome_w, err):
        os.close(fd)

    class Proc:
        def kill(self):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

        def wait(self, timeout=None):
            end = time.time() + (timeout or 1e9)
            while time.time() < end:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
                time.sleep(0.1)
            raise TimeoutError()

    proc = Proc()
    wr = os.fdopen(to_chrome_w, "wb", buffering=0)
    rd = os.fdopen(from_chrome_r, "rb", buffering=0)
    buf = b""
    next_id = [0]
    pending = []

    def send(method, params=None, session=None):
        next_id[0] += 1
        msg = {"id": next_id[0], "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        wr.write(json.dumps(msg).encode() + b"\0")
        return next_id[0]

    def read_msg():
        nonlocal buf
        while b"\0" not in buf:
            chunk = rd.read(65536)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            buf += chunk
        raw, buf = buf.split(b"\0", 1)
        return json.loads(raw)

    def wait_reply(mid):
        while True:
            m = read_msg()
            if m.get("id") == mid:
                return m
            pending.append(m)

    out = []
    try:
        r = wait_reply(send("Target.createTarget", {"url": "about:blank"}))
        target = r["result"]["targetId"]
        r = wait_reply(send("Target.attachToTarget",
                            {"targetId": target, "flatten": True}))
        s = r["result"]["sessionId"]
        wait_reply(send("Fetch.enable", {"handleAuthRequests": True,
                                         "patterns": [{"urlPattern": "*"}]},
                        s))
        wait_reply(send("Page.enable", {}, s))
        nav = send("Page.navigate", {"url": url}, s)
        navigated = None
        loaded = False
        deadline = time.time() + 60
        while time.time() < deadline and not (navigated and
                                              (loaded or navigated != "ok")):
            m = pending.pop(0) if pending else read_msg()
            if m.get("id") == nav:
                res = m.get("result", {})
                navigated = res.get("errorText") or "ok"
                continue
            meth = m.get("method")
            p = m.get("params", {})
            if meth == "Fetch.requestPaused":
                send("Fetch.continueRequest", {"requestId": p["requestId"]},
                     s)
            elif meth == "Fetch.authRequired":
                ch = p["authChallenge"]
                out.append("challenge %s %s %s" % (
                    ch.get("source"), ch.get("scheme"), ch.get("realm")))
                if password == "-" or len(out) > 1:
                    # No credentials, or the ones given were refused:
                    # the user gives up (else Chromium asks again and
                    # again, to net::ERR_TOO_MANY_RETRIES).
                    resp = {"response": "CancelAuth"}
                else:
                    resp = {"response": "ProvideCredentials",
                            "username": user, "password": password}
                send("Fetch.continueWithAuth",
                     {"requestId": p["requestId"],
                      "authChallengeResponse": resp}, s)
            elif meth == "Page.loadEventFired":
                loaded = True
        out.append("navigate %s" % navigated)
        r = wait_reply(send("Runtime.evaluate",
                            {"expression": "document.body ? "
                             "document.body.innerText : ''"}, s))
        text = r.get("result", {}).get("result", {}).get("value", "")
        out.append("body %s" % " ".join(str(text).split()))
        send("Browser.close")
    except (EOFError, KeyError, ValueError) as e:
        print("\n".join(out))
        print("protocol failure: %r" % (e,))
        proc.kill()
        proc.wait()
        return 2
    print("\n".join(out))
    try:
        proc.wait(timeout=20)
    except TimeoutError:
        proc.kill()
        proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
