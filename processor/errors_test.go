package processor

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestAsFatal(t *testing.T) {
	f := func(err error, want string) {
		t.Helper()
		fe := asFatal(err)
		switch {
		case want == "" && fe != nil:
			t.Errorf("%v: fatal %q, want retried", err, fe.what)
		case want != "" && (fe == nil || !strings.Contains(fe.Error(), want)):
			t.Errorf("%v: %v, want fatal %q", err, fe, want)
		}
	}
	wrap := func(err error) error { return fmt.Errorf("cannot reach Kafka: %w", err) }
	f(wrap(kafka.SASLAuthenticationFailed), "kafka authentication failed")
	f(wrap(kafka.TopicAuthorizationFailed), "refused access")
	f(wrap(kafka.GroupAuthorizationFailed), "refused access")
	f(wrap(x509.UnknownAuthorityError{}), "TLS verification")
	f(wrap(kafka.GroupCoordinatorNotAvailable), "")
	f(wrap(kafka.NotLeaderForPartition), "")
	f(wrap(io.ErrUnexpectedEOF), "")
	f(wrap(context.DeadlineExceeded), "")
	f(nil, "")
}

func TestRetryLoggerQuietWhileSettling(t *testing.T) {
	var buf bytes.Buffer
	l := &retryLogger{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	settle := fmt.Errorf("join: %w", kafka.GroupCoordinatorNotAvailable)
	l.failed("consumer group: retrying", settle)
	l.failed("consumer group: retrying", settle)
	if strings.Contains(buf.String(), "WARN") || !strings.Contains(buf.String(), "DEBUG") {
		t.Fatalf("a new broker's settling is not at debug:\n%s", buf.String())
	}
	buf.Reset()
	l.failed("fetch failed; retrying", errors.New("connection refused"))
	if !strings.Contains(buf.String(), "WARN") {
		t.Fatalf("a real failure is not a warning:\n%s", buf.String())
	}
	// Settling that persists past the grace period is a warning.
	buf.Reset()
	l.failed("consumer group: retrying", settle)
	l.since = time.Now().Add(-startupGrace - time.Second)
	l.failed("consumer group: retrying", settle)
	if !strings.Contains(buf.String(), "WARN") {
		t.Fatalf("persistent settling is not a warning:\n%s", buf.String())
	}
	l.ok()
	buf.Reset()
	l.failed("consumer group: retrying", settle)
	if strings.Contains(buf.String(), "WARN") {
		t.Fatalf("after a success, settling starts quiet again:\n%s", buf.String())
	}
}
