package stats

import (
	"testing"

	"github.com/logveil/logveil/transforms"
)

// everyDay is a salt source with a salt for every day.
type everyDay struct{}

func (everyDay) Salt(day int64) ([]byte, bool) { return []byte{byte(day)}, true }

// saltedWorker is a worker of the default policy whose records carry
// pseudonyms.
func saltedWorker(tb testing.TB) *transforms.Worker {
	tb.Helper()
	a, err := transforms.NewAnonymizer(transforms.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	w := a.NewWorker()
	w.SetSaltSource(everyDay{})
	return w
}
