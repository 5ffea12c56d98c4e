#!/bin/bash
# Several clients on one state directory: builds that touch the same cargo
# outputs are serialized by the coordinator, never staged twice; all
# succeed and every output keeps its inode and bytes.
. "$(dirname "$0")/lib.sh"

ws=$(new_workspace ws) || { not_ok "cargo builds the example workspace"; finish; exit 1; }
snapshot "$ws" >"$T/before"
# Fixed time stamps, so that every build's wheels must be byte-identical.
export SOURCE_DATE_EPOCH=1700000000

for mode in link move; do
	pids=()
	for i in 1 2 3 4; do
		(cd "$ws" && "$SPOKE" build -q -i "$PY" --stage=$mode -o "$T/$mode-$i" >"$T/c$i.out" 2>&1) &
		pids+=($!)
	done
	fails=0
	for i in 1 2 3 4; do
		wait "${pids[$((i - 1))]}" || { fails=$((fails + 1)); sed 's/^/#   /' "$T/c$i.out"; }
	done
	[ $fails -eq 0 ] && ok "[$mode] four concurrent builds all succeed" || not_ok "[$mode] four concurrent builds: $fails failed"
	check "[$mode] each wrote its three wheels" bash -c "for i in 1 2 3 4; do [ \$(ls '$T/$mode-'\$i/*.whl | wc -l) -eq 3 ] || exit 1; done"
	check "[$mode] wheels of the same inputs are identical" bash -c "cd '$T' && for i in 2 3 4; do diff <(cd $mode-1 && sha256sum *.whl) <(cd $mode-\$i && sha256sum *.whl) >/dev/null || exit 1; done"
	check "[$mode] cargo outputs kept their inode and bytes" same_snapshot "$ws" "$T/before"
	check "[$mode] nothing left staged" no_leftovers "$ws" "$ws/target/spoke"
done
check "cargo still fresh" cargo_fresh "$ws"
finish
