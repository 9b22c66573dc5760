package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bossraid/bossraid/internal/testenv"
)

// redisDB is this package's database in the test Redis (see internal/testenv).
const redisDB = 2

func TestMain(m *testing.M) {
	testenv.Main(m, "api")
}

// env is one Boss Raid instance over real Postgres and Redis, reached over real HTTP.
type env struct {
	t  testing.TB
	st *testenv.Stack
	hc *http.Client
	// seq makes unique emails and nicknames within the test.
	seq *atomic.Int64
}

// sub is e reporting to a subtest.
func (e *env) sub(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

func newEnv(t testing.TB, opts testenv.StackOptions) *env {
	t.Helper()
	opts.RedisDB = redisDB
	st := testenv.NewStack(t, opts)
	// The production pool holds 20 connections (postgres.DefaultOptions); the bursts below must
	// not exhaust the shared test server's connection slots either.
	st.DB.SetMaxOpenConns(20)
	tr := &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{t: t, st: st, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, seq: new(atomic.Int64)}
}

// response is a whole HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
}

// request describes one call; zero fields are left out.
type request struct {
	Method      string
	Path        string
	Token       string // sent as "Authorization: Bearer <Token>"
	Auth        string // the raw Authorization header, when Token is not enough
	ContentType string
	Body        []byte
}

// do sends req. Safe from many goroutines: it reports with Errorf and returns the error.
// Every answer is checked for what holds on every route: no 5xx, and errors in the one shape.
func (e *env) do(req request) (response, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequest(req.Method, e.st.URL+req.Path, body)
	if err != nil {
		return response{}, err
	}
	if req.ContentType != "" {
		hr.Header.Set("Content-Type", req.ContentType)
	}
	switch {
	case req.Auth != "":
		hr.Header.Set("Authorization", req.Auth)
	case req.Token != "":
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	resp, err := e.hc.Do(hr)
	if err != nil {
		e.t.Errorf("%s %s: %v", req.Method, req.Path, err)
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Errorf("%s %s: read body: %v", req.Method, req.Path, err)
		return response{}, err
	}
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if r.Status >= 500 {
		e.t.Errorf("%s %s: server error %s", req.Method, req.Path, r)
	}
	if r.Status >= 400 && strings.HasPrefix(req.Path, "/api/") {
		if err := checkProblemShape(r); err != nil {
			e.t.Errorf("%s %s: %v", req.Method, req.Path, err)
		}
	}
	return r, nil
}

// must is do for the test goroutine: any transport failure ends the test.
func (e *env) must(req request) response {
	e.t.Helper()
	r, err := e.do(req)
	if err != nil {
		e.t.FailNow()
	}
	return r
}

func (e *env) get(path, token string) response {
	e.t.Helper()
	return e.must(request{Method: http.MethodGet, Path: path, Token: token})
}

// sendJSON sends v (marshalled, or raw bytes/string as they are) as application/json.
func (e *env) sendJSON(method, path, token string, v any) response {
	e.t.Helper()
	return e.must(request{Method: method, Path: path, Token: token, ContentType: "application/json", Body: jsonBytes(e.t, v)})
}

func (e *env) postJSON(path, token string, v any) response {
	e.t.Helper()
	return e.sendJSON(http.MethodPost, path, token, v)
}

func jsonBytes(t testing.TB, v any) []byte {
	t.Helper()
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// object decodes a JSON object body, numbers kept exact.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %v: %q", err, body)
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object: %q", body)
	}
	if m == nil {
		return nil, fmt.Errorf("body is null")
	}
	return m, nil
}

