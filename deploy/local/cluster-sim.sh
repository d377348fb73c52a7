#!/usr/bin/env bash
# Simulated nodes on this machine: each node is a network namespace plus a mount namespace with its own /dev/shm,
# joined to one bridge through a veth pair shaped with tc tbf. A control node ("ctl") holds the orchestrator and its
# PostgreSQL. Every address is one this script gives its own namespaces (10.x.y.0/24, derived from the cluster's name);
# the bridge holds .1 so that this machine's root namespace (tests, the CLI) reaches the orchestrator. Nothing is routed
# off the machine. Needs root and iproute2 (ip, tc), util-linux (unshare, nsenter).
#
#   deploy/local/cluster-sim.sh up NAME NODES [RATE]   make ctl + n1..nNODES, links shaped to RATE (tc syntax, default 1gbit)
#   deploy/local/cluster-sim.sh down NAME              stop every process in the namespaces, remove them (idempotent)
#   deploy/local/cluster-sim.sh status NAME            list the nodes, their addresses and link shaping
#   deploy/local/cluster-sim.sh address NAME NODE      print a node's address (NODE: ctl, n1, n2, ...)
#   deploy/local/cluster-sim.sh exec NAME NODE CMD...  run CMD inside NODE (its network and /dev/shm), in the current folder
#   deploy/local/cluster-sim.sh link NAME NODE up|down take NODE's link down (cable pulled) or bring it back
#   deploy/local/cluster-sim.sh rate NAME NODE RATE    reshape NODE's link, both directions (e.g. 5mbit)
#   deploy/local/cluster-sim.sh isolate NAME NODE      cut NODE off from ctl only (it still reaches the other nodes)
#   deploy/local/cluster-sim.sh rejoin NAME NODE       undo isolate
#   deploy/local/cluster-sim.sh postgres NAME          start PostgreSQL inside ctl, print its connection string (from ctl)
#
# NAME: 1-8 letters, digits or '-' (interface names are NAME-br, NAME-vN and must fit 15 characters).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state_root=/run/sd-cluster-sim

say() { printf '%s\n' "$*" >&2; }
die() { say "cluster-sim.sh: $*"; exit 1; }

check_name() {
  [[ "$1" =~ ^[a-z0-9][a-z0-9-]{0,7}$ ]] || die "cluster name '$1' must be 1-8 lowercase letters, digits or '-'"
}

# 10.A.B.0/24 from the name's checksum, so that two clusters with different names do not share a subnet.
subnet() {
  local sum; sum="$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
  echo "10.$((100 + sum % 100)).$(((sum / 100) % 256))"
}

# ctl is .2, node nK is .(10+K).
host_number() {
  case "$1" in
    ctl) echo 2 ;;
    n[0-9]*) echo $((10 + ${1#n})) ;;
    *) die "node '$1' is unknown: ctl, n1, n2, ..." ;;
  esac
}

address() { echo "$(subnet "$1").$(host_number "$2")"; }
veth() { if [ "$2" = ctl ]; then echo "$1-vc"; else echo "$1-v${2#n}"; fi; }
netns() { echo "$1-$2"; }
mount_file() { echo "$state_root/$1/$2.mnt"; }

nodes_of() {
  local name="$1"
  [ -d "$state_root/$name" ] || return 0
  find "$state_root/$name" -maxdepth 1 -name '*.mnt' -printf '%f\n' | sed 's/\.mnt$//' | sort
}

require_tools() {
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces, veth pairs and tc need CAP_NET_ADMIN and CAP_SYS_ADMIN)"
  local tool
  for tool in ip tc unshare nsenter; do command -v "$tool" >/dev/null || die "'$tool' is missing (apt-get install iproute2 util-linux)"; done
}

# Token bucket on the device's egress: RATE, 50 ms of queue, and a burst of 512 KiB or, for N gbit, 2N MiB (tbf needs
# at least rate / kernel HZ to reach its rate).
shape() {
  local where="$1" device="$2" rate="$3" burst=512kb
  if [[ "$rate" =~ ^([0-9]+)gbit$ ]]; then burst="$((2 * BASH_REMATCH[1]))mb"; fi
  $where tc qdisc replace dev "$device" root tbf rate "$rate" burst "$burst" latency 50ms
}

add_node() {
  local name="$1" node="$2" rate="$3" ns mnt device ip
  ns="$(netns "$name" "$node")"; mnt="$(mount_file "$name" "$node")"; device="$(veth "$name" "$node")"; ip="$(address "$name" "$node")"
  ip netns add "$ns"
  touch "$mnt"
  # A persistent mount namespace (bound to $mnt) whose /dev/shm is a fresh tmpfs: ranks on one node share it, nodes do not.
  unshare --mount="$mnt" --propagation private mount -t tmpfs -o size=1g,mode=1777 tmpfs /dev/shm
  ip link add "$device" type veth peer name "$device-p"
  ip link set "$device-p" netns "$ns"
  ip link set "$device" master "$name-br" up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip link set "$device-p" name eth0
  ip netns exec "$ns" ip addr add "$ip/24" dev eth0
  ip netns exec "$ns" ip link set eth0 up
  shape "" "$device" "$rate"
  shape "ip netns exec $ns" eth0 "$rate"
}

