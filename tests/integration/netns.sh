# shellcheck shell=bash
# netns.sh: sourced by the live tests (tests/integration/live-*) and bench/live. Private network
# namespaces with a silent veth pair, processes started inside them, waits with deadlines, and a
# cleanup that always runs: every namespace is deleted and every process started here is killed,
# on success, failure, SIGINT or SIGTERM.
#
#   . tests/integration/netns.sh
#   rc_init live-exact                 # root or skip (77), binaries, $RC_TMP, the cleanup trap
#   rc_netns_up exact                  # namespace rc-$$-exact: $RC_NS, $RC_IF_CAP, $RC_IF_GEN
#   rc_ringcap_start cap -i "$RC_IF_CAP" --counters "$RC_TMP/c.json"  # waits for the ready line
#   rc_gen -i "$RC_IF_GEN" -n 20000 --rate 20000 --report "$RC_TMP/g.json"
#   rc_stop "$RC_PID" INT              # exit status in $RC_RC
#   rc_py "$RC_TMP" <<'PY'             # assertions in Python: eq(), check(), load(), lines()
#   eq(load(sys.argv[1] + "/c.json")["pcap.received"], 20000, "received")
#   PY
#   rc_finish                          # exit 1 if any check failed, else 0
#
# Traffic exists only inside the namespaces made here, between the two ends of one veth pair, with
# addresses from 198.18.0.0/15; ringcap-gen refuses anything else. IPv6 is disabled and ARP and
# multicast are off on both ends, so the only frames on the pair are the ones a test sends.
# No sleep stands for synchronisation: waits poll a condition (a line in a file, a counter, a
# process exit) against a deadline.

# Ring geometry of the tests that must lose nothing: 256 blocks, each retired after 10 ms at the
# latest, so a capture thread descheduled for a second on a busy 2-CPU box still drops nothing at
# the tests' 20 kpps.
RC_RING_ARGS=(--ring-size 64M --block-size 256K)

RC_NETNS_LIST=()
RC_PIDS=()
RC_FAILED=0
RC_NS_COUNT=0
RC_PID=
RC_RC=
RC_TMP=

rc_log() {
	echo "${RC_NAME:-live}: $*" >&2
}

rc_skip() {
	rc_log "SKIP: $*"
	exit 77
}

rc_fail() {
	rc_log "FAIL: $*"
	RC_FAILED=1
}

# Kill what we started (SIGTERM, then SIGKILL after 2 s), delete our namespaces, remove $RC_TMP.
rc__cleanup() {
	local pid i ns
	set +e # a test may run under errexit: the cleanup must run to its end
	for pid in "${RC_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${RC_PIDS[@]}"; do
		for ((i = 0; i < 200; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.01
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	RC_PIDS=()
	for ns in "${RC_NETNS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	RC_NETNS_LIST=()
	if [ -n "$RC_TMP" ] && [ -d "$RC_TMP" ]; then
		if [ "${RC_KEEP:-0}" = 1 ] || { [ "$RC_FAILED" != 0 ] && [ -n "${RC_KEEP_ON_FAIL:-}" ]; }; then
			rc_log "kept $RC_TMP"
		else
			rm -rf "$RC_TMP"
		fi
	fi
}

# rc_init NAME: skip unless root, find the binaries (RINGCAP, RINGCAP_GEN or ./build*), make
# $RC_TMP and install the cleanup trap.
rc_init() {
	RC_NAME="$1"
	local src
	src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
	[ "$(id -u)" = 0 ] || rc_skip "needs root (network namespaces, AF_PACKET)"
	command -v ip >/dev/null 2>&1 || rc_skip "needs iproute2 (ip)"
	command -v python3 >/dev/null 2>&1 || rc_skip "needs python3"
	RINGCAP="${RINGCAP:-$src/build/ringcap}"
	RINGCAP_GEN="${RINGCAP_GEN:-$(dirname "$RINGCAP")/tools/ringcap-gen}"
	[ -x "$RINGCAP" ] || rc_skip "no ringcap binary at $RINGCAP (set RINGCAP)"
	[ -x "$RINGCAP_GEN" ] || rc_skip "no ringcap-gen binary at $RINGCAP_GEN (set RINGCAP_GEN)"
	case "$("$RINGCAP" --help 2>&1)" in # no pipe: callers may run under pipefail
	*--interface*) ;;
	*) rc_skip "$RINGCAP has no live capture (-i) yet" ;;
	esac
	RC_TMP="$(mktemp -d "${TMPDIR:-/tmp}/ringcap-$RC_NAME.XXXXXX")"
	chmod 755 "$RC_TMP" # tests that drop privileges read and write here too
	trap rc__cleanup EXIT
	trap 'rc_log "interrupted"; exit 130' INT
	trap 'rc_log "terminated"; exit 143' TERM
	trap 'exit 129' HUP
}

