"""A wall-clock soak of the seminar view: several tabs open for two hours at the seminar speed.

Opens TABS sessions as TABS browser tabs would (the first one A/B, the others single copies),
each with a thread that keeps reading the session's server-sent event stream the way the page
does (applying frames, fetching the whole state after a gap or a "lagged" note, reconnecting
after a dropped stream), plays each at 12 months a second, and, whenever a run reaches its
end, resets it and moves a lever (paths.legal.intensity through 0.5, 1.0, 0, ...) before
playing again, as a speaker would. Every 60 s it writes one CSV row: seconds elapsed, the
server's resident memory (VmRSS, MiB) and the months each session has simulated so far (per
copy, over all its runs). At the end it closes its sessions and prints a summary (months per
session, RSS min/median/max, the first 10 minutes against the last 10). It starts nothing
itself, talks only to 127.0.0.1, and stops by itself after SECONDS.

    target/release/ruralgov serve --port 8722 &
    python3 examples/serve_soak.py 8722 [SECONDS=7200] [TABS=3] [OUT=serve_soak.csv]

(docs/serve.md holds the figures this printed for a two-hour run.)
"""
import csv, http.client, json, re, statistics, subprocess, sys, threading, time, urllib.error, urllib.request

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8722
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 7200.0
TABS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
OUT = sys.argv[4] if len(sys.argv) > 4 else "serve_soak.csv"
HOST = "127.0.0.1"
SPEED = 12  # months a second, the seminar speed (the "speed" action; 0 would be as fast as possible)
LEVER = "paths.legal.intensity"
VALUES = [0.0, 0.5, 1.0]
SAMPLE = 60  # seconds between CSV rows
T0 = time.time()
DEADLINE = T0 + SECONDS
STOP = threading.Event()


def log(*a):
    print(f"[{time.time() - T0:7.0f} s]", *a, flush=True)


def req(method, path, body=None, timeout=30.0):
    """One request with a timeout (never past the deadline by more than a minute): the JSON
    answer, None for an empty one; HTTPError for an error status."""
    timeout = max(5.0, min(timeout, DEADLINE + 60 - time.time()))
    r = urllib.request.Request(f"http://{HOST}:{PORT}{path}", method=method,
                               data=None if body is None else json.dumps(body).encode(),
                               headers={"content-type": "application/json"})
    with urllib.request.urlopen(r, timeout=timeout) as f:
        text = f.read()
    return json.loads(text) if text else None


def server_pid():
    """The server's process: a `ruralgov ... serve ... --port PORT` command line."""
    out = subprocess.run(["pgrep", "-f", rf"serve( .*)? --port {PORT}( |$)"], capture_output=True, text=True, timeout=10).stdout
    for pid in out.split():
        try:
            if open(f"/proc/{pid}/comm").read().strip() == "ruralgov":
                return pid
        except OSError:
            pass
    return None


