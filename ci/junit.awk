# One cell's JUnit testsuite from its serial log: a testcase per TAP
# line, named by its description (the "ok N - " taken off), "# SKIP"
# lines as skipped, "not ok" as failures (as skipped "xfail: ..." in an
# XFAIL cell). -v cell= verdict= reason= time= ; a cell whose verdict is
# not good and whose log has no failing TAP line gets one failing testcase
# with the reason, as do SKIP cells one skipped testcase.
function x(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); gsub(/[\001-\010\013\014\016-\037]/, "", s); return s }
# The run's stream only (the source of the last plan line, as in tap.awk):
# the children's own TAP is gathered into it by the root.
{
	sub(/\r$/, "")
	l = $0
	src = ""
	if (match(l, /^[A-Za-z0-9_.-]+: /)) { src = substr(l, 1, RLENGTH - 2); l = substr(l, RLENGTH + 1) }
	if (l ~ /^TAP version/ && !first_set) { first_src = src; first_set = 1 }
	if (l ~ /^1\.\.[0-9]+/) { plan_src = src; has_plan = 1 }
	if (l ~ /^(not )?ok( |$)/) { nl++; lsrc[nl] = src; ltxt[nl] = l }
}
function tapline(l,   bad, d, sk) {
	bad = (l ~ /^not ok/)
	d = l; sub(/^(not )?ok *[0-9]* *-? */, "", d)
	sk = ""
	if (match(d, /# *[Ss][Kk][Ii][Pp].*/)) { sk = substr(d, RSTART); d = substr(d, 1, RSTART - 1); sub(/# *[Ss][Kk][Ii][Pp] */, "", sk) }
	sub(/ +$/, "", d)
	if (d == "") d = "test " (n + 1)
	# Same description twice: number the later ones so names stay unique.
	if (d in used) d = d " (" (++used[d]) ")"; else used[d] = 1
	n++; name[n] = d; kind[n] = bad ? "failure" : (sk != "" ? "skipped" : ""); msg[n] = bad ? l : sk
	if (bad) nbad++
}
END {
	s = has_plan ? plan_src : first_src
	for (k = 1; k <= nl; k++) if (lsrc[k] == s) tapline(ltxt[k])
	good = (verdict == "PASS" || verdict == "XFAIL" || verdict == "SKIP")
	if (verdict == "SKIP") { n++; name[n] = "cell"; kind[n] = "skipped"; msg[n] = reason }
	else if (!good && (nbad == 0 || verdict != "FAIL")) { n++; name[n] = "cell verdict " verdict; kind[n] = "failure"; msg[n] = reason }
	else if (verdict == "XFAIL" && nbad == 0) { n++; name[n] = "cell verdict XFAIL"; kind[n] = "skipped"; msg[n] = "xfail: " reason }
	else if (n == 0) { n++; name[n] = "cell verdict " verdict; kind[n] = ""; msg[n] = "" }
	f = 0; s = 0
	for (i = 1; i <= n; i++) {
		if (verdict == "XFAIL" && kind[i] == "failure") { kind[i] = "skipped"; msg[i] = "xfail: " reason ": " msg[i] }
		if (kind[i] == "failure") f++
		if (kind[i] == "skipped") s++
	}
	printf "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%s\">\n", x(cell), n, f, s, time
	printf "    <properties><property name=\"verdict\" value=\"%s\"/><property name=\"reason\" value=\"%s\"/></properties>\n", x(verdict), x(reason)
	for (i = 1; i <= n; i++) {
		printf "    <testcase classname=\"%s\" name=\"%s\"", x(cell), x(name[i])
		if (kind[i] == "") { print "/>"; continue }
		printf ">\n      <%s message=\"%s\"/>\n    </testcase>\n", kind[i], x(msg[i])
	}
	print "  </testsuite>"
}
