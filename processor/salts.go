package processor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// saltStore shares the visitor-pseudonym salts of all instances through the
// compacted <prefix>.salts topic (one partition). Key: the UTC day as Unix
// days; value: 32 random bytes, hex. The first record for a day wins, so
// every instance uses the same salt; a salt is tombstoned once it is older
// than the retention, and compaction then deletes it. Days are event-time
// days, so a replay gets the pseudonyms it got the first time while the salt
// lives.
type saltStore struct {
	k         *kafkaClients
	topic     string
	retention time.Duration
	log       *slog.Logger
	retryLog  *retryLogger // a new broker's settling at debug level
	m         *metrics
	now       func() time.Time
	writer    *kafka.Writer
	// janitorEvery is how often expired salts are looked for. Default 1m.
	janitorEvery time.Duration

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced when salts change
	salts     map[int64][]byte
	destroyed map[int64]bool
	caughtUp  bool
	newestDay int64
}

func newSaltStore(k *kafkaClients, log *slog.Logger, m *metrics) *saltStore {
	return &saltStore{
		k: k, topic: k.cfg.SaltsTopic(), retention: k.cfg.SaltRetention, log: log, retryLog: &retryLogger{log: log}, m: m, now: time.Now, janitorEvery: time.Minute,
		writer: &kafka.Writer{Addr: kafka.TCP(k.cfg.Brokers...), Topic: k.cfg.SaltsTopic(), RequiredAcks: kafka.RequireAll,
			BatchTimeout: time.Millisecond, Transport: k.transport, MaxAttempts: 5},
		changed: make(chan struct{}), salts: map[int64][]byte{}, destroyed: map[int64]bool{},
	}
}

func (s *saltStore) close() error { return s.writer.Close() }

// expired reports whether day's salt is past its retention (or must never
// be made: more than a day in the future means a wrong clock in the log).
func (s *saltStore) expired(day int64) bool {
	now := s.now()
	start := time.Unix(day*86400, 0)
	return now.Sub(start) >= s.retention || start.Sub(now) > 24*time.Hour
}

// KnownSalt implements transforms.KnownSalts: the salt of day if the
// store has it, without proposing one or waiting.
func (s *saltStore) KnownSalt(day int64) ([]byte, bool) {
	if s.expired(day) {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	salt, ok := s.salts[day]
	return salt, ok
}

// Salt implements transforms.SaltSource.
func (s *saltStore) Salt(day int64) ([]byte, bool) {
	if s.expired(day) {
		return nil, false
	}
	deadline := time.Now().Add(15 * time.Second)
	produced := false
	for {
		s.mu.Lock()
		salt, ok := s.salts[day]
		destroyed, caughtUp, changed := s.destroyed[day], s.caughtUp, s.changed
		if ok && day > s.newestDay {
			s.newestDay = day
		}
		s.mu.Unlock()
		switch {
		case ok:
			return salt, true
		case destroyed:
			return nil, false
		case caughtUp && !produced:
			if err := s.propose(day); err != nil {
				s.retryLog.failed("cannot propose a salt", err, "day", day)
				s.m.errors.WithLabelValues("salt").Inc()
			} else {
				produced = true
			}
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			s.log.Error("no salt for day: events go without visitor pseudonym", "day", day)
			return nil, false
		}
		select {
		case <-changed:
		case <-time.After(min(wait, time.Second)):
		}
	}
}

func (s *saltStore) propose(day int64) error {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.writer.WriteMessages(ctx, kafka.Message{Key: dayKey(day), Value: []byte(hex.EncodeToString(b[:]))})
}

func dayKey(day int64) []byte { return strconv.AppendInt(nil, day, 10) }

// run tails the salts topic from the beginning, through the partition
// reader every consumer uses, and tombstones expired days, until ctx ends.
func (s *saltStore) run(ctx context.Context) {
	go s.janitor(ctx)
	rd := &partitionReader{k: s.k, topic: s.topic, partition: 0, maxBytes: 1 << 20, maxWait: 500 * time.Millisecond,
		m: s.m, retryLog: s.retryLog, log: s.log, errLabel: "salt", idleFirst: true}
	ch := make(chan fetched, 1)
	go rd.run(ctx, -1, ch)
	for f := range ch {
		next := int64(-1)
		for _, msg := range f.msgs {
			s.apply(msg)
			next = msg.Offset + 1
		}
		// Caught up: an idle notice, or a batch that reaches the end.
		if len(f.msgs) == 0 || next >= f.hwm {
			s.mu.Lock()
			s.setCaughtUpLocked()
			s.mu.Unlock()
		}
	}
}

func (s *saltStore) apply(msg kafka.Message) {
	day, err := strconv.ParseInt(string(msg.Key), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		switch {
		case msg.Value == nil:
			delete(s.salts, day)
			s.destroyed[day] = true
		case s.salts[day] == nil && !s.destroyed[day]:
			if salt, err := hex.DecodeString(string(msg.Value)); err == nil && len(salt) >= 16 {
				s.salts[day] = salt
			}
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *saltStore) setCaughtUpLocked() {
	if !s.caughtUp {
		s.caughtUp = true
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// janitor tombstones salts past their retention and forgets them at once.
func (s *saltStore) janitor(ctx context.Context) {
	t := time.NewTicker(s.janitorEvery)
	defer t.Stop()
	for {
		s.mu.Lock()
		var old []int64
		for day := range s.salts {
			if s.expired(day) {
				old = append(old, day)
			}
		}
		if s.newestDay != 0 {
			s.m.saltAge.Set(s.now().Sub(time.Unix(s.newestDay*86400, 0)).Seconds())
		}
		s.mu.Unlock()
		for _, day := range old {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := s.writer.WriteMessages(wctx, kafka.Message{Key: dayKey(day), Value: nil})
			cancel()
			if err != nil {
				s.log.Warn("cannot tombstone an expired salt; will retry", "day", day, "err", err)
				continue
			}
			s.mu.Lock()
			delete(s.salts, day)
			s.destroyed[day] = true
			s.mu.Unlock()
			s.log.Info("salt destroyed", "day", day)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