// expect checks the status and the JSON content type and returns the body as an object.
func (e *env) expect(r response, status int) map[string]any {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status: got %s, want %d", r, status)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("Content-Type %q, want application/json", ct)
	}
	m, err := decodeObject(r.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// problemCodes are the error codes of SPEC.md §2 with their statuses.
var problemCodes = map[string]int{
	"validation_failed":      400,
	"invalid_json":           400,
	"unauthenticated":        401,
	"invalid_credentials":    401,
	"forbidden":              403,
	"not_found":              404,
	"method_not_allowed":     405,
	"email_taken":            409,
	"nickname_taken":         409,
	"raid_busy":              409,
	"raid_expired":           409,
	"raid_not_in_progress":   409,
	"raid_reserved":          409,
	"raid_free":              409,
	"already_queued":         409,
	"already_inside":         409,
	"not_queued":             404,
	"payload_too_large":      413,
	"unsupported_media_type": 415,
	"rate_limited":           429,
	"unavailable":            503,
}

// checkProblemShape verifies an error answer is exactly {code, detail, errors?} (raid_busy adds
// is_entered, entered_user_id and raid_history_id; raid_reserved is_entered, reserved_for and
// reserved_until), with the headers its status needs.
func checkProblemShape(r response) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("error answer %s has Content-Type %q", r, ct)
	}
	m, err := decodeObject(r.Body)
	if err != nil {
		return err
	}
	code, _ := m["code"].(string)
	if want, ok := problemCodes[code]; !ok || want != r.Status {
		return fmt.Errorf("error answer %s: code %q does not go with status %d", r, code, r.Status)
	}
	if d, _ := m["detail"].(string); strings.TrimSpace(d) == "" {
		return fmt.Errorf("error answer %s: detail is missing or empty", r)
	}
	allowed := []string{"code", "detail", "errors"}
	if code == "raid_busy" {
		allowed = append(allowed, "is_entered", "entered_user_id", "raid_history_id")
		for _, k := range []string{"is_entered", "entered_user_id", "raid_history_id"} {
			if _, ok := m[k]; !ok {
				return fmt.Errorf("raid_busy answer %s lacks %s", r, k)
			}
		}
	}
	if code == "raid_reserved" {
		allowed = append(allowed, "is_entered", "reserved_for", "reserved_until")
		for _, k := range []string{"is_entered", "reserved_for", "reserved_until"} {
			if _, ok := m[k]; !ok {
				return fmt.Errorf("raid_reserved answer %s lacks %s", r, k)
			}
		}
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("error answer %s has unexpected member %q", r, k)
		}
	}
	if errs, ok := m["errors"]; ok {
		fields, ok := errs.(map[string]any)
		if !ok || len(fields) == 0 {
			return fmt.Errorf("error answer %s: errors must be a non-empty object", r)
		}
		for f, msg := range fields {
			if s, ok := msg.(string); !ok || strings.TrimSpace(s) == "" {
				return fmt.Errorf("error answer %s: errors.%s must be a non-empty string", r, f)
			}
		}
	}
	switch r.Status {
	case http.StatusUnauthorized:
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			return fmt.Errorf("401 %s without WWW-Authenticate: Bearer (got %q)", r, r.Header.Get("WWW-Authenticate"))
		}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 {
			return fmt.Errorf("%d %s without a Retry-After in seconds (got %q)", r.Status, r, r.Header.Get("Retry-After"))
		}
	}
	if strings.Contains(strings.ToLower(string(r.Body)), "sql") || strings.Contains(string(r.Body), "redis:") {
		return fmt.Errorf("error answer %s shows internals", r)
	}
	return nil
}

// problem checks r is the error status and code and returns its body.
func (e *env) problem(r response, status int, code string) map[string]any {
	e.t.Helper()
	m := e.expect(r, status)
	if m["code"] != code {
		e.t.Fatalf("code: got %s, want %q", r, code)
	}
	return m
}

// fieldErrors returns errors.* of an error body (nil when absent).
func fieldErrors(t testing.TB, m map[string]any) map[string]string {
	t.Helper()
	raw, ok := m["errors"]
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, v := range raw.(map[string]any) {
		out[k] = v.(string)
	}
	return out
}

// requireFields fails unless the error body names exactly these fields.
func requireFields(t testing.TB, m map[string]any, fields ...string) {
	t.Helper()
	got := slices.Sorted(maps.Keys(fieldErrors(t, m)))
	want := slices.Sorted(slices.Values(fields))
	if !slices.Equal(got, want) {
		t.Fatalf("errors: got fields %v (%v), want %v", got, m["errors"], want)
	}
}

