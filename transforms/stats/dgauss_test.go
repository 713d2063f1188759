package stats

import (
	"math"
	"math/big"
	"testing"
)

// chiSquare compares counts of draws with the probability mass function
// pmf over [-span, span] (the tails pooled into the end bins) and returns
// the statistic and the degrees of freedom.
func chiSquare(counts map[int64]int, n int, span int64, pmf func(int64) float64) (float64, int) {
	var z float64
	for x := int64(-200); x <= 200; x++ {
		z += pmf(x)
	}
	var chi float64
	bins := 0
	for x := -span; x <= span; x++ {
		p := pmf(x) / z
		c := float64(counts[x])
		if x == -span || x == span { // pool the tail
			for y := int64(1); y < 200; y++ {
				if x < 0 {
					p += pmf(x-y) / z
					c += float64(counts[x-y])
				} else {
					p += pmf(x+y) / z
					c += float64(counts[x+y])
				}
			}
		}
		e := p * float64(n)
		chi += (c - e) * (c - e) / e
		bins++
	}
	return chi, bins - 1
}

// TestDiscreteGaussian: draws follow exp(-x^2 / (2 sigma2)) (normalised),
// for an integer and a fractional variance, by a chi-square test at
// p < 1e-6 (a correct sampler fails it once in a million runs; it is
// seeded, so it fails never or always). A sampler off by a little (the bias
// term's 2 dropped, a float approximation) fails it: see the mutation in
// .ci/mutations.
func TestDiscreteGaussian(t *testing.T) {
	for _, sigma2 := range []*big.Rat{big.NewRat(9, 1), big.NewRat(20, 7), big.NewRat(1, 4)} {
		s2, _ := sigma2.Float64()
		s := newSampler([32]byte{1, byte(sigma2.Num().Int64())})
		const n = 60000
		counts := map[int64]int{}
		var sum, sumSq float64
		for range n {
			x := s.gaussian(sigma2)
			counts[x]++
			sum += float64(x)
			sumSq += float64(x * x)
		}
		span := int64(math.Ceil(2.5*math.Sqrt(s2))) + 1
		chi, df := chiSquare(counts, n, span, func(x int64) float64 { return math.Exp(-float64(x*x) / (2 * s2)) })
		// Critical values of chi-square at p = 1e-6 are below 3.3*df + 25
		// for these df (e.g. 47.5 at df 11, 54 at df 15).
		if limit := 3.3*float64(df) + 25; chi > limit {
			t.Errorf("sigma2 %s: chi-square %.1f over %d df (limit %.1f): not a discrete Gaussian; counts %v", sigma2, chi, df, limit, counts)
		}
		if mean := sum / n; math.Abs(mean) > 6*math.Sqrt(s2/n) {
			t.Errorf("sigma2 %s: mean %.4f", sigma2, mean)
		}
		t.Logf("sigma2 %s: chi-square %.1f, %d df; variance %.3f", sigma2, chi, df, sumSq/n)
	}
}

func TestDiscreteLaplace(t *testing.T) {
	s := newSampler([32]byte{7})
	const n = 60000
	counts := map[int64]int{}
	for range n {
		counts[s.laplace(big.NewInt(5), big.NewInt(2)).Int64()]++ // scale 2.5
	}
	chi, df := chiSquare(counts, n, 9, func(x int64) float64 { return math.Exp(-math.Abs(float64(x)) / 2.5) })
	if limit := 3.3*float64(df) + 25; chi > limit {
		t.Errorf("chi-square %.1f over %d df: not a discrete Laplace of scale 2.5; %v", chi, df, counts)
	}
}

// TestSamplerDeterministic: the same seed gives the same draws, another
// seed others.
func TestSamplerDeterministic(t *testing.T) {
	draw := func(seed byte) []int64 {
		s := newSampler([32]byte{seed})
		var out []int64
		for range 50 {
			out = append(out, s.gaussian(big.NewRat(50, 1)))
		}
		return out
	}
	a, b, c := draw(3), draw(3), draw(4)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different draws")
		}
	}
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same > 25 {
		t.Errorf("another seed gives %d of 50 equal draws", same)
	}
}

func BenchmarkDiscreteGaussian(b *testing.B) {
	s := newSampler([32]byte{9})
	sigma2 := big.NewRat(2000, 3)
	for b.Loop() {
		s.gaussian(sigma2)
	}
}
