// Package bossdata reads the boss raid data, in the original service's format, from a file or
// an http(s) URL, or serves the built-in default.
package bossdata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

const (
	// Timeout bounds one HTTP fetch, whatever client is given.
	Timeout = 5 * time.Second
	// MaxBytes bounds what is read; real data is a few hundred bytes.
	MaxBytes = 1 << 20
)

// Source implements ports.BossDataSource.
type Source struct {
	location string
	url      *url.URL // nil for a file or the built-in data
	client   *http.Client
	desc     string
}

var _ ports.BossDataSource = (*Source)(nil)

// New returns a Source reading location: a file path, a file:// URL, an http(s) URL, or ""
// for the built-in raids.DefaultBossData(). httpClient may be nil. A location that cannot be
// read is reported by LoadBossData, so it fails where a bad file would.
func New(location string, httpClient *http.Client) *Source {
	s := &Source{location: location, client: httpClient, desc: location}
	if s.client == nil {
		s.client = &http.Client{Timeout: Timeout}
	}
	if location == "" {
		s.desc = "the built-in default"
		return s
	}
	if u, err := url.Parse(location); err == nil && u.Scheme != "" && strings.Contains(location, "://") {
		s.url = u
		// Credentials and query strings (signed URLs) stay out of logs and error messages.
		shown := *u
		shown.RawQuery, shown.ForceQuery, shown.Fragment = "", false, ""
		s.desc = shown.Redacted()
	}
	return s
}

// Location describes where the data comes from, fit for logs.
func (s *Source) Location() string { return s.desc }

// LoadBossData reads and validates the data. Errors say where the data came from and why it
// was refused; bad data wraps raids.ErrInvalidBossData, an unreachable or failing server
// wraps ports.ErrUnavailable.
func (s *Source) LoadBossData(ctx context.Context) (raids.BossData, error) {
	if s.location == "" {
		return raids.DefaultBossData(), nil
	}
	raw, err := s.read(ctx)
	if err != nil {
		return raids.BossData{}, fmt.Errorf("boss data from %s: %w", s.desc, err)
	}
	d, err := raids.ParseBossData(raw)
	if err != nil {
		return raids.BossData{}, fmt.Errorf("boss data from %s: %w", s.desc, err)
	}
	return d, nil
}

func (s *Source) read(ctx context.Context) ([]byte, error) {
	switch {
	case s.url == nil:
		return readFile(s.location)
	case s.url.Scheme == "file":
		return readFile(s.url.Path)
	case s.url.Scheme == "http" || s.url.Scheme == "https":
		return s.fetch(ctx)
	}
	return nil, fmt.Errorf("unsupported scheme %q (want a file path, file://, http:// or https://)", s.url.Scheme)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		var raw []byte
		if raw, err = readLimited(f); err == nil {
			return raw, nil
		}
	}
	// The path is already in the message; keep the operation and the cause.
	var perr *fs.PathError
	if errors.As(err, &perr) {
		err = fmt.Errorf("%s: %w", perr.Op, perr.Err)
	}
	return nil, err
}

func (s *Source) fetch(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		// The url.Error repeats the URL, credentials and all; keep only the cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%w: %w", ports.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("HTTP status %s, want 200 OK", resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			err = fmt.Errorf("%w: %w", ports.ErrUnavailable, err)
		}
		return nil, err
	}
	raw, err := readLimited(resp.Body)
	if err != nil && !errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("%w: reading the body: %w", ports.ErrUnavailable, err)
	}
	return raw, err
}

var errTooLarge = errors.New("larger than 1 MiB")

func readLimited(r io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxBytes {
		return nil, errTooLarge
	}
	return raw, nil
}
