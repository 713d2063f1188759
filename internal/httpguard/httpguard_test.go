package httpguard

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serve runs a guarded server answering "ok" and returns its address.
func serve(t *testing.T, g *Guard) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := g.Server(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") }))
	go srv.Serve(g.Listener(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// probe is a fresh client's GET.
func probe(addr string) error {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// TestIdleFlood: 2 000 clients that each make one keep-alive request and
// then sit idle hold no more than the cap open, and a probe after them is
// answered (it takes the place of the longest idle one).
func TestIdleFlood(t *testing.T) {
	g := New(nil)
	g.Max = 100
	addr := serve(t, g)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 2000 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
		if i%100 == 0 {
			// Read one answer now and then, so the server has seen them idle.
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			bufio.NewReader(c).ReadString('\n')
		}
		if n := g.Open(); n > g.Max {
			t.Fatalf("%d connections open, cap %d", n, g.Max)
		}
	}
	if err := probe(addr); err != nil {
		t.Fatalf("probe after 2000 idle connections: %v", err)
	}
	if n := g.Open(); n > g.Max {
		t.Fatalf("%d connections open, cap %d", n, g.Max)
	}
}

// TestSlowloris: clients that never finish their header are cut after the
// header timeout; at the cap with none idle a new one is refused and
// counted, and once they are cut a probe is answered.
func TestSlowloris(t *testing.T) {
	var refused atomic.Int64
	g := New(func() { refused.Add(1) })
	g.Max, g.HeaderTimeout = 20, 300*time.Millisecond
	addr := serve(t, g)
	var conns []net.Conn
	for range 40 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "))
		conns = append(conns, c)
	}
	time.Sleep(100 * time.Millisecond)
	if n := g.Open(); n > g.Max {
		t.Fatalf("%d open, cap %d", n, g.Max)
	}
	deadline := time.Now().Add(5 * time.Second)
	for g.Open() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("slow headers not cut: %d open", g.Open())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if refused.Load() == 0 {
		t.Error("no connection refused at the cap")
	}
	if err := probe(addr); err != nil {
		t.Fatalf("probe: %v", err)
	}
}

// TestHeaderLimit: a header of a megabyte is refused with 431; a
// browser-sized one is answered.
func TestHeaderLimit(t *testing.T) {
	addr := serve(t, New(nil))
	for _, c := range []struct {
		size int
		want int
	}{{4 << 10, 200}, {1 << 20, 431}} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("a", c.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d bytes: %v", c.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%d-byte header: %d, want %d", c.size, resp.StatusCode, c.want)
		}
	}
}

// TestMethods: GET and HEAD are answered; every other method gets 405
// with Allow.
func TestMethods(t *testing.T) {
	addr := serve(t, New(nil))
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"} {
		req, _ := http.NewRequest(m, "http://"+addr+"/healthz", strings.NewReader(""))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusMethodNotAllowed
		if m == "GET" || m == "HEAD" {
			want = 200
		}
		if resp.StatusCode != want || want == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d (Allow %q)", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}
