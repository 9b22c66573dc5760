package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// NewHTTPClient returns the one client a run uses: keep-alive connections, enough idle ones
// kept per host for every worker (so no request pays for a new TCP connection once warm),
// no compression, no HTTP/2, and a bound on every request.
func NewHTTPClient(conns int, timeout time.Duration) *http.Client {
	conns = max(conns, 1)
	tr := &http.Transport{
		Proxy:                 nil, // a load test never goes through a proxy
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns * 2,
		MaxIdleConnsPerHost:   conns * 2,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: 0,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// API calls the Boss Raid JSON API at one base URL.
type API struct {
	Base   *url.URL
	Client *http.Client
}

// Result is one answered (or failed) request.
type Result struct {
	Status  int
	Code    string // the error body's code for non-2xx answers
	Latency time.Duration
	Err     error // transport failure; Status is 0 then
	Body    []byte
	// RetryAfter is the answer's Retry-After header (503 and 429 must carry one).
	RetryAfter string
}

// Do sends one request and reads the whole answer. body is marshalled as JSON unless nil.
// keepBody keeps the answer's bytes for 2xx answers (errors always keep theirs, for the code).
func (c *API) Do(ctx context.Context, method, path, token string, body any, keepBody bool) Result {
	var rd io.Reader
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return Result{Err: err}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base.String()+path, rd)
	if err != nil {
		return Result{Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := c.Client.Do(req)
	if err != nil {
		return Result{Err: err, Latency: time.Since(start)}
	}
	res := Result{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	if keepBody || resp.StatusCode >= 300 {
		res.Body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	_ = resp.Body.Close()
	res.Latency = time.Since(start)
	if err != nil {
		return Result{Err: err, Latency: res.Latency}
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(res.Body, &e) == nil {
			res.Code = e.Code
		}
	}
	return res
}

// Credentials are what a player signs in with.
type Credentials struct {
	Email    string
	Nickname string
	Password string
}

// Player is a signed-in player.
type Player struct {
	Credentials
	ID     int64
	Access string
}

// SignUp registers c through the API.
func (c *API) SignUp(ctx context.Context, cr Credentials) (int64, Result) {
	res := c.Do(ctx, http.MethodPost, "/api/users/signup", "",
		map[string]string{"email": cr.Email, "nickname": cr.Nickname, "password": cr.Password}, true)
	var out struct {
		ID int64 `json:"id"`
	}
	if res.Status == http.StatusCreated {
		_ = json.Unmarshal(res.Body, &out)
	}
	return out.ID, res
}

// SignIn signs cr in and returns the access token.
func (c *API) SignIn(ctx context.Context, cr Credentials) (string, Result) {
	res := c.Do(ctx, http.MethodPost, "/api/users/signin", "",
		map[string]string{"email": cr.Email, "password": cr.Password}, true)
	var out struct {
		Access string `json:"access"`
	}
	if res.Status == http.StatusOK {
		_ = json.Unmarshal(res.Body, &out)
	}
	return out.Access, res
}

// Enter asks to enter the raid at level and returns the raid id when admitted.
func (c *API) Enter(ctx context.Context, token string, level int) (int64, Result) {
	res := c.Do(ctx, http.MethodPost, "/api/raids/enter", token, map[string]int{"level": level}, true)
	var out struct {
		Result struct {
			ID int64 `json:"id"`
		} `json:"result"`
	}
	if res.Status == http.StatusCreated {
		_ = json.Unmarshal(res.Body, &out)
	}
	return out.Result.ID, res
}

// End clears raid id.
func (c *API) End(ctx context.Context, token string, id int64) Result {
	return c.Do(ctx, http.MethodPatch, "/api/raids/"+strconv.FormatInt(id, 10)+"/end", token, struct{}{}, false)
}

// ErrClass names a transport failure briefly, for the error tables.
func ErrClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "out of local ports"
	}
	return fmt.Sprintf("other: %.60s", err.Error())
}
