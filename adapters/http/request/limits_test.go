package request_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/request"
)

// countingBody is a request body that counts what the server pulled from it.
type countingBody struct {
	r    io.Reader
	read int
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func (c *countingBody) Close() error { return nil }

func TestBodiesStopReadingAtTheLimit(t *testing.T) {
	for _, tc := range []struct {
		contentType string
		limit       int
	}{
		{"application/x-www-form-urlencoded", request.MaxForm},
		{"application/json", request.MaxJSON},
		{"", request.MaxForm},
		{"multipart/form-data; boundary=x", request.MaxMultipart},
	} {
		body := &countingBody{r: strings.NewReader("a=" + strings.Repeat("b", 6<<20))}
		req := httptest.NewRequest(http.MethodPost, "/signin", nil)
		req.Body, req.ContentLength = body, -1 // chunked: the size is not known up front
		req.Header.Set("Content-Type", tc.contentType)
		var readErr error
		request.Bodies(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			_, readErr = io.Copy(io.Discard, r.Body)
		})).ServeHTTP(httptest.NewRecorder(), req)
		if _, ok := errors.AsType[*http.MaxBytesError](readErr); !ok {
			t.Errorf("%q: reading 6 MiB gave %v, want a MaxBytesError", tc.contentType, readErr)
		}
		if body.read > tc.limit+64<<10 {
			t.Errorf("%q: the server read %d bytes, limit %d", tc.contentType, body.read, tc.limit)
		}
	}
}

func TestReadFormRefusesWhatIsTooLarge(t *testing.T) {
	for _, tc := range []struct {
		contentType, body string
		contentLength     int64
	}{
		{"application/x-www-form-urlencoded", "a=" + strings.Repeat("b", 70<<10), -1},
		{"application/x-www-form-urlencoded", "a=b", 6 << 20}, // announced too large: not read at all
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + strings.Repeat("b", 3<<20) + "\r\n--x--\r\n", -1},
	} {
		req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(tc.body))
		req.ContentLength = tc.contentLength
		req.Header.Set("Content-Type", tc.contentType)
		var err error
		request.Bodies(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			err = request.ReadForm(r)
		})).ServeHTTP(httptest.NewRecorder(), req)
		if !errors.Is(err, problem.ErrPayloadTooLarge) {
			t.Errorf("%s of %d bytes: %v, want payload too large", tc.contentType, len(tc.body), err)
		}
	}
}
