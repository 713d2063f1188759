package processor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// fatalError is a Kafka error that waiting cannot fix: wrong credentials,
// missing permissions, a certificate that does not verify. logveil stops
// with it instead of retrying for ever.
type fatalError struct {
	what string // what to check, for the operator
	err  error
}

func (e *fatalError) Error() string { return e.what + ": " + e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// asFatal returns err as a *fatalError when no retry can succeed, else nil.
func asFatal(err error) *fatalError {
	if err == nil {
		return nil
	}
	var fe *fatalError
	if errors.As(err, &fe) {
		return fe
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		switch ke {
		case kafka.SASLAuthenticationFailed, kafka.UnsupportedSASLMechanism, kafka.IllegalSASLState:
			return &fatalError{"kafka authentication failed (check kafka.sasl: mechanism, username, password)", err}
		case kafka.TopicAuthorizationFailed, kafka.GroupAuthorizationFailed, kafka.ClusterAuthorizationFailed:
			return &fatalError{"kafka refused access (the broker's ACLs do not allow this user on a topic or group logveil uses)", err}
		case kafka.SecurityDisabled:
			return &fatalError{"kafka security is disabled on this listener (kafka.sasl or kafka.tls set for a plain listener)", err}
		}
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid), errors.As(err, &verify):
		return &fatalError{"TLS verification of the broker failed (check kafka.tls.ca_file and the broker address)", err}
	case errors.As(err, &alert):
		return &fatalError{fmt.Sprintf("the broker refused the TLS handshake (%v: check kafka.tls.cert_file and key_file)", alert), err}
	}
	return nil
}

// startupGrace is how long the errors a broker gives while it creates
// topics and elects coordinators are logged at debug level: a first start
// looks like a failure otherwise. Past it, they are warnings.
const startupGrace = 30 * time.Second

// settling reports the errors of a broker that is still setting up what
// logveil asked for: a coordinator, a leader, a new topic's metadata.
func settling(err error) bool {
	var ke kafka.Error
	if !errors.As(err, &ke) {
		return false
	}
	switch ke {
	case kafka.GroupCoordinatorNotAvailable, kafka.NotCoordinatorForGroup, kafka.GroupLoadInProgress,
		kafka.NotLeaderForPartition, kafka.LeaderNotAvailable, kafka.UnknownTopicOrPartition, kafka.RebalanceInProgress:
		return true
	}
	return false
}

// retryLogger logs a retried operation's failures: settling errors at
// debug level while they last less than startupGrace, everything else (and
// settling that persists) as a warning. ok resets it.
type retryLogger struct {
	log   *slog.Logger
	mu    sync.Mutex
	since time.Time // first of the current run of settling errors
}

func (l *retryLogger) failed(msg string, err error, args ...any) {
	l.mu.Lock()
	now := time.Now()
	if !settling(err) {
		l.since = time.Time{}
	} else if l.since.IsZero() {
		l.since = now
	}
	quiet := !l.since.IsZero() && now.Sub(l.since) < startupGrace
	l.mu.Unlock()
	level := slog.LevelWarn
	if quiet {
		level = slog.LevelDebug
	}
	l.log.Log(context.Background(), level, msg, append(args, "err", err)...)
}

func (l *retryLogger) ok() {
	l.mu.Lock()
	l.since = time.Time{}
	l.mu.Unlock()
}