# rc_netns_up NAME: namespace rc-$$-NAME holding a veth pair, both ends up and silent:
# $RC_IF_CAP (capture side, 198.18.N.1/24) and $RC_IF_GEN (generator side, 198.18.N.2/24).
# Sets RC_NS. Skips the test (77) when namespaces cannot be made here.
rc_netns_up() {
	local ns="rc-$$-$1" n i
	RC_NS_COUNT=$((RC_NS_COUNT + 1))
	n=$((RC_NS_COUNT % 250))
	if ! ip netns add "$ns" 2>"$RC_TMP/netns.err"; then
		rc_skip "cannot create a network namespace: $(cat "$RC_TMP/netns.err")"
	fi
	RC_NETNS_LIST+=("$ns")
	RC_NS="$ns"
	RC_IF_CAP=rca
	RC_IF_GEN=rcb
	RC_ADDR_CAP="198.18.$n.1"
	RC_ADDR_GEN="198.18.$n.2"
	# IPv6 off before the links exist, so not even one router solicitation or DAD probe leaves
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	ip -n "$ns" link add "$RC_IF_CAP" type veth peer name "$RC_IF_GEN" ||
		rc_skip "cannot create a veth pair in $ns"
	for i in "$RC_IF_CAP" "$RC_IF_GEN"; do
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" >/dev/null 2>&1
		ip -n "$ns" link set dev "$i" arp off multicast off
	done
	ip -n "$ns" addr add "$RC_ADDR_CAP/24" dev "$RC_IF_CAP"
	ip -n "$ns" addr add "$RC_ADDR_GEN/24" dev "$RC_IF_GEN"
	ip -n "$ns" link set dev lo up
	ip -n "$ns" link set dev "$RC_IF_CAP" up
	ip -n "$ns" link set dev "$RC_IF_GEN" up
	rc_wait_cond 5 "veth pair up in $ns" rc__links_up "$ns" || return 1
}

rc__links_up() {
	ip -n "$1" -o link show up 2>/dev/null | grep -c "LOWER_UP" | grep -qx 3 # lo, rca, rcb
}

# rc_in CMD...: run CMD inside the current namespace.
rc_in() {
	ip netns exec "$RC_NS" "$@"
}

# rc_start NAME CMD...: start CMD in the background inside $RC_NS, its standard output in
# $RC_TMP/NAME.out and standard error in $RC_TMP/NAME.err. Sets RC_PID; the cleanup kills it.
rc_start() {
	local name="$1"
	shift
	ip netns exec "$RC_NS" "$@" >"$RC_TMP/$name.out" 2>"$RC_TMP/$name.err" &
	RC_PID=$!
	RC_PIDS+=("$RC_PID")
}

# rc_wait_cond SECONDS WHAT CMD...: poll CMD until it succeeds; false (and a failure) after SECONDS.
rc_wait_cond() {
	local secs="$1" what="$2" end
	shift 2
	end=$(($(date +%s%N) + secs * 1000000000))
	while ! "$@"; do
		if [ "$(date +%s%N)" -ge "$end" ]; then
			rc_fail "timed out after ${secs}s waiting for $what"
			return 1
		fi
		sleep 0.02
	done
}

# rc_wait_line FILE PATTERN SECONDS PID: wait for a line matching PATTERN (grep -E) in FILE while
# PID lives. 0 found; 1 PID exited first or the deadline passed (with a failure logged).
rc_wait_line() {
	local file="$1" pat="$2" secs="$3" pid="$4" end
	end=$(($(date +%s%N) + secs * 1000000000))
	while ! grep -qE -- "$pat" "$file" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null; then
			grep -qE -- "$pat" "$file" 2>/dev/null && return 0
			rc_fail "process $pid exited before printing '$pat'; its stderr:"
			sed 's/^/    /' "$file" >&2
			return 1
		fi
		if [ "$(date +%s%N)" -ge "$end" ]; then
			rc_fail "no '$pat' in $file after ${secs}s"
			sed 's/^/    /' "$file" >&2
			return 1
		fi
		sleep 0.02
	done
}

