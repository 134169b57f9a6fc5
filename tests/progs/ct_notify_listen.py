#!/usr/bin/env python3
"""A stand-in for systemd's end of the notify protocol: receive datagrams
on SOCKET for SECONDS (or until STOPPING=1), one line per message:
"<monotonic s> <sender pid> <fields separated by |>". At the first READY=1
the sender is frozen (SIGSTOP) while its BPF links are counted from
/proc/PID/fdinfo, so what was attached at READY is what the line says:
"<t> <pid> READY links=N"."""
import os, signal, socket, struct, sys, time

path, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
os.chmod(path, 0o777)
print("listening", flush=True)

def bpf_links(pid):
    n = 0
    d = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(d):
        try:
            with open(f"{d}/{fd}") as f:
                n += any(l.startswith("link_id:") for l in f)
        except OSError:
            pass
    return n

end = time.monotonic() + seconds
ready = False
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        break
    pid = 0
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    fields = msg.decode(errors="replace").strip().split("\n")
    now = time.monotonic()
    if "READY=1" in fields and not ready and pid:
        ready = True
        os.kill(pid, signal.SIGSTOP)
        try:
            print(f"{now:.3f} {pid} READY links={bpf_links(pid)}", flush=True)
        finally:
            os.kill(pid, signal.SIGCONT)
    print(f"{now:.3f} {pid} " + "|".join(fields), flush=True)
    if "STOPPING=1" in fields:
        break
