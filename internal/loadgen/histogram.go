package loadgen

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records latencies in log-linear buckets (HDR-style): 64 buckets per power of two,
// so any reported percentile is within 1/64 (1.6 %) of the true value, in fixed memory
// (about 30 KiB) however many samples arrive. Safe for concurrent use without locks.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64
	max    atomic.Int64
}

const (
	subBits     = 6
	subCount    = 1 << subBits // buckets per power of two
	linearLimit = 2 * subCount // values below this get a bucket each
	histBuckets = linearLimit + (63-subBits)*subCount
)

// bucketOf maps a non-negative duration in nanoseconds to its bucket.
func bucketOf(v uint64) int {
	if v < linearLimit {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1) // ≥ 1; v>>shift lies in [64, 128)
	return linearLimit + (shift-1)*subCount + int(v>>shift) - subCount
}

// bucketBounds returns the smallest and largest value that fall in bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < linearLimit {
		return uint64(i), uint64(i)
	}
	i -= linearLimit
	shift := uint(i/subCount + 1)
	top := uint64(i%subCount + subCount)
	lo = top << shift
	return lo, lo + (1 << shift) - 1
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))].Add(1)
	h.n.Add(1)
	h.sum.Add(int64(d))
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Count is the number of latencies recorded.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max is the largest latency recorded, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean is the average latency.
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / int64(n))
}

// Quantile returns the latency at or below which a fraction q (0 < q ≤ 1) of the samples lie,
// as the upper bound of its bucket (never under-reports), capped by the exact maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(min(rank, n), 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			_, hi := bucketBounds(i)
			return min(time.Duration(hi), h.Max())
		}
	}
	return h.Max()
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	for {
		m, om := h.max.Load(), o.max.Load()
		if om <= m || h.max.CompareAndSwap(m, om) {
			return
		}
	}
}
