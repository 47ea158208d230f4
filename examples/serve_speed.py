"""Measure the seminar view's speed: months per second and frames per second at 12 months/s
and at full speed, one copy and A/B, and the server's resident memory.

    target/release/ruralgov serve --port 8712 &
    python3 examples/serve_speed.py 8712

(docs/serve.md holds the figures this printed.)
"""
import json, socket, time, urllib.request, threading, subprocess, sys
PORT=sys.argv[1] if len(sys.argv) > 1 else "8712"
A="127.0.0.1:"+PORT
def req(method, path, body=None):
    r = urllib.request.Request("http://"+A+path, method=method, data=None if body is None else json.dumps(body).encode(), headers={"content-type":"application/json"})
    with urllib.request.urlopen(r) as f: return f.read()
def rss():
    pid = subprocess.check_output(["pgrep","-f",f"serve --port {PORT}"]).split()[0].decode()
    return int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1])//1024
for ab in [False, True]:
    for speed in [12, 0]:
        s = json.loads(req("POST","/api/sessions",{"ab":ab}))
        sid = s["id"]
        frames=[0]; stop=[False]
        def listen():
            so = socket.create_connection(("127.0.0.1",int(PORT))); so.sendall(f"GET /api/sessions/{sid}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            f = so.makefile("rb")
            while not stop[0]:
                line = f.readline()
                if not line: break
                if line.startswith(b"data: "): frames[0]+=1
        t=threading.Thread(target=listen,daemon=True); t.start(); time.sleep(0.5)
        req("POST",f"/api/sessions/{sid}/control",{"action":"speed","speed":speed})
        f0=frames[0]; t0=time.time(); req("POST",f"/api/sessions/{sid}/control",{"action":"play"})
        time.sleep(3)
        st=json.loads(req("GET",f"/api/sessions/{sid}/state")); t1=time.time(); f1=frames[0]
        req("POST",f"/api/sessions/{sid}/control",{"action":"pause"})
        print(f"ab={ab} speed={speed or 'fastest'}: {st['month']/(t1-t0):.1f} months/s, {(f1-f0)/(t1-t0):.1f} frames/s, rss {rss()} MiB")
        stop[0]=True
        req("DELETE",f"/api/sessions/{sid}")
