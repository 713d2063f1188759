package pipe

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/transforms"
)

// defaults are the default settings.
var defaults = config.Default().MustResolve()

// TestPipeIsLive: as a CustomLog pipe, a line comes out while the input
// stays open, not when a chunk fills or the input ends; with k-anonymous
// events too (a held line waits anonymize.hold at most for company).
func TestPipeIsLive(t *testing.T) {
	t.Run("events_k 1", func(t *testing.T) { testPipeIsLive(t, 1, "81.2.69.0 - - ") })
	t.Run("events_k 5", func(t *testing.T) { testPipeIsLive(t, 5, "- - - ") }) // one visitor: no network
}

func testPipeIsLive(t *testing.T, k int, want string) {
	p := defaults.Anonymize
	p.EventsK, p.Hold = k, time.Second
	a, err := transforms.NewAnonymizer(p)
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	bw := bufio.NewWriterSize(outW, 256<<10)
	done := make(chan error, 1)
	go func() {
		_, err := Run(a, inR, bw, Options{Output: OutputCombined})
		bw.Flush()
		outW.Close()
		done <- err
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for i, in := range []string{
		`81.2.69.200 - - [27/Nov/2026:10:15:32 +0100] "GET /a HTTP/1.1" 200 1 "-" "-"`,
		`81.2.69.201 - - [27/Nov/2026:10:15:33 +0100] "GET /b HTTP/1.1" 200 1 "-" "-"`,
	} {
		if _, err := io.WriteString(inW, in+"\n"); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-lines:
			if !strings.HasPrefix(got, want) {
				t.Errorf("line %d: %q", i, got)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("line %d not written while the input is open", i)
		}
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestW3CHeaderAcrossChunks: a W3C log's #Fields: line at the top of a
// file says how every line after it reads, on whichever worker the chunk
// lands (the reader hands each chunk the header before it); a second
// header changes the list from there on.
func TestW3CHeaderAcrossChunks(t *testing.T) {
	p := defaults.Anonymize
	p.EventsK = 1
	a, err := transforms.NewAnonymizer(p)
	if err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	in.WriteString("#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status sc-bytes\n")
	const n = 12000 // several 256 KiB chunks
	for i := range n {
		fmt.Fprintf(&in, "2026-11-27 10:%02d:%02d 81.2.69.%d GET /page/%d 200 %d\n", i/60%60, i%60, i%250+1, i%7, 1000+i)
	}
	in.WriteString("#Fields: date time cs-method cs-uri-stem c-ip sc-status\n")
	for i := range n {
		fmt.Fprintf(&in, "2026-11-27 11:%02d:%02d GET /other/%d 81.2.69.%d 404\n", i/60%60, i%60, i%7, i%250+1)
	}
	if in.Len() < 3*256<<10 {
		t.Fatalf("input of %d bytes: too few chunks", in.Len())
	}
	var out strings.Builder
	st, err := Run(a, strings.NewReader(in.String()), &out, Options{Output: OutputJSONL, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if st.In != 2*n+3 || st.Out != 2*n || st.RejectedTotal() != 3 || st.Rejected[transforms.ErrDirective.Error()] != 3 {
		t.Fatalf("%d in, %d out, rejected %v", st.In, st.Out, st.Rejected)
	}
	if c := strings.Count(out.String(), `"status":404`); c != n {
		t.Errorf("%d events read with the second header, want %d", c, n)
	}
}
