package transforms

import (
	"math/big"
	"regexp"
	"testing"
)

// The cases of anonip's own tests (test_module.py, anonip 1.1.0): the same
// inputs give the same lines.
func TestAnonipCases(t *testing.T) {
	f := func(a *Anonip, in, want string) {
		t.Helper()
		if got := string(a.AppendLine(nil, []byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	masks := func(v4, v6 int) *Anonip { return &Anonip{V4Mask: v4, V6Mask: v6} }
	// test_process_line
	for _, c := range []struct {
		in     string
		v4, v6 int
		want   string
	}{
		{"192.168.100.200", 12, 84, "192.168.96.0"},
		{"192.168.100.200:80", 12, 84, "192.168.96.0:80"},
		{"192.168.100.200]", 12, 84, "192.168.96.0]"},
		{"192.168.100.200:80]", 12, 84, "192.168.96.0:80]"},
		{"192.168.100.200", 0, 84, "192.168.100.200"},
		{"192.168.100.200", 4, 84, "192.168.100.192"},
		{"192.168.100.200", 8, 84, "192.168.100.0"},
		{"192.168.100.200", 24, 84, "192.0.0.0"},
		{"192.168.100.200", 32, 84, "0.0.0.0"},
		{"no_ip_address", 12, 84, "no_ip_address"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 12, 84, "2001:db8:85a0::"},
		{"[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:443", 12, 84, "[2001:db8:85a0::]:443"},
		{"[2001:0db8:85a3:0000:0000:8a2e:0370:7334]", 12, 84, "[2001:db8:85a0::]"},
		{"[2001:0db8:85a3:0000:0000:8a2e:0370:7334]]", 12, 84, "[2001:db8:85a0::]]"},
		{"[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:443]", 12, 84, "[2001:db8:85a0::]:443]"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 12, 0, "2001:db8:85a3::8a2e:370:7334"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 12, 4, "2001:db8:85a3::8a2e:370:7330"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 12, 8, "2001:db8:85a3::8a2e:370:7300"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 12, 24, "2001:db8:85a3::8a2e:300:0"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 12, 32, "2001:db8:85a3::8a2e:0:0"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 12, 62, "2001:db8:85a3::"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 12, 128, "::"},
		{"[2001:db8:1::ab9:C0A8:102]:8080", 12, 84, "[2001:db8::]:8080"},
		{"   foo", 12, 84, "   foo"},
	} {
		f(masks(c.v4, c.v6), c.in, c.want)
	}
	// test_increment
	a := masks(12, 84)
	a.SetIncrement(big.NewInt(3))
	f(a, "192.168.100.200", "192.168.96.3")
	n, _ := new(big.Int).SetString("284414028745874325", 10)
	a.SetIncrement(n)
	f(a, "192.168.100.200", "192.168.96.0")
	// test_column
	col := func(cols ...int) *Anonip {
		a := masks(12, 84)
		for _, c := range cols {
			a.Columns = append(a.Columns, c-1)
		}
		return a
	}
	f(col(), "192.168.100.200 some string with öéäü", "192.168.96.0 some string with öéäü")
	f(col(2), "some 192.168.100.200 string with öéäü", "some 192.168.96.0 string with öéäü")
	f(col(3), "some string 192.168.100.200 with öéäü", "some string 192.168.96.0 with öéäü")
	f(col(1, 2, 3), "192.168.100.200 192.168.11.222 192.168.123.234", "192.168.96.0 192.168.0.0 192.168.112.0")
	f(col(9999), "192.168.100.200 192.168.11.222 192.168.123.234", "192.168.100.200 192.168.11.222 192.168.123.234")
	// test_regex
	re := func(expr, replace string) *Anonip {
		a := &Anonip{V4Mask: 12, V6Mask: 84, Regex: regexp.MustCompile(expr)}
		if replace != "" {
			a.Replace = []byte(replace)
		}
		return a
	}
	f(re(`(?:^([^,]+) - - |.* - somefixedstring: ([^,]+) - .* - ([^,]+))`, ""),
		`3.3.3.3 - - [20/May/2015:21:05:01 +0000] "GET / HTTP/1.1" 200 13358 "-" "useragent"`,
		`3.3.0.0 - - [20/May/2015:21:05:01 +0000] "GET / HTTP/1.1" 200 13358 "-" "useragent"`)
	f(re(`^blabla/ ([^,]+) /blublu`, ""), "blabla/ 3.3.3.3 /blublu", "blabla/ 3.3.0.0 /blublu")
	f(re(`^([^,]+) - somefixedstring: ([^,]+) - .* - ([^,]+)`, ""),
		"1.1.1.1 - somefixedstring: 2.2.2.2 - some random stuff - 3.3.3.3",
		"1.1.0.0 - somefixedstring: 2.2.0.0 - some random stuff - 3.3.0.0")
	f(re(`^([^,]+) - somefixedstring: ([^,]+) - .* - ([^,]+)`, ""),
		"some line that doesn't match the provided regex", "some line that doesn't match the provided regex")
	f(re(`^match but no ip/ ([^,]+) /blublu`, ""), "match but no ip/ notanip /blublu", "match but no ip/ notanip /blublu")
	f(re(`^match but no ip/ ([^,]+) /blublu`, "yeah"), "match but no ip/ notanip /blublu", "match but no ip/ yeah /blublu")
	// test_replace, test_delimiter, test_private
	a = masks(12, 84)
	a.Replace = []byte("replacement")
	f(a, "bla something", "replacement something")
	a = masks(12, 84)
	a.Delimiter = []byte(";")
	f(a, "192.168.100.200;some;string;with;öéäü", "192.168.96.0;some;string;with;öéäü")
	a = masks(12, 84)
	a.SkipPrivate = true
	f(a, "192.168.100.200", "192.168.100.200")
	f(a, "::ffff:192.168.100.200", "::ffff:c0a8:64c8")                           // kept, and written as Python writes it
	f(a, "::ffff:58.90.185.10", "::")                                            // mapped: judged by its IPv4 address (Python 3.11.7)
	f(&Anonip{V4Mask: 12, V6Mask: 1}, "::ffff:58.90.185.11", "::ffff:3a5a:b90a") // and written in hex
	// Beyond anonip's tests: a whole access line, trailing space dropped,
	// an empty line, a column named twice, an IPv6 increment.
	f(masks(12, 84), `203.0.113.195 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326   `, `203.0.112.0 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326`)
	f(masks(12, 84), "  ", "")
	f(col(1, 1), "192.168.100.200 x", "192.168.96.0 x")
	a = masks(12, 84)
	a.SetIncrement(big.NewInt(1))
	f(a, "2001:db8::1", "2001:db8::1")
	f(a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:fff0::1")
}

// TestAnonipNoAllocs: in column mode a line costs no allocation.
func TestAnonipNoAllocs(t *testing.T) {
	a := &Anonip{V4Mask: 12, V6Mask: 84, Columns: []int{0, 2}}
	line := []byte(`203.0.113.195 - 2001:db8::7 [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 2326 "-" "curl/8"`)
	var dst []byte
	run := func() { dst = a.AppendLine(dst[:0], line) }
	run()
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("%.1f allocations per line", n)
	}
}

func BenchmarkAnonip(b *testing.B) {
	a := &Anonip{V4Mask: 12, V6Mask: 84}
	line := []byte(`203.0.113.195 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`)
	var dst []byte
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		dst = a.AppendLine(dst[:0], line)
	}
}