def rss_mib():
    pid = server_pid()
    if pid is None:
        return None
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class Tab:
    """One browser tab: a session, a listener on its event stream and a speaker's hand."""

    def __init__(self, n, ab):
        self.n, self.ab = n, ab
        self.lock = threading.Lock()
        self.id = None
        self.rows = 0          # months the "page" holds (to spot a gap, as the page does)
        self.month = 0         # the session's month, from the last frame
        self.total = 0
        self.playing = False
        self.done = 0          # months of the runs before the current one
        self.runs = 0          # runs completed
        self.resets_sent = self.resets_seen = 0
        self.frames = self.snapshots = self.gaps = self.lagged = self.reconnects = self.reopened = 0
        self.errors = []
        self.listening = threading.Event()
        self.reopening = threading.Lock()

    def months(self):
        with self.lock:
            return self.done + self.month

    def open(self):
        s = req("POST", "/api/sessions", {"ab": self.ab}, timeout=300)
        with self.lock:
            self.id = s["id"]
            self.rows = self.month = self.total = 0
            self.resets_sent = self.resets_seen = 0
            self.playing = False
        self.apply(s["state"])
        log(f"tab {self.n}: session {self.id} ({'A/B' if self.ab else 'one copy'}), {self.total} months a run")

    def apply(self, f):
        """Apply a frame or a snapshot; a frame that does not follow on means a gap: fetch the state."""
        with self.lock:
            if f["kind"] != "snapshot" and f["from"] != self.rows:
                gap = True
            else:
                gap = False
                if f["month"] < self.month:  # a reset: the run before it is done
                    self.done += self.month
                    self.resets_seen += 1
                self.rows = self.month = f["month"]
                self.total, self.playing = f["total"], f["playing"]
                if f["kind"] == "snapshot":
                    self.snapshots += 1
                else:
                    self.frames += 1
        if gap:
            with self.lock:
                self.gaps += 1
            self.fetch_state()

    def fetch_state(self):
        try:
            self.apply(req("GET", f"/api/sessions/{self.id}/state", timeout=60))
        except Exception as e:
            self.note(f"state: {e}")

    def note(self, what):
        with self.lock:
            self.errors.append((round(time.time() - T0), what))
        log(f"tab {self.n}: {what}")

    def listen(self):
        """Read the event stream until the end, reconnecting (after 3 s, as EventSource does)."""
        while not STOP.is_set() and time.time() < DEADLINE:
            sid = self.id
            conn = http.client.HTTPConnection(HOST, PORT, timeout=45)  # keep-alives come every 15 s
            try:
                conn.request("GET", f"/api/sessions/{sid}/events", headers={"Accept": "text/event-stream"})
                resp = conn.getresponse()
                if resp.status != 200:
                    self.note(f"events: HTTP {resp.status} {resp.read()[:200]!r}")
                    if resp.status in (404, 410):
                        self.reopen(sid)
                    else:
                        time.sleep(3)
                    continue
                self.listening.set()
                event, data = "message", []
                while not STOP.is_set() and time.time() < DEADLINE and sid == self.id:
                    line = resp.readline()
                    if not line:
                        raise ConnectionError("the stream ended")
                    line = line.rstrip(b"\r\n")
                    if not line:  # the end of an event
                        if event == "lagged":
                            with self.lock:
                                self.lagged += 1
                            self.fetch_state()
                        elif data:
                            self.apply(json.loads(b"\n".join(data)))
                        event, data = "message", []
                    elif line.startswith(b"data:"):
                        data.append(line[5:].lstrip(b" ") if line[5:6] == b" " else line[5:])
                    elif line.startswith(b"event:"):
                        event = line[6:].strip().decode()
            except Exception as e:
                if STOP.is_set() or time.time() >= DEADLINE:
                    break
                with self.lock:
                    self.reconnects += 1
                self.note(f"events: {type(e).__name__}: {e}; reconnecting")
                time.sleep(3)
            finally:
                conn.close()

    def reopen(self, old):
        """The session is gone (closed by the server): open a new one, as reloading the tab would."""
        with self.reopening:
            if self.id != old:  # the other thread has reopened it already
                return
            self._reopen()

    def _reopen(self):
        with self.lock:
            self.done += self.month
            self.month = 0
            self.reopened += 1
        try:
            self.open()
            self.control("speed", speed=SPEED)
            self.control("play")
        except Exception as e:
            self.note(f"reopen: {e}")
            time.sleep(5)

    def control(self, action, **extra):
        sid = self.id
        try:
            req("POST", f"/api/sessions/{sid}/control", dict(action=action, **extra))
        except urllib.error.HTTPError as e:
            self.note(f"{action}: HTTP {e.code} {e.read()[:200]!r}")
            if e.code in (404, 410):
                self.reopen(sid)

    def speak(self):
        """Play; at the end of each run: reset, move the lever, play again."""
        self.control("speed", speed=SPEED)
        self.control("play")
        stuck_since = None
        while not STOP.is_set() and time.time() < DEADLINE:
            time.sleep(0.5)
            with self.lock:
                finished = self.total > 0 and self.month >= self.total and not self.playing
                waiting = self.resets_seen < self.resets_sent
            if waiting:  # the reset has not shown in the stream yet
                stuck_since = stuck_since or time.time()
                if time.time() - stuck_since > 120:
                    self.note("no reset seen in the stream for 120 s; fetching the state")
                    self.fetch_state()
                    with self.lock:
                        self.resets_seen = self.resets_sent
                    stuck_since = None
                continue
            stuck_since = None
            if not finished:
                continue
            try:
                with self.lock:
                    self.runs += 1
                    self.resets_sent += 1
                    value = VALUES[self.runs % len(VALUES)]
                self.control("reset")
                req("POST", f"/api/sessions/{self.id}/lever", {"key": LEVER, "value": value}, timeout=300)
                self.control("play")
            except Exception as e:
                self.note(f"reset/lever/play: {e}")
                time.sleep(2)


