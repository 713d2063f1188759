package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/logveil/logveil/internal/httpguard"
)

// TestServeIdleFlood: 2 000 clients that each make a request to the
// statistics page's server and then sit idle do not raise the process's
// open files past the cap on connections, and it still answers a probe.
func TestServeIdleFlood(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(testBinary(t), "stats", "--serve", addr, "--brokers", "127.0.0.1:1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	fds := func() int {
		es, _ := os.ReadDir("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/fd")
		return len(es)
	}
	deadline := time.Now().Add(20 * time.Second)
	for probe(addr) != nil {
		if time.Now().After(deadline) {
			t.Fatal("logveil stats --serve did not answer")
		}
		time.Sleep(100 * time.Millisecond)
	}
	before := fds()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	most := 0
	for i := range 2000 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		bufio.NewReader(c).ReadString('\n')
		if i%200 == 0 {
			most = max(most, fds())
		}
	}
	most = max(most, fds())
	if most > before+httpguard.MaxConns+8 {
		t.Errorf("open files rose from %d to %d with 2000 idle connections (cap %d)", before, most, httpguard.MaxConns)
	}
	if err := probe(addr); err != nil {
		t.Errorf("no answer after the flood: %v", err)
	}
	t.Logf("open files: %d before, at most %d during 2000 idle connections", before, most)
}

func probe(addr string) error {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
