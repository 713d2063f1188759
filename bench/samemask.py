#!/usr/bin/env python3
"""Compare the client field of two outputs line by line: do both tools mask
every address to the same network address? usage: samemask.py A B"""
import ipaddress, sys

same = differ = 0
with open(sys.argv[1]) as a, open(sys.argv[2]) as b:
    for la, lb in zip(a, b):
        xa, xb = la.split(" ", 1)[0], lb.split(" ", 1)[0]
        try:
            if ipaddress.ip_address(xa) == ipaddress.ip_address(xb):
                same += 1
                continue
        except ValueError:
            pass
        differ += 1
print("%d lines with the same masked address, %d differ" % (same, differ))