def main():
    before = rss_mib()
    if before is None:
        sys.exit(f"no ruralgov serve process with --port {PORT} found (start it first: ruralgov serve --port {PORT})")
    tabs = [Tab(i + 1, i == 0) for i in range(TABS)]
    out = open(OUT, "w", newline="")
    w = csv.writer(out)
    w.writerow(["elapsed_s", "rss_mib"] + [f"months_tab{t.n}{'_ab' if t.ab else ''}" for t in tabs])
    samples = []

    def sample():
        el, r = round(time.time() - T0), rss_mib()
        ms = [t.months() for t in tabs]
        w.writerow([el, "" if r is None else f"{r:.1f}"] + ms)
        out.flush()
        if r is not None:
            samples.append((el, r))
        log(f"rss {r if r is None else round(r, 1)} MiB, months {ms}")

    sample()  # the server before the tabs
    threads = []
    for t in tabs:
        t.open()
        threads.append(threading.Thread(target=t.listen, daemon=True))
        threads[-1].start()
        t.listening.wait(60)
    for t in tabs:
        threads.append(threading.Thread(target=t.speak, daemon=True))
        threads[-1].start()
    next_sample = T0 + SAMPLE
    while True:
        now = time.time()
        if now >= DEADLINE:
            break
        if now >= next_sample:
            sample()
            next_sample += SAMPLE
        time.sleep(min(1.0, max(0.05, min(next_sample, DEADLINE) - time.time())))
    sample()
    STOP.set()
    for t in threads:
        t.join(timeout=10)
    for t in tabs:  # close the tabs
        try:
            req("DELETE", f"/api/sessions/{t.id}", timeout=10)
        except Exception as e:
            t.note(f"close: {e}")
    out.close()
    time.sleep(2)
    after = rss_mib()

    el = time.time() - T0
    tabbed = samples[1:] or samples  # the samples with the tabs open
    rs = [r for _, r in tabbed]
    first = [r for s, r in tabbed if s <= 600]
    last = [r for s, r in tabbed if s >= tabbed[-1][0] - 600]
    print()
    print(f"duration {el:.0f} s ({el / 3600:.2f} h), {TABS} sessions at {SPEED} months/s, CSV in {OUT}")
    for t in tabs:
        print(f"  tab {t.n} ({'A/B' if t.ab else 'one copy'}, session {t.id}): {t.months()} months per copy, "
              f"{t.runs} runs completed ({t.months() / el:.2f} months/s), {t.frames} frames, {t.snapshots} snapshots, "
              f"{t.gaps} gaps, {t.lagged} lagged, {t.reconnects} reconnects, {t.reopened} sessions reopened, {len(t.errors)} errors")
        for e in t.errors[:10]:
            print("     ", e)
    print(f"  total months: {sum(t.months() for t in tabs)} (copy-months {sum(t.months() * (2 if t.ab else 1) for t in tabs)})")
    if rs:
        print(f"RSS (MiB): before the tabs {samples[0][1]:.1f}; with the tabs: first sample ({tabbed[0][0]} s) {rs[0]:.1f}, "
              f"last ({tabbed[-1][0]} s) {rs[-1]:.1f}; after closing them {after if after is None else round(after, 1)}")
        print(f"  over {len(rs)} samples with the tabs open: min {min(rs):.1f}, median {statistics.median(rs):.1f}, max {max(rs):.1f}")
        print(f"  first 10 min ({len(first)} samples): mean {statistics.mean(first):.1f}, max {max(first):.1f}; "
              f"last 10 min ({len(last)} samples): mean {statistics.mean(last):.1f}, max {max(last):.1f}")
        if len(tabbed) >= 3:
            slope = statistics.linear_regression([s for s, _ in tabbed], [r for _, r in tabbed]).slope
            print(f"  trend (least squares over those samples): {slope * 3600:+.1f} MiB/hour")
    sys.exit(0)


if __name__ == "__main__":
    main()
