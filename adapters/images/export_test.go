package images

import (
	"context"
	"time"
)

// DecodeCost is what CheckImage would reserve from the budget for data, before the floor
// that bounds the count of decodes.
func DecodeCost(data []byte) (int64, error) {
	_, _, cost, err := readHeader(data)
	return cost, err
}

// Hold takes n bytes of c's budget until the returned function is called.
func (c *Checker) Hold(n int64) func() {
	if err := c.budget.Acquire(context.Background(), n); err != nil {
		panic(err)
	}
	return func() { c.budget.Release(n) }
}

// WaitAtMost replaces MaxWait, for tests under the race detector, where decodes are slow.
func (c *Checker) WaitAtMost(d time.Duration) { c.maxWait = d }
