package stats

import (
	"reflect"
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
	p, err := transforms.Default().Resolve()
	if err != nil {
		tb.Fatal(err)
	}
	a, err := transforms.NewAnonymizer(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	w := a.NewWorker()
	w.SetSaltSource(everyDay{})
	return w
}

// withDefaults fills the fields a test leaves zero from Default, so that a
// test names only what it sets.
func withDefaults(c Config) Config {
	v, d := reflect.ValueOf(&c).Elem(), reflect.ValueOf(Default())
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			v.Field(i).Set(d.Field(i))
		}
	}
	return c
}

// testAggregator is NewAggregator of c (defaults where zero).
func testAggregator(c Config) (*Aggregator, error) {
	p, err := withDefaults(c).Resolve()
	if err != nil {
		return nil, err
	}
	return NewAggregator(p), nil
}

// testMerger is NewMerger of c (defaults where zero) stating masks.
func testMerger(c Config, masks Masks) *Merger {
	p := withDefaults(c).MustResolve()
	p.Masks = masks
	return NewMerger(p)
}