up() {
  local name="$1" count="$2" rate="${3:-1gbit}" node
  [[ "$count" =~ ^[1-9][0-9]?$ ]] || die "NODES must be 1-99 (got '$count')"
  down "$name"
  mkdir -p "$state_root/$name"
  # Mount-namespace files must live on a private mount.
  mount --bind "$state_root/$name" "$state_root/$name"
  mount --make-private "$state_root/$name"
  ip link add "$name-br" type bridge
  ip addr add "$(subnet "$name").1/24" dev "$name-br"
  ip link set "$name-br" up
  add_node "$name" ctl "$rate"
  for node in $(seq 1 "$count"); do add_node "$name" "n$node" "$rate"; done
  say "cluster $name: ctl $(address "$name" ctl), nodes n1..n$count at $(subnet "$name").11.., links $rate"
}

down() {
  local name="$1" node ns pids
  for node in $(nodes_of "$name"); do
    ns="$(netns "$name" "$node")"
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  done
  for node in $(nodes_of "$name"); do
    ip link del "$(veth "$name" "$node")" 2>/dev/null || true
    ip netns del "$(netns "$name" "$node")" 2>/dev/null || true
    umount "$(mount_file "$name" "$node")" 2>/dev/null || true
  done
  # Namespaces left by a run whose state folder is gone (a crash before it was written).
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$name-(ctl|n[0-9]+)$" || true); do ip netns del "$ns" || true; done
  ip link del "$name-br" 2>/dev/null || true
  if [ -d "$state_root/$name" ]; then
    umount "$state_root/$name" 2>/dev/null || true
    rm -rf "${state_root:?}/$name"
  fi
}

run_in() {
  local name="$1" node="$2"; shift 2
  local mnt; mnt="$(mount_file "$name" "$node")"
  [ -e "$mnt" ] || die "node $node of cluster $name does not exist (run: $0 up $name N)"
  exec nsenter --mount="$mnt" --net="/run/netns/$(netns "$name" "$node")" --wd="$PWD" -- "$@"
}

link() {
  local name="$1" node="$2" state="$3"
  [[ "$state" =~ ^(up|down)$ ]] || die "link state must be up or down (got '$state')"
  ip link set "$(veth "$name" "$node")" "$state"
}

rate() {
  shape "" "$(veth "$1" "$2")" "$3"
  shape "ip netns exec $(netns "$1" "$2")" eth0 "$3"
}

# Blackhole routes both ways between NODE and ctl: packets between them vanish, as behind a failed switch port.
isolate() {
  ip netns exec "$(netns "$1" "$2")" ip route replace blackhole "$(address "$1" ctl)/32"
  ip netns exec "$(netns "$1" ctl)" ip route replace blackhole "$(address "$1" "$2")/32"
}

rejoin() {
  ip netns exec "$(netns "$1" "$2")" ip route del blackhole "$(address "$1" ctl)/32" 2>/dev/null || true
  ip netns exec "$(netns "$1" ctl)" ip route del blackhole "$(address "$1" "$2")/32" 2>/dev/null || true
}

status() {
  local name="$1" node
  [ -d "$state_root/$name" ] || { echo "cluster $name: down"; exit 3; }
  echo "cluster $name: bridge $name-br $(subnet "$name").1/24"
  for node in $(nodes_of "$name"); do
    printf '%-4s %-15s %s\n' "$node" "$(address "$name" "$node")" "$(tc qdisc show dev "$(veth "$name" "$node")" | head -n1)"
  done
}

postgres() {
  local name="$1" dir
  dir="$state_root/$name/postgres"
  mkdir -p "$dir"
  chown postgres:postgres "$dir"
  SD_PG_DIR="$dir" SD_PG_PORT=5432 "$0" exec "$name" ctl "$repo/deploy/local/postgres.sh" start
}

verb="${1:-}"; shift || true
[ -n "$verb" ] || die "usage: $0 up|down|status|address|exec|link|rate|isolate|rejoin|postgres NAME ..."
[ "$#" -ge 1 ] || die "$verb needs the cluster NAME"
check_name "$1"
case "$verb" in
  up) require_tools; [ "$#" -ge 2 ] || die "up needs NAME NODES [RATE]"; up "$@" ;;
  down) require_tools; down "$1" ;;
  status) status "$1" ;;
  address) [ "$#" = 2 ] || die "address needs NAME NODE"; address "$1" "$2" ;;
  exec) [ "$#" -ge 3 ] || die "exec needs NAME NODE CMD..."; run_in "$@" ;;
  link) [ "$#" = 3 ] || die "link needs NAME NODE up|down"; link "$@" ;;
  rate) [ "$#" = 3 ] || die "rate needs NAME NODE RATE"; rate "$@" ;;
  isolate) [ "$#" = 2 ] || die "isolate needs NAME NODE"; isolate "$@" ;;
  rejoin) [ "$#" = 2 ] || die "rejoin needs NAME NODE"; rejoin "$@" ;;
  postgres) postgres "$1" ;;
  *) die "unknown verb '$verb' (up | down | status | address | exec | link | rate | isolate | rejoin | postgres)" ;;
esac
