package stats

import (
	"math/big"
	"math/rand/v2"
)

// Exact samplers of the discrete Laplace and discrete Gaussian
// distributions in integer and rational arithmetic, after Canonne, Kamath
// and Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS
// 2020, arXiv:2004.00010), Algorithms 1-3. No floating point is involved:
// a sampler built on floats leaks through its rounding (Mironov, CCS 2012).
// The only source of randomness is uniform integers from src, so the same
// seed gives the same sample on every machine.

// sampler draws from a deterministic stream (ChaCha8 seeded per cell).
type sampler struct{ src *rand.Rand }

func newSampler(seed [32]byte) *sampler { return &sampler{src: rand.New(rand.NewChaCha8(seed))} }

// uniform is a uniform integer in [0, n), n > 0.
func (s *sampler) uniform(n *big.Int) *big.Int {
	if n.IsUint64() {
		return new(big.Int).SetUint64(s.src.Uint64N(n.Uint64()))
	}
	// Rejection on the bit length: exact for any size.
	bits := n.BitLen()
	for {
		v := new(big.Int)
		for i := 0; i < bits; i += 64 {
			v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(s.src.Uint64()))
		}
		v.Rsh(v, uint(((bits+63)/64)*64-bits))
		if v.Cmp(n) < 0 {
			return v
		}
	}
}

// bernoulli is true with probability p, 0 <= p <= 1.
func (s *sampler) bernoulli(p *big.Rat) bool {
	return s.uniform(p.Denom()).Cmp(p.Num()) < 0
}

var ratOne = big.NewRat(1, 1)

// bernoulliExp is true with probability exp(-gamma), gamma >= 0
// (Algorithm 1).
func (s *sampler) bernoulliExp(gamma *big.Rat) bool {
	g := new(big.Rat).Set(gamma)
	for g.Cmp(ratOne) > 0 {
		if !s.bernoulliExp01(ratOne) {
			return false
		}
		g.Sub(g, ratOne)
	}
	return s.bernoulliExp01(g)
}

// bernoulliExp01 is bernoulliExp for 0 <= gamma <= 1: the parity of the
// first k for which Bernoulli(gamma/k) fails.
func (s *sampler) bernoulliExp01(gamma *big.Rat) bool {
	k := int64(1)
	for {
		if !s.bernoulli(new(big.Rat).Quo(gamma, big.NewRat(k, 1))) {
			return k%2 == 1
		}
		k++
	}
}

// geometricExp is Geometric(1 - exp(-x)) on {0, 1, ...} for x = n/d > 0
// (Algorithm 2, the fast variant).
func (s *sampler) geometricExp(n, d *big.Int) *big.Int {
	for {
		u := s.uniform(d)
		if !s.bernoulliExp(new(big.Rat).SetFrac(u, d)) {
			continue
		}
		v := int64(0)
		for s.bernoulliExp01(ratOne) {
			v++
		}
		// value = u + d*v, then floor(value / n).
		value := new(big.Int).Mul(d, big.NewInt(v))
		value.Add(value, u)
		return value.Quo(value, n)
	}
}

// laplace is a discrete Laplace sample with scale t = n/d:
// P(x) proportional to exp(-|x|/t) (Algorithm 2).
func (s *sampler) laplace(n, d *big.Int) *big.Int {
	half := big.NewRat(1, 2)
	for {
		negative := s.bernoulli(half)
		m := s.geometricExp(d, n) // Geometric(1 - exp(-1/t))
		if negative && m.Sign() == 0 {
			continue
		}
		if negative {
			m.Neg(m)
		}
		return m
	}
}

// gaussian is a discrete Gaussian sample with variance parameter sigma2
// (a rational): P(x) proportional to exp(-x^2 / (2 sigma2)) (Algorithm 3).
func (s *sampler) gaussian(sigma2 *big.Rat) int64 {
	// t = floor(sqrt(sigma2)) + 1
	root := new(big.Int).Sqrt(new(big.Int).Quo(sigma2.Num(), sigma2.Denom()))
	t := root.Add(root, big.NewInt(1))
	for {
		y := s.laplace(t, big.NewInt(1))
		// bias = (|y| - sigma2/t)^2 / (2 sigma2)
		a := new(big.Rat).SetInt(new(big.Int).Abs(y))
		a.Sub(a, new(big.Rat).Quo(sigma2, new(big.Rat).SetInt(t)))
		a.Mul(a, a)
		a.Quo(a, new(big.Rat).Mul(sigma2, big.NewRat(2, 1)))
		if s.bernoulliExp(a) {
			return y.Int64()
		}
	}
}
