// Package httpguard is what both of logveil's HTTP servers (the operations
// endpoint of `logveil run` and the statistics page of `logveil stats
// --serve`) put between a client and their handlers, so that no client can
// wear the process down: timeouts on every phase of a connection, a
// request header no larger than a browser sends, a cap on connections
// open at once, and GET and HEAD only.
//
// At the cap, a new connection takes the place of the one idle longest (a
// flood of idle keep-alive connections cannot lock the probes out); when
// none is idle — every connection is sending or being answered — the new
// one is closed at once and counted.
package httpguard

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits of a guarded server.
const (
	MaxConns       = 256      // connections open at once
	MaxHeaderBytes = 16 << 10 // a browser's headers are a few KiB
)

// Guard holds the limits of one server and the connections it has open.
type Guard struct {
	// Max is the cap on open connections.
	Max int
	// Refused, when set, is called for each connection closed at once
	// because the cap was reached and none was idle.
	Refused func()
	// Timeouts: the request header (a slowloris client is cut after
	// it), the whole request, the answer, and an idle keep-alive
	// connection.
	HeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration

	mu   sync.Mutex
	open int
	idle map[*conn]time.Time // keep-alive connections waiting for a request, since
}

// New returns a Guard with the default limits.
func New(refused func()) *Guard {
	return &Guard{Max: MaxConns, Refused: refused, HeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: time.Minute, IdleTimeout: 30 * time.Second}
}

// Server returns an http.Server for h with the guard's timeouts and the
// header limit, and h behind the method check. Serve it on g.Listener.
func (g *Guard) Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           Methods(h),
		ReadHeaderTimeout: g.HeaderTimeout,
		ReadTimeout:       g.ReadTimeout,
		WriteTimeout:      g.WriteTimeout,
		IdleTimeout:       g.IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ConnState:         g.state,
	}
}

// Methods answers every method but GET and HEAD with 405 and Allow.
func Methods(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Listener wraps ln with the cap on open connections.
func (g *Guard) Listener(ln net.Listener) net.Listener {
	g.mu.Lock()
	if g.idle == nil {
		g.idle = map[*conn]time.Time{}
	}
	g.mu.Unlock()
	return &listener{Listener: ln, g: g}
}

// Open is the number of connections open now.
func (g *Guard) Open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

type listener struct {
	net.Listener
	g *Guard
}

func (l *listener) Accept() (net.Conn, error) {
	g := l.g
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		g.mu.Lock()
		var victim *conn
		if g.open >= g.Max {
			for ic, since := range g.idle {
				if victim == nil || since.Before(g.idle[victim]) {
					victim = ic
				}
			}
			if victim == nil {
				g.mu.Unlock()
				c.Close()
				if g.Refused != nil {
					g.Refused()
				}
				continue
			}
			delete(g.idle, victim)
			victim.counted = false // its place goes to the new connection
			g.open--
		}
		g.open++
		nc := &conn{Conn: c, g: g, counted: true}
		g.mu.Unlock()
		if victim != nil {
			victim.Conn.Close()
		}
		return nc, nil
	}
}

// conn is an accepted connection, counted until it is closed or gives
// its place to a new one.
type conn struct {
	net.Conn
	g       *Guard
	counted bool // under g.mu
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.g.mu.Lock()
	if c.counted {
		c.counted = false
		c.g.open--
	}
	delete(c.g.idle, c)
	c.g.mu.Unlock()
	return err
}

// state follows the server's view of each connection: idle ones may give
// their place to a new connection.
func (g *Guard) state(nc net.Conn, s http.ConnState) {
	c, ok := nc.(*conn)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if s == http.StateIdle && c.counted {
		g.idle[c] = time.Now()
	} else {
		delete(g.idle, c)
	}
}
