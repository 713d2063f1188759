package pipe

import (
	"bufio"
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
