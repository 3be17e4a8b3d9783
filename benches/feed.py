"""A feed on standard input, as `tail -f` gives one: sends the last N lines of a JSONL
file to `storyhash index add INDEX -` one at a time, each after the answer to the one
before and a pause, and prints the answer latencies (send to answer line). The index
commits at each pause of the feed, so with no pause each answer also waits for the
commit before it.

    python3 benches/feed.py STORYHASH INDEX FILE.jsonl N PAUSE_SECONDS
"""
import subprocess
import sys
import time

binary, index, source, n, pause = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
with open(source, encoding="utf-8") as f:
    lines = [line.rstrip("\n") + "\n" for line in f if line.strip()][-n:]
writer = subprocess.Popen([binary, "index", "add", "--quiet", "--format", "json", index, "-"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
latencies = []
started = time.time()
for line in lines:
    sent = time.time()
    writer.stdin.write(line)
    writer.stdin.flush()
    writer.stdout.readline()
    latencies.append(time.time() - sent)
    time.sleep(pause)
writer.stdin.close()
if writer.wait() != 0:
    sys.exit(f"index add failed ({writer.returncode})")
latencies.sort()
ms = lambda q: 1000 * latencies[min(int(q * len(latencies)), len(latencies) - 1)]
print(f"{len(lines)} answers: median {ms(0.5):.0f} ms, p90 {ms(0.9):.0f} ms, "
      f"max {1000 * latencies[-1]:.0f} ms; {time.time() - started:.1f} s in all")
