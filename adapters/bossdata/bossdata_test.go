package bossdata_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/bossdata"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

const custom = `{"bossRaids":[{"bossRaidLimitSeconds":60,
  "levels":[{"level":2,"score":100},{"level":0,"score":10}]}]}`

var customData = raids.BossData{
	TimeLimit: time.Minute,
	Levels:    []raids.Level{{Level: 0, Score: 10}, {Level: 2, Score: 100}},
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bossdata.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serve answers every request with status and body.
func serve(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/bossdata.json"
}

// unreachable returns a URL on a loopback port nothing listens on.
func unreachable(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/bossdata.json"
}

func TestLoadBossData(t *testing.T) {
	tests := []struct {
		name     string
		location func(t *testing.T) string
		want     raids.BossData
	}{
		{"built-in default", func(*testing.T) string { return "" }, raids.DefaultBossData()},
		{"file", func(t *testing.T) string { return writeFile(t, custom) }, customData},
		{"file URL", func(t *testing.T) string { return "file://" + writeFile(t, custom) }, customData},
		{"file in the default format", func(t *testing.T) string { return writeFile(t, raids.DefaultBossDataJSON) }, raids.DefaultBossData()},
		{"http URL", func(t *testing.T) string { return serve(t, http.StatusOK, custom) }, customData},
		{"file of exactly MaxBytes", func(t *testing.T) string { return writeFile(t, tooLarge[:bossdata.MaxBytes]) }, customData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bossdata.New(tt.location(t), nil).LoadBossData(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("LoadBossData = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// tooLarge is valid data padded just past MaxBytes.
var tooLarge = custom + strings.Repeat(" ", bossdata.MaxBytes-len(custom)+1)

func TestLoadBossDataRefuses(t *testing.T) {
	invalid := func(content string) func(t *testing.T) string {
		return func(t *testing.T) string { return writeFile(t, content) }
	}
	tests := []struct {
		name     string
		location func(t *testing.T) string
		is       error  // nil: only the message is checked
		says     string // after "boss data from <location>: "
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.json") },
			fs.ErrNotExist, "open: no such file or directory"},
		{"a directory", func(t *testing.T) string { return t.TempDir() },
			nil, "read: is a directory"},
		{"empty file", invalid(""),
			raids.ErrInvalidBossData, "invalid boss raid data: not JSON"},
		{"not JSON", invalid("bossRaids: []"),
			raids.ErrInvalidBossData, "invalid boss raid data: not JSON"},
		{"no boss raids", invalid(`{"bossRaids":[]}`),
			raids.ErrInvalidBossData, "invalid boss raid data: bossRaids is empty"},
		{"no levels", invalid(`{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[]}]}`),
			raids.ErrInvalidBossData, "invalid boss raid data: levels is empty"},
		{"duplicate level", invalid(`{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[{"level":1,"score":1},{"level":1,"score":2}]}]}`),
			raids.ErrInvalidBossData, "invalid boss raid data: level 1 appears twice"},
		{"negative score", invalid(`{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[{"level":0,"score":-5}]}]}`),
			raids.ErrInvalidBossData, "invalid boss raid data: level 0 has a negative score"},
		{"limit zero", invalid(`{"bossRaids":[{"bossRaidLimitSeconds":0,"levels":[{"level":0,"score":5}]}]}`),
			raids.ErrInvalidBossData, "invalid boss raid data: bossRaidLimitSeconds must be greater than 0"},
		{"limit negative", invalid(`{"bossRaids":[{"bossRaidLimitSeconds":-1,"levels":[{"level":0,"score":5}]}]}`),
			raids.ErrInvalidBossData, "invalid boss raid data: bossRaidLimitSeconds must be greater than 0"},
		{"limit missing", invalid(`{"bossRaids":[{"levels":[{"level":0,"score":5}]}]}`),
			raids.ErrInvalidBossData, "invalid boss raid data: bossRaidLimitSeconds must be greater than 0"},
		{"file too large", invalid(tooLarge),
			nil, "larger than 1 MiB"},
		{"unsupported scheme", func(*testing.T) string { return "ftp://example.com/bossdata.json" },
			nil, `unsupported scheme "ftp"`},
		{"URL 404", func(t *testing.T) string { return serve(t, http.StatusNotFound, "not found") },
			nil, "HTTP status 404 Not Found, want 200 OK"},
		{"URL 204", func(t *testing.T) string { return serve(t, http.StatusNoContent, "") },
			nil, "HTTP status 204 No Content, want 200 OK"},
		{"URL 500", func(t *testing.T) string { return serve(t, http.StatusInternalServerError, custom) },
			ports.ErrUnavailable, "service temporarily unavailable: HTTP status 500"},
		{"URL unreachable", unreachable,
			ports.ErrUnavailable, "service temporarily unavailable: dial tcp"},
		{"URL with invalid data", func(t *testing.T) string {
			return serve(t, http.StatusOK, `{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[{"level":1,"score":1},{"level":1,"score":2}]}]}`)
		}, raids.ErrInvalidBossData, "invalid boss raid data: level 1 appears twice"},
		{"URL body too large", func(t *testing.T) string { return serve(t, http.StatusOK, tooLarge) },
			nil, "larger than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			location := tt.location(t)
			got, err := bossdata.New(location, nil).LoadBossData(context.Background())
			if err == nil {
				t.Fatalf("LoadBossData = %+v, want an error", got)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %q", err, tt.is)
			}
			if want := "boss data from " + location + ": " + tt.says; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q\ndoes not start with %q", err, want)
			}
		})
	}
}

func TestURLSecretsStayOutOfErrors(t *testing.T) {
	location := strings.Replace(unreachable(t), "http://", "http://admin:hunter2@", 1) + "?signature=s3cr3t"
	src := bossdata.New(location, nil)
	_, err := src.LoadBossData(context.Background())
	if err == nil {
		t.Fatal("want an error")
	}
	for _, secret := range []string{"hunter2", "s3cr3t"} {
		if strings.Contains(err.Error(), secret) || strings.Contains(src.Location(), secret) {
			t.Errorf("%q leaked: error %q, location %q", secret, err, src.Location())
		}
	}
}

func TestFetchGivesUp(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })

	t.Run("client timeout", func(t *testing.T) {
		src := bossdata.New(srv.URL, &http.Client{Timeout: 50 * time.Millisecond})
		if _, err := src.LoadBossData(context.Background()); !errors.Is(err, ports.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("caller's deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := bossdata.New(srv.URL, nil).LoadBossData(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a deadline error", err)
		}
	})
}

func TestLocation(t *testing.T) {
	tests := []struct{ location, want string }{
		{"", "the built-in default"},
		{"/etc/bossraid/data.json", "/etc/bossraid/data.json"},
		{"https://example.com/data.json", "https://example.com/data.json"},
		{"https://u:p@example.com/data.json?sig=x#frag", "https://u:xxxxx@example.com/data.json"},
	}
	for _, tt := range tests {
		if got := bossdata.New(tt.location, nil).Location(); got != tt.want {
			t.Errorf("Location(%q) = %q, want %q", tt.location, got, tt.want)
		}
	}
}
