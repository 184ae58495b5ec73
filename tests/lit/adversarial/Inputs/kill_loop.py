"""Kills a command with SIGKILL at random points and checks what it leaves.

  kill_loop.py DIR ROUNDS SEED -- COMMAND_A -- COMMAND_B

Runs COMMAND_A and COMMAND_B (which write DIR with different contents) once each
to completion, recording DIR's files, then ROUNDS times runs one of them (at
random) and kills it with SIGKILL after a random delay within its full run time.
After every round DIR must hold exactly A's files or exactly B's, never a mix, a
truncated file or a missing one. Hidden names (.NAME.tmp-*, a killed writer's
temporaries, which no reader opens) are left out of the comparison. Prints one
summary line."""
import hashlib
import os
import random
import signal
import subprocess
import sys
import time


def snapshot(path):
    if not os.path.isdir(path):
        return None
    out = {}
    for name in sorted(n for n in os.listdir(path) if not n.startswith(".")):
        with open(os.path.join(path, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


target, rounds, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rest = sys.argv[4:]
split = [i for i, a in enumerate(rest) if a == "--"]
command_a, command_b = rest[split[0] + 1:split[1]], rest[split[1] + 1:]
rng = random.Random(seed)

states, durations = [], []
for command in (command_a, command_b):
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    durations.append(time.monotonic() - start)
    states.append(snapshot(target))
if states[0] == states[1]:
    sys.exit("kill_loop.py: the two commands write the same files; the check would be blind")

killed = 0
for r in range(rounds):
    which = rng.randrange(2)
    proc = subprocess.Popen((command_a, command_b)[which], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0, durations[which]))
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        killed += 1
    proc.wait()
    now = snapshot(target)
    if now not in states:
        sys.exit(f"kill_loop.py: round {r}: {target} holds a mix: {now}")
# Temporaries of killed writers are hidden names (.NAME.tmp-*), never the target.
print(f"kill_loop.py: {rounds} rounds, {killed} killed, {target} always complete")
