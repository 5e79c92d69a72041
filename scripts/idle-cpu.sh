#!/usr/bin/env bash
# Idle CPU of the TUI (issue 6, docs/PERFORMANCE.md): `meshtop` reading PODS simulated sidecars
# every 2 s through the real kube-rs port-forward path, in a tmux pane, with no key pressed.
# The simulator runs as a separate process, so its CPU is not counted against meshtop's.
#
# Usage: scripts/idle-cpu.sh            (PODS=50 WARM=30 MEASURE=120 SCENARIO=grpc-keepalive)
# Prints meshtop's CPU as % of one core over MEASURE seconds, the simulator's, and meshtop's RSS.
set -euo pipefail
cd "$(dirname "$0")/.."

PODS=${PODS:-50}
WARM=${WARM:-30}
MEASURE=${MEASURE:-120}
SCENARIO=${SCENARIO:-grpc-keepalive}
SESSION=meshtop-idle-$$

cargo build --release --quiet
BIN=$PWD/target/release/meshtop
tmp=$(mktemp -d)
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    [ -n "${SIM:-}" ] && kill "$SIM" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

"$BIN" sim --scenario "$SCENARIO" --pods "$PODS" --write-kubeconfig "$tmp/kubeconfig" \
    >"$tmp/sim.log" 2>&1 &
SIM=$!
for _ in $(seq 100); do [ -s "$tmp/kubeconfig" ] && break; sleep 0.1; done
[ -s "$tmp/kubeconfig" ] || { echo "simulator did not start"; cat "$tmp/sim.log"; exit 1; }

tmux new-session -d -s "$SESSION" -x 160 -y 50 \
    "exec $(printf %q "$BIN") --kubeconfig $(printf %q "$tmp/kubeconfig") -n prod --interval 2s"
sleep 2
# The pane's process is meshtop itself (`exec`); the tmux server's own command line also
# names the binary, so pgrep would find the wrong process.
TUI=$(tmux display-message -p -t "$SESSION" '#{pane_pid}' 2>/dev/null || true)
[ -n "$TUI" ] || { echo "meshtop exited at start"; exit 1; }
grep -q meshtop "/proc/$TUI/cmdline" || { echo "pane $TUI is not meshtop"; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
sleep "$WARM"
t0=$(ticks "$TUI"); s0=$(ticks "$SIM"); w0=$(date +%s.%N)
sleep "$MEASURE"
t1=$(ticks "$TUI"); s1=$(ticks "$SIM"); w1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$TUI/status")

echo "--- screen after $((WARM + MEASURE)) s"
tmux capture-pane -p -t "$SESSION" | head -3
awk -v t="$((t1 - t0))" -v s="$((s1 - s0))" -v hz="$HZ" -v w0="$w0" -v w1="$w1" \
    -v pods="$PODS" -v rss="$rss" 'BEGIN {
    wall = w1 - w0
    printf "pods %d, measured %.1f s\n", pods, wall
    printf "meshtop TUI: %.2f%% of one core (%.2f CPU-s), RSS %.1f MiB\n", 100 * t / hz / wall, t / hz, rss / 1024
    printf "simulator:   %.2f%% of one core (not counted)\n", 100 * s / hz / wall
}'
