"""Runs a command, prints its stdout and stderr (merged) and succeeds only when the
command exits with the expected code. Usage: exit_code.py CODE COMMAND [ARGS...]"""
import subprocess
import sys

expected = int(sys.argv[1])
proc = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                      timeout=120)
sys.stdout.write(proc.stdout.decode(errors="replace"))
if proc.returncode != expected:
    print(f"exit_code.py: expected exit code {expected}, got {proc.returncode}")
    sys.exit(1)
