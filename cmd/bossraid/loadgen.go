package main

import (
	"context"
	"errors"
	"io"
)

func loadgen(_ context.Context, _ []string, _, _ io.Writer) error {
	return errors.New("loadgen: not built yet")
}
