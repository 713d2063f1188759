package transforms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net/netip"
)

// SaltSource gives the visitor-pseudonym salt of a UTC day (Unix time / 86400).
// It returns false when no salt may be used for that day: it was destroyed
// (older than the retention) or cannot be had. Implementations must be safe
// for concurrent use; a Worker asks only when the day changes.
type SaltSource interface {
	Salt(day int64) ([]byte, bool)
}

// KnownSalts is a SaltSource that can give a day's salt only if it has one
// already, without making one or waiting: the path's population count
// looks up yesterday's admissions under yesterday's seed (population.go).
type KnownSalts interface {
	KnownSalt(day int64) ([]byte, bool)
}

// PseudonymLen is the length in hex characters of Record.Pseudonym.
const PseudonymLen = 32

// pseudonymizer keys an HMAC-SHA256 with the day's salt. It is computed from
// the full address before the address is forgotten; without the salt, which
// is destroyed after its retention, it cannot be linked back to the address.
type pseudonymizer struct {
	src  SaltSource
	day  int64
	ok   bool
	mac  hash.Hash
	sum  []byte
	a16  [16]byte
	have bool
	// seed keys the census keys of the day (Worker.Ladder): without the
	// day's salt they cannot be recomputed from guessed field values.
	// prevSeed is the day before's, when its salt is known (prevOK).
	seed, prevSeed uint64
	prevOK         bool
}

// SetSaltSource enables visitor pseudonyms (Record.Pseudonym) for this worker.
func (w *Worker) SetSaltSource(s SaltSource) {
	w.pseudo = &pseudonymizer{src: s, sum: make([]byte, 0, sha256.Size)}
}

// day is the pseudonym day of an event time: its UTC or local day.
func (w *Worker) day(t int64) int64 { return floorDiv(t+w.dayZone.At(t), 86400) }

// appendPseudonym appends hex(HMAC(salt(day), addr ‖ 0 ‖ user agent ‖ 0 ‖
// site))[:32] of the full address and the raw user agent and Host.
func (p *pseudonymizer) appendPseudonym(dst []byte, addr netip.Addr, raw *Raw, day int64) ([]byte, bool) {
	if !p.have || day != p.day {
		salt, ok := p.src.Salt(day)
		p.day, p.ok, p.have = day, ok, true
		if ok {
			p.seed = censusSeed(salt)
			p.mac = hmac.New(sha256.New, salt)
		}
		p.prevOK = false
		if ks, can := p.src.(KnownSalts); ok && can {
			if prev, known := ks.KnownSalt(day - 1); known {
				p.prevSeed, p.prevOK = censusSeed(prev), true
			}
		}
	}
	if !p.ok {
		return dst, false
	}
	p.mac.Reset()
	p.a16 = addr.As16()
	p.mac.Write(p.a16[:])
	p.mac.Write(zeroByte)
	p.mac.Write(raw.UserAgent)
	p.mac.Write(zeroByte)
	p.mac.Write(raw.Host)
	p.sum = p.mac.Sum(p.sum[:0])
	return hex.AppendEncode(dst, p.sum[:PseudonymLen/2]), true
}

var zeroByte = []byte{0}

// censusSeed is the seed of a day's census keys: HMAC(salt, "census keys").
func censusSeed(salt []byte) uint64 {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte("census keys"))
	return binary.LittleEndian.Uint64(m.Sum(nil))
}
