# shellcheck shell=bash
# bench/live-common.sh: sourced by bench/live and bench/live-http. Finding binaries, installing
# a missing peer when run by hand, CPU time accounting from /proc, the receive placement on the
# capture veth, and waiting for a capture tool to go idle before it is stopped.

# find_bin ENV_VALUE RELATIVE_PATH: ENV_VALUE if set, else ./build/PATH or the same beside the
# script's source tree ($here must be the script's folder).
find_bin() {
	local v="$1" rel="$2" c
	if [ -n "$v" ]; then echo "$v"; return; fi
	for c in "./build/$rel" "$here/../build/$rel"; do
		if [ -x "$c" ]; then echo "$c"; return; fi
	done
	echo "./build/$rel"
}

# need COMMAND PACKAGE [APT_ARGS...]: 0 when COMMAND exists, installing PACKAGE first when run by
# hand ($by_hand = 1: root, a terminal, not CI, not the test suite); else a note and 1.
need() {
	local cmd="$1" pkg="$2"
	shift 2
	command -v "$cmd" >/dev/null 2>&1 && return 0
	if [ "${by_hand:-0}" = 1 ] && command -v apt-get >/dev/null 2>&1; then
		echo "$BENCH: installing $pkg for $cmd" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" "$pkg" >/dev/null || true
		command -v "$cmd" >/dev/null 2>&1 && return 0
	fi
	echo "$BENCH: note: $cmd is not installed ($pkg); skipping it" >&2
	return 1
}

split() { tr ',' ' ' <<<"$1"; }

rate_pps() { # 100k -> 100000
	local r="$1"
	case "$r" in
	*k | *K) echo $((${r%?} * 1000)) ;;
	*M) echo $((${r%?} * 1000000)) ;;
	*) echo "$r" ;;
	esac
}

proc_ticks() { # PID: utime + stime of the whole process, in clock ticks
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
softirq_ticks() { # CPU
	awk -v c="cpu$1" '$1 == c { print $8 }' /proc/stat
}
task_ticks() { # CPU: user + system (not nice: background work run niced stays out of it)
	awk -v c="cpu$1" '$1 == c { print $2 + $4 }' /proc/stat
}
now_ns() { date +%s%N; }

# set_placement A|C: where the receive softirq of $IF_CAP runs. A: veth's default (the sender
# runs the receiver's stack inline, on the generator's CPU); C: rps_cpus moves it to $CAP_CPU.
set_placement() {
	local mask=0
	[ "$1" = C ] && mask=$(printf '%x' $((1 << CAP_CPU)))
	rc_in sh -c "echo $mask > /sys/class/net/$IF_CAP/queues/rx-0/rps_cpus" ||
		{ rc_fail "cannot set rps_cpus on $IF_CAP"; return 1; }
}

# tool_idle PID QUIET_MS: wait (10 s at most) until PID has used no CPU for QUIET_MS, so that
# what is still in a tool's ring gets read before it is stopped (tools that lose unread frames
# on SIGINT).
tool_idle() {
	local pid="$1" quiet_ms="$2" last now since t end
	last=$(proc_ticks "$pid")
	since=$(now_ns)
	end=$((since + 10000000000))
	while :; do
		sleep 0.05
		now=$(proc_ticks "$pid")
		t=$(now_ns)
		if [ "$now" != "$last" ]; then
			last=$now
			since=$t
		elif [ $((t - since)) -ge $((quiet_ms * 1000000)) ]; then
			return 0
		fi
		[ "$t" -lt "$end" ] || return 0
	done
}
