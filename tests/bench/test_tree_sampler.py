"""The benchmark's memory sampler counts a process tree's memory once, however often the tree
starts short-lived helpers (a JVM without lake/aws/java's file system spawns `chmod` for each
file it writes)."""

import subprocess
import sys
import time

import psutil

from bench.harness import TreeSampler

# A parent holding 300 MB that forks a helper every 0.2 s; each helper lives 0.1 s. A fork shares
# the parent's pages, so each helper's RSS shows most of them.
PARENT = """
import os, time
held = bytearray(300 * 2**20)
for i in range(0, len(held), 4096):
    held[i] = 1
print("ready", flush=True)
for _ in range(10):
    if os.fork() == 0:
        time.sleep(0.1)
        os._exit(0)
    time.sleep(0.2)
    os.wait()
"""


def test_short_lived_helpers_are_not_counted_as_memory_of_their_own():
    proc = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        parent_rss = psutil.Process(proc.pid).memory_info().rss
        sampler = TreeSampler(proc.pid, interval_s=0.02, use_hwm=False).start()
        time.sleep(1.5)
        peak = sampler.stop()
    finally:
        proc.wait(timeout=30)
    assert parent_rss > 300 * 2**20
    assert peak < parent_rss * 1.2  # counted twice, it would be about 2x
