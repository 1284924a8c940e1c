# Read a serial log; print what the runner decides from, as KEY=VALUE
# lines: lines, plan, results, ok, notok, skip, panic (the first panic
# line), result (the "hv: test result" word), first_notok, last, and
# wantN=1 when want regex N (-v wants="RE1\036RE2") has an ok non-SKIP
# line. One leading "<source>: " is stripped before TAP is parsed
# (DESIGN.md's serial contract). Children print their own TAP too, which
# the root gathers into the run's stream: the run's stream is the source
# of the last plan line (without a plan, of the first "TAP version").
BEGIN { nw = (wants == "") ? 0 : split(wants, want, "\036") }
{
	sub(/\r$/, ""); lines++
	if ($0 != "") last = $0
	l = $0
	if (panic == "" && l ~ /(^|: )panic: /) panic = l
	if (l ~ /^hv: test result: /) { r = l; sub(/^hv: test result: /, "", r); sub(/ .*/, "", r); result = r }
	src = ""
	if (match(l, /^[A-Za-z0-9_.-]+: /)) { src = substr(l, 1, RLENGTH - 2); l = substr(l, RLENGTH + 1) }
	if (l ~ /^TAP version/ && !(first_src_set)) { first_src = src; first_src_set = 1 }
	if (l ~ /^1\.\.[0-9]+/) { p = l; sub(/^1\.\./, "", p); sub(/[^0-9].*/, "", p); plan_of[src] = p; plan_src = src; has_plan = 1; next }
	if (l ~ /^(not )?ok( |$)/) { n++; tsrc[n] = src; tline[n] = l }
}
END {
	s = has_plan ? plan_src : first_src
	for (k = 1; k <= n; k++) {
		if (tsrc[k] != s) continue
		l = tline[k]
		results++
		if (l ~ /^not ok/) { notok++; if (first_notok == "") first_notok = l; continue }
		ok++
		isskip = (l ~ /# *[Ss][Kk][Ii][Pp]/)
		if (isskip) skip++
		for (i = 1; i <= nw; i++) if (!isskip && l ~ want[i]) got[i] = 1
	}
	printf "lines=%d\nplan=%s\nresults=%d\nok=%d\nnotok=%d\nskip=%d\n", lines, has_plan ? plan_of[s] : "", results, ok, notok, skip
	printf "panic=%s\nresult=%s\nfirst_notok=%s\nlast=%s\nwants=%d\n", panic, result, first_notok, last, nw
	for (i = 1; i <= nw; i++) printf "want%d=%d\n", i, got[i] ? 1 : 0
}
