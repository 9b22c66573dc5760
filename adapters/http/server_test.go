package http_test

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/mux"

	httpserver "github.com/bossraid/bossraid/adapters/http"
)

// A client behind our proxy writes its own X-Forwarded-For before the proxy appends the
// address it saw; only the proxy's entry names the client.
func TestClientBehindTheProxyCannotChooseItsAddress(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httpserver.New(httpserver.Config{Logger: log, TrustProxy: true})
	for _, tc := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"10.0.0.1:4000", []string{"6.6.6.6", "203.0.113.9"}, "client=203.0.113.9:0"},
		{"10.0.0.1:4000", []string{"6.6.6.6, 203.0.113.9"}, "client=203.0.113.9:0"},
		{"10.0.0.1:4000", []string{"6.6.6.6, 203.0.113.9, 10.0.0.2"}, "client=203.0.113.9:0"},
		// Not through our proxy: what the client claims is ignored.
		{"198.51.100.4:4000", []string{"6.6.6.6"}, "client=198.51.100.4:4000"},
	} {
		logs.Reset()
		req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
		req.RemoteAddr = tc.peer
		for _, line := range tc.xff {
			req.Header.Add("X-Forwarded-For", line)
		}
		srv.ServeHTTP(httptest.NewRecorder(), req)
		if !strings.Contains(logs.String(), tc.want) {
			t.Errorf("peer %s, X-Forwarded-For %q: logged %q, want %s", tc.peer, tc.xff, logs.String(), tc.want)
		}
	}
}

// bigPage is a front door with one large response, like an avatar or a long page.
type bigPage struct{}

func (bigPage) Register(r *mux.Router) {
	r.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 256 { // 16 MiB: far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
}

// smallBuffers makes every accepted connection's send buffer small, so a client that stops
// reading blocks the server's writes at once.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

// A client that asks for a large response and then stops reading loses its connection once the
// write timeout passes, instead of holding it (and a goroutine) for ever.
func TestSlowReadersAreCutOffByTheWriteTimeout(t *testing.T) {
	srv := httpserver.New(httpserver.Config{FrontDoors: []httpserver.FrontDoor{bigPage{}}})
	hs := srv.HTTPServer("", 200*time.Millisecond)
	closed := make(chan struct{})
	var once sync.Once
	hs.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			once.Do(func() { close(closed) })
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hs.Serve(smallBuffers{ln}) }()
	t.Cleanup(func() { _ = hs.Close() })

	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10) })
	}}
	conn, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /big HTTP/1.1\r\nHost: raid.example\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	// Read nothing. The server must give up on its own.
	select {
	case <-closed:
	case <-time.After(15 * time.Second):
		t.Fatal("the server still holds the connection of a client that stopped reading")
	}
}
