#!/usr/bin/env python3
"""Write access-log lines with identifiers planted in every field, and the
list of identifiers (one per line) that must not survive anonymization.

usage: planted.py LINES_OUT IDS_OUT N
"""
import random, sys, urllib.parse

out, ids_out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(7)
ids = set()

def v4():
    return "%d.%d.%d.%d" % (rng.randint(11, 222), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))

def v6():
    return "2a02:%x:%x:%x::%x" % (rng.randint(1, 0xffff), rng.randint(1, 0xffff), rng.randint(1, 0xffff), rng.randint(1, 0xffff))

def email():
    return "user%d.%s@mail%d.example.org" % (rng.randint(1, 10**6), rng.choice(["ann", "bob", "eve"]), rng.randint(1, 99))

def token():
    return "%032x" % rng.getrandbits(128)

lines = []
for i in range(n):
    client = v4() if i % 5 else v6()
    p_ip, q_ip, r_ip, x_ip, ua_ip = v4(), v6(), v4(), v4(), v4()
    e1, e2, e3 = email(), email(), email()
    tok = token()
    for x in (client, p_ip, q_ip, r_ip, x_ip, ua_ip, e1, e2, e3, tok):
        ids.add(x)
    enc = urllib.parse.quote(e2, safe="")
    kind = i % 10
    if kind == 9:  # malformed
        lines.append("garbage %s %s %s" % (p_ip, e1, tok))
        continue
    path = "/account/%s/reset/%s/debug/%s" % (e1, tok, p_ip)
    query = "?email=%s&ip=%s&q=%s&utm_source=news" % (enc, q_ip, urllib.parse.quote_plus("call " + e3))
    ref = "https://%s/login?user=%s" % (r_ip, urllib.parse.quote(e1))
    ua = "Mozilla/5.0 (X11; Linux x86_64) from %s" % ua_ip
    lines.append('%s - %s [27/Nov/2026:10:%02d:%02d +0000] "GET %s%s HTTP/1.1" 200 %d "%s" "%s" "%s, 10.0.0.1"'
                 % (client, e1, i // 60 % 60, i % 60, path, query, rng.randint(100, 9999), ref, ua, x_ip))

with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
with open(ids_out, "w") as f:
    f.write("\n".join(sorted(ids)) + "\n")
