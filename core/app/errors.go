package app

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Errors the use cases add to those of core/users, core/raids and ports.
var (
	ErrValidation      = errors.New("validation failed")
	ErrUnauthenticated = errors.New("authentication required")
	ErrForbidden       = errors.New("not allowed")
	ErrRateLimited     = errors.New("too many attempts")
)

// ValidationError names each field at fault. errors.Is(err, ErrValidation) holds.
type ValidationError struct {
	Fields map[string]string
}

// Invalid returns a ValidationError for one field.
func Invalid(field, message string) *ValidationError {
	return &ValidationError{Fields: map[string]string{field: message}}
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrValidation.Error())
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		fmt.Fprintf(&b, "; %s: %s", k, e.Fields[k])
	}
	return b.String()
}

func (e *ValidationError) Unwrap() error { return ErrValidation }

// RateLimitedError says when to try again. errors.Is(err, ErrRateLimited) holds.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("%v; try again in %s", ErrRateLimited, e.RetryAfter.Round(time.Second))
}

func (e *RateLimitedError) Unwrap() error { return ErrRateLimited }
