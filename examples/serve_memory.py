"""Memory over a long seminar: one A/B session of the baseline replayed at full speed, with a
lever changed and a reset after every run, until it has simulated 86,400 months (two hours at
12 months a second); prints the server's resident memory every 20 runs.

    target/release/ruralgov serve --port 8713 &
    python3 examples/serve_memory.py 8713
"""
import sys
import json, time, urllib.request, subprocess
PORT=sys.argv[1] if len(sys.argv) > 1 else "8713"
A="127.0.0.1:"+PORT
def req(method, path, body=None):
    r = urllib.request.Request("http://"+A+path, method=method, data=None if body is None else json.dumps(body).encode(), headers={"content-type":"application/json"})
    with urllib.request.urlopen(r) as f: return f.read()
def rss():
    pid = subprocess.check_output(["pgrep","-f",f"serve --port {PORT}"]).split()[0].decode()
    return int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1])//1024
sid = json.loads(req("POST","/api/sessions",{"ab":True}))["id"]
req("POST",f"/api/sessions/{sid}/control",{"action":"speed","speed":0})
t0=time.time(); months=0; cycles=0; samples=[]
while months < 86400 and time.time()-t0 < 2400:
    req("POST",f"/api/sessions/{sid}/control",{"action":"play"})
    time.sleep(0.25)
    st=json.loads(req("GET",f"/api/sessions/{sid}/state"))
    if st["month"] >= st["total"]:
        months += st["month"]; cycles += 1
        req("POST",f"/api/sessions/{sid}/lever",{"key":"paths.legal.intensity","value":(cycles%3)/2})
        req("POST",f"/api/sessions/{sid}/control",{"action":"reset"})
    if cycles % 20 == 0 and (not samples or samples[-1][0] != cycles): samples.append((cycles, int(time.time()-t0), rss()))
print("cycles", cycles, "months", months, "seconds", int(time.time()-t0), "rss samples (cycle, s, MiB):", samples, "final rss", rss())
