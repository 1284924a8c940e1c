# ci/matrix.cfg -> one line per cell: NAME, then TAB-separated KEY=VALUE
# with defaults, profiles ("use") and the cell's own keys applied in
# order. "want" adds (values joined by \036); "tags" gains "all".
# Errors go to stderr with the line number and make the exit status 2.
function err(msg) { printf "matrix.cfg:%d: %s\n", NR, msg > "/dev/stderr"; bad = 1 }
function value(   v) {
	v = $0
	sub(/^[ \t]*[^ \t]+[ \t]*/, "", v)
	sub(/[ \t]*#[^"]*$/, "", v)
	sub(/[ \t]+$/, "", v)
	return v
}
function set(arr, blk, k, v) {
	if (k == "want" && (blk SUBSEP k) in arr && arr[blk, k] != "")
		arr[blk, k] = arr[blk, k] "\036" v
	else
		arr[blk, k] = v
	if (!((blk SUBSEP k) in seen)) { seen[blk, k] = 1; keys[blk] = keys[blk] " " k }
}
function copy(from, to,   n, i, k, ks) {
	n = split(keys[from], ks, " ")
	for (i = 1; i <= n; i++) { k = ks[i]; set(kv, to, k, kv[from, k]) }
}
BEGIN { known = " emulator accel machine firmware cpu smp memory numa boot disk nic iommu design config hvargs rootargs want requires expect tags timeout-first timeout lava-device-type deploy replay replay-status replay-delay " }
{ sub(/\r$/, "") }
/^[ \t]*(#|$)/ { next }
{
	w = $1
	if (blk == "") {
		if (w == "defaults") blk = "@defaults"
		else if (w == "profile" && NF == 2) { blk = "@p:" $2; profiles[$2] = 1 }
		else if (w == "cell" && NF == 2) {
			if ($2 in cellseen) err("cell " $2 " defined twice")
			if ($2 !~ /^[a-z0-9][a-z0-9._-]*$/) err("bad cell name " $2)
			cellseen[$2] = 1
			blk = "@c:" $2; order[++ncells] = $2
			copy("@defaults", blk)
		} else err("expected defaults, profile NAME or cell NAME, got: " $0)
		next
	}
	if (w == "end") { blk = ""; next }
	if (w == "use") {
		for (i = 2; i <= NF; i++) {
			if (!($i in profiles)) err("unknown profile " $i)
			else copy("@p:" $i, blk)
		}
		next
	}
	if (index(known, " " w " ") == 0) { err("unknown key " w); next }
	v = value()
	if (w == "want") { set(kv, blk, w, v); next }
	if (w == "expect") {
		if (v !~ /^pass$/ && v !~ /^(xfail|refusal)[ \t]+"[^"]*"$/) err("expect pass, expect xfail \"REASON\" or expect refusal \"REGEX\"")
	}
	kv[blk, w] = v
	if (!((blk SUBSEP w) in seen)) { seen[blk, w] = 1; keys[blk] = keys[blk] " " w }
}
END {
	if (blk != "") err("block not ended with end")
	if (bad) exit 2
	for (c = 1; c <= ncells; c++) {
		b = "@c:" order[c]
		line = order[c]
		n = split(keys[b], ks, " ")
		for (i = 1; i <= n; i++) {
			v = kv[b, ks[i]]
			if (ks[i] == "tags") v = v " all"
			line = line "\t" ks[i] "=" v
		}
		if (!((b SUBSEP "tags") in kv)) line = line "\ttags=all"
		print line
	}
}