// requireKeys fails unless m has exactly these members.
func requireKeys(t testing.TB, m map[string]any, keys ...string) {
	t.Helper()
	got := slices.Sorted(maps.Keys(m))
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Fatalf("members: got %v, want %v (%v)", got, want, m)
	}
}

// integer returns a JSON number that must be an integer.
func integer(t testing.TB, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%v is not an integer", v)
	}
	return i
}

// id returns a JSON number that must be a positive integer.
func id(t testing.TB, v any) int64 {
	t.Helper()
	i := integer(t, v)
	if i <= 0 {
		t.Fatalf("id %d is not positive", i)
	}
	return i
}

// str returns a JSON string.
func str(t testing.TB, v any) string {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%v (%T) is not a string", v, v)
	}
	return s
}

// timestamp parses an RFC 3339 time that must be in UTC.
func timestamp(t testing.TB, v any) time.Time {
	t.Helper()
	s := str(t, v)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q is not RFC 3339: %v", s, err)
	}
	if !strings.HasSuffix(s, "Z") {
		t.Fatalf("time %q is not in UTC", s)
	}
	return tm
}

// object returns a nested JSON object.
func object(t testing.TB, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v (%T) is not an object", v, v)
	}
	return m
}

// player is a signed-up, signed-in player.
type player struct {
	ID       int64
	Email    string
	Nickname string
	Password string
	Phone    string
	Access   string
	Refresh  string
}

// signUp registers a player through the API with a unique email and the given nickname
// ("" makes one up).
func (e *env) signUp(nickname string) *player {
	e.t.Helper()
	n := e.seq.Add(1)
	if nickname == "" {
		nickname = fmt.Sprintf("player%d", n)
	}
	p := &player{Email: fmt.Sprintf("player%d@example.com", n), Nickname: nickname, Password: "Raid_pass1!"}
	m := e.expect(e.postJSON("/api/users/signup", "", map[string]string{
		"email": p.Email, "nickname": p.Nickname, "password": p.Password,
	}), http.StatusCreated)
	p.ID = id(e.t, m["id"])
	return p
}

// signIn signs p in and keeps the tokens.
func (e *env) signIn(p *player) {
	e.t.Helper()
	m := e.expect(e.postJSON("/api/users/signin", "", map[string]string{
		"email": p.Email, "password": p.Password,
	}), http.StatusOK)
	p.Access, p.Refresh = str(e.t, m["access"]), str(e.t, m["refresh"])
}

// newPlayer signs a new player up and in.
func (e *env) newPlayer(nickname string) *player {
	e.t.Helper()
	p := e.signUp(nickname)
	e.signIn(p)
	return p
}

func searchPath(nickname string, query string) string {
	p := "/api/users/search/" + url.PathEscape(nickname)
	if query != "" {
		p += "?" + query
	}
	return p
}

func endPath(raidID int64) string {
	return "/api/raids/" + strconv.FormatInt(raidID, 10) + "/end"
}

// enter asks to enter the raid at level.
func (e *env) enter(p *player, level int) response {
	e.t.Helper()
	return e.postJSON("/api/raids/enter", p.Access, map[string]int{"level": level})
}

// enterOK enters the raid at level and returns the raid's id.
func (e *env) enterOK(p *player, level int) int64 {
	e.t.Helper()
	m := e.expect(e.enter(p, level), http.StatusCreated)
	return id(e.t, object(e.t, m["result"])["id"])
}

// end asks to end the raid; level nil sends an empty body.
func (e *env) end(p *player, raidID int64, level *int) response {
	e.t.Helper()
	if level == nil {
		return e.must(request{Method: http.MethodPatch, Path: endPath(raidID), Token: p.Access})
	}
	return e.sendJSON(http.MethodPatch, endPath(raidID), p.Access, map[string]int{"level": *level})
}

// play enters and clears one raid at level.
func (e *env) play(p *player, level int) {
	e.t.Helper()
	raidID := e.enterOK(p, level)
	e.expect(e.end(p, raidID, &level), http.StatusOK)
}

// search fetches a player's page.
func (e *env) search(by *player, nickname, query string) map[string]any {
	e.t.Helper()
	return e.expect(e.get(searchPath(nickname, query), by.Access), http.StatusOK)
}