# rc_ringcap_start NAME ARGS...: ringcap ARGS in $RC_NS, waiting (30 s at most) for its ready
# line "ringcap: capturing on". Sets RC_PID. Returns 1 if it never got ready.
rc_ringcap_start() {
	local name="$1"
	shift
	rc_start "$name" "$RINGCAP" "$@"
	rc_wait_line "$RC_TMP/$name.err" '^ringcap: capturing on' 30 "$RC_PID"
}

# rc_stop PID [SIGNAL]: signal PID (default INT) and wait for it, 30 s at most, then SIGKILL.
# Its exit status is in RC_RC (137 when it had to be killed).
rc_stop() {
	local pid="$1" sig="${2:-INT}" i
	kill "-$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 1500; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$pid" 2>/dev/null; then
		rc_fail "process $pid did not stop within 30 s of SIG$sig; killing it"
		kill -KILL "$pid" 2>/dev/null
	fi
	RC_RC=0
	wait "$pid" 2>/dev/null || RC_RC=$?
	rc__forget "$pid"
}

# rc_wait_exit PID SECONDS: wait for PID to exit on its own; RC_RC its status.
rc_wait_exit() {
	local pid="$1" secs="$2" end
	end=$(($(date +%s%N) + secs * 1000000000))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s%N)" -ge "$end" ]; then
			rc_fail "process $pid still running after ${secs}s; stopping it"
			rc_stop "$pid" TERM
			return 1
		fi
		sleep 0.02
	done
	RC_RC=0
	wait "$pid" 2>/dev/null || RC_RC=$?
	rc__forget "$pid"
}

rc__forget() {
	local p keep=()
	for p in "${RC_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	RC_PIDS=("${keep[@]}")
}

# rc_gen ARGS...: ringcap-gen ARGS in $RC_NS, in the foreground (its stderr in $RC_TMP/gen.err,
# echoed). Returns its exit status.
rc_gen() {
	local rc=0
	ip netns exec "$RC_NS" "$RINGCAP_GEN" "$@" 2>"$RC_TMP/gen.err" || rc=$?
	sed 's/^/    /' "$RC_TMP/gen.err" >&2
	[ "$rc" = 0 ] || rc_fail "ringcap-gen $* exited $rc"
	return "$rc"
}

# rc_ifstat IFACE COUNTER: a counter of /sys/class/net/IFACE/statistics inside $RC_NS.
rc_ifstat() {
	ip netns exec "$RC_NS" cat "/sys/class/net/$1/statistics/$2"
}

# rc_run NAME CMD...: run CMD in $RC_NS in the foreground, 30 s at most; output in
# $RC_TMP/NAME.out/.err, exit status in RC_RC.
rc_run() {
	local name="$1"
	shift
	RC_RC=0
	timeout -k 5 30 ip netns exec "$RC_NS" "$@" >"$RC_TMP/$name.out" 2>"$RC_TMP/$name.err" ||
		RC_RC=$?
}

# Python helpers for assertions; rc_py ARGS... <<'PY' runs the body with them (sys.argv[1:] =
# ARGS) and records a failure when a check failed or Python itself did.
RC_PY_PRELUDE='
import json, sys
fails = 0
def check(cond, what):
    global fails
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        fails += 1
    return cond
def eq(got, want, what):
    return check(got == want, f"{what}: {got}" if got == want else f"{what}: got {got}, want {want}")
def load(path):
    with open(path) as f:
        return json.load(f)
def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]
def flow_key(proto, a, ap, b, bp):
    """A direction-free key of a 5-tuple."""
    return (proto, frozenset([(a, int(ap)), (b, int(bp))]))
'

rc_py() {
	local body
	body="$(cat)"
	if ! python3 -c "$RC_PY_PRELUDE
$body
sys.exit(1 if fails else 0)" "$@"; then
		RC_FAILED=1
	fi
}

# rc_finish: the test's exit status.
rc_finish() {
	if [ "$RC_FAILED" != 0 ]; then
		rc_log "FAILED"
		exit 1
	fi
	rc_log "passed"
	exit 0
}
