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
	check "[$mode] each wrote its four wheels" bash -c "for i in 1 2 3 4; do [ \$(ls '$T/$mode-'\$i/*.whl | wc -l) -eq 4 ] || exit 1; done"
	check "[$mode] wheels of the same inputs are identical" bash -c "cd '$T' && for i in 2 3 4; do diff <(cd $mode-1 && sha256sum *.whl) <(cd $mode-\$i && sha256sum *.whl) >/dev/null || exit 1; done"
	check "[$mode] cargo outputs kept their inode and bytes" same_snapshot "$ws" "$T/before"
	check "[$mode] nothing left staged" no_leftovers "$ws" "$ws/target/spoke"
done
# Overlapping sets at once: every package, one package, two packages.
pids=()
sets=("" "-p hello" "-p hello -p counter" "-p spoke-native")
want=(4 1 2 1)
for i in 0 1 2 3; do
	(cd "$ws" && "$SPOKE" build -q -i "$PY" ${sets[$i]} -o "$T/overlap-$i" >"$T/o$i.out" 2>&1) &
	pids+=($!)
done
fails=0
for i in 0 1 2 3; do
	wait "${pids[$i]}" || { fails=$((fails + 1)); sed 's/^/#   /' "$T/o$i.out"; }
done
[ $fails -eq 0 ] && ok "overlapping sets at once all succeed" || not_ok "overlapping sets at once: $fails failed"
check "each overlapping build wrote its wheels" bash -c "for i in 0 1 2 3; do n=\$(ls '$T'/overlap-\$i/*.whl | wc -l); [ \$n -eq \$(echo '${want[*]}' | cut -d' ' -f\$((i + 1))) ] || exit 1; done"
bad=0
for i in 0 1 2 3; do
	wheels_valid "$T/overlap-$i" || bad=$((bad + 1))
done
[ $bad -eq 0 ] && ok "the overlapping builds' wheels are valid" || not_ok "$bad overlapping builds wrote an invalid wheel"
check "the journal agrees with the disk: nothing unsettled" bash -c "cd '$ws' && '$SPOKE' status --json | '$PY' -c 'import json,sys; r=json.load(sys.stdin); assert r[\"unsettled\"] == [], r'"
check "cargo outputs kept their inode and bytes" same_snapshot "$ws" "$T/before"
check "nothing left staged" no_leftovers "$ws" "$ws/target/spoke"
check "cargo still fresh" cargo_fresh "$ws"
finish
