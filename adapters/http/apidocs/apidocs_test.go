package apidocs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gorilla/mux"

	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/adapters/http/admin"
	"github.com/bossraid/bossraid/adapters/http/api"
	"github.com/bossraid/bossraid/adapters/http/apidocs"
	"github.com/bossraid/bossraid/adapters/http/metrics"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/adapters/http/web"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/internal/testenv"
	"github.com/bossraid/bossraid/ports"
)

// redisDB is this package's Redis database (see testenv.Redis).
const redisDB = 8

// signInLimit is low so a test can reach the throttle quickly.
const signInLimit = 3

// signUpLimit is the valid sign-ups the walk below makes before it meets the throttle.
const signUpLimit = 5

func TestMain(m *testing.M) {
	// The documentation page's files are plain text as far as validation goes.
	for _, ct := range []string{"text/html", "text/css", "text/javascript"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
	testenv.Main(m, "http_apidocs")
}

// newStack is an instance with every front door cmd/bossraid adds, in its order, so the
// router walked is the production one.
func newStack(t *testing.T) *testenv.Stack {
	t.Helper()
	settings := app.DefaultSettings()
	settings.SignInAccountLimit, settings.SignUpAddressLimit = signInLimit, signUpLimit
	m := metrics.New()
	return testenv.NewStack(t, testenv.StackOptions{
		RedisDB: redisDB, Settings: &settings, Metrics: m, Observe: m.Observe,
		FrontDoors: func(st *testenv.Stack) []httpserver.FrontDoor {
			sessions := session.New(st.DB, time.Hour, false)
			t.Cleanup(sessions.Close)
			pages, err := web.New(web.Config{App: st.App, Events: st.Events, Sessions: sessions, Stop: st.Stop})
			if err != nil {
				t.Fatal(err)
			}
			adminPages, err := admin.New(admin.Config{App: st.App, Sessions: sessions})
			if err != nil {
				t.Fatal(err)
			}
			return []httpserver.FrontDoor{m, apidocs.New(nil), adminPages, pages}
		},
	})
}

func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(apidocs.Document())
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestDocumentIsValidOpenAPI(t *testing.T) {
	doc := loadDocument(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	// Every error answer of the API uses the one Error shape, with the codes of its route.
	for path, item := range doc.Paths.Map() {
		if !isAPI(path) {
			continue
		}
		for method, op := range item.Operations() {
			for status, resp := range op.Responses.Map() {
				if status[0] == '2' {
					continue
				}
				media := resp.Value.Content.Get("application/json")
				if media == nil {
					t.Errorf("%s %s %s: no JSON error body", method, path, status)
					continue
				}
				if len(errorCodes(media.Schema)) == 0 {
					t.Errorf("%s %s %s: the error's codes are not listed", method, path, status)
				}
			}
			for _, status := range []string{"500", "503"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s %s: %s is not documented", method, path, status)
				}
			}
		}
	}
}

// isAPI tells the JSON API's paths from the documentation's and the operators'.
func isAPI(path string) bool {
	return strings.HasPrefix(path, "/api/users/") || strings.HasPrefix(path, "/api/raids/")
}

// errorCodes are the codes an error schema allows.
func errorCodes(s *openapi3.SchemaRef) []string {
	var codes []string
	if code := s.Value.Properties["code"]; code != nil {
		for _, v := range code.Value.Enum {
			codes = append(codes, fmt.Sprint(v))
		}
	}
	for _, sub := range s.Value.AllOf {
		if sub.Ref == "" { // the narrowing, not the whole Error schema
			codes = append(codes, errorCodes(sub)...)
		}
	}
	for _, sub := range s.Value.OneOf { // one of several refusals (raid_busy or raid_reserved)
		codes = append(codes, errorCodes(sub)...)
	}
	return codes
}

// The document and the router agree: every route under /api (and the documented operator
// routes) is documented, and every documented operation is routed.
func TestDocumentCoversEveryRoute(t *testing.T) {
	doc := loadDocument(t)
	st := newStack(t)

	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	documentedPath := func(path string) bool { return doc.Paths.Value(path) != nil }

	routed := map[string]bool{}
	err := st.HTTP.Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil // a prefix holding a subrouter
		}
		tpl = withoutPatterns(tpl)
		if !strings.HasPrefix(tpl, "/api/") && !documentedPath(tpl) {
			return nil // web pages, media and static files are not part of the API
		}
		for _, m := range methods {
			routed[m+" "+tpl] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range api.Routes() {
		if !routed[r.Method+" "+r.Path] {
			t.Errorf("api.Routes() lists %s %s but the router has no such route", r.Method, r.Path)
		}
	}
	for _, k := range sortedKeys(routed) {
		if !documented[k] {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	for _, k := range sortedKeys(documented) {
		if !routed[k] {
			t.Errorf("openapi.json documents %s but the server has no such route", k)
		}
	}
	for _, want := range []string{"GET /api/openapi.json", "GET /api/docs", "GET /healthz", "GET /readyz", "GET /metrics"} {
		if !routed[want] {
			t.Errorf("the server does not route %s", want)
		}
	}
}

// withoutPatterns turns mux's "{id:[0-9]+}" into OpenAPI's "{id}".
func withoutPatterns(tpl string) string {
	var b strings.Builder
	depth := 0
	skipping := false
	for _, r := range tpl {
		switch {
		case r == '{':
			depth++
			if depth == 1 {
				b.WriteRune(r)
				continue
			}
		case r == '}':
			depth--
			if depth == 0 {
				skipping = false
				b.WriteRune(r)
				continue
			}
		case r == ':' && depth == 1:
			skipping = true
		}
		if !skipping {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestWithoutPatterns(t *testing.T) {
	for in, want := range map[string]string{
		"/api/raids/{id:[0-9]+}/end":                 "/api/raids/{id}/end",
		"/media/profile-images/{key:[0-9a-f]{1,64}}": "/media/profile-images/{key}",
		"/api/users/search/{nickname}":               "/api/users/search/{nickname}",
	} {
		if got := withoutPatterns(in); got != want {
			t.Errorf("withoutPatterns(%q) = %q, want %q", in, got, want)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// exchange is one real request to the stack and its answer.
type exchange struct {
	t        *testing.T
	doc      *openapi3.T
	base     string
	answered map[string]bool // "METHOD template status" seen
}

// call is one request: tpl is the documented path, path the concrete one.
type call struct {
	method, tpl, path string
	token             string
	contentType       string
	body              []byte
	want              int
	// validRequest also checks the request against the document (requests the server
	// accepts must be ones the document allows).
	validRequest bool
}

func jsonCall(method, tpl, path, token, body string, want int) call {
	return call{method: method, tpl: tpl, path: path, token: token, contentType: "application/json",
		body: []byte(body), want: want, validRequest: want < 300}
}

// do sends c, checks the status and validates the answer against the document.
func (x *exchange) do(c call) []byte {
	t := x.t
	t.Helper()
	req, err := http.NewRequest(c.method, x.base+c.path, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%s %s → %d", c.method, c.path, c.want)
	if resp.StatusCode != c.want {
		t.Fatalf("%s: got %d %s", name, resp.StatusCode, body)
	}
	x.answered[fmt.Sprintf("%s %s %d", c.method, c.tpl, resp.StatusCode)] = true

	route := x.route(c.method, c.tpl)
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: pathParams(c.tpl, c.path),
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
	if c.validRequest {
		vreq := req.Clone(context.Background())
		vreq.Body = io.NopCloser(bytes.NewReader(c.body))
		in := *input
		in.Request = vreq
		if err := openapi3filter.ValidateRequest(context.Background(), &in); err != nil {
			t.Errorf("%s: the request the server accepted does not match the document: %v", name, err)
		}
	}
	if c.method == http.MethodHead {
		if route.Operation.Responses.Status(resp.StatusCode) == nil {
			t.Errorf("%s: status %d is not documented", name, resp.StatusCode)
		}
		return body
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		t.Errorf("%s: the answer does not match the document: %v\nbody: %s", name, err, body)
	}
	return body
}

func (x *exchange) route(method, tpl string) *routers.Route {
	x.t.Helper()
	item := x.doc.Paths.Value(tpl)
	if item == nil {
		x.t.Fatalf("openapi.json has no path %s", tpl)
	}
	op := item.GetOperation(method)
	if op == nil {
		x.t.Fatalf("openapi.json has no %s %s", method, tpl)
	}
	return &routers.Route{Spec: x.doc, Path: tpl, PathItem: item, Method: method, Operation: op}
}

// pathParams matches a concrete path against its template.
func pathParams(tpl, path string) map[string]string {
	params := map[string]string{}
	path, _, _ = strings.Cut(path, "?")
	tplParts, parts := strings.Split(tpl, "/"), strings.Split(path, "/")
	for i, p := range tplParts {
		if strings.HasPrefix(p, "{") && i < len(parts) {
			name := strings.Trim(p, "{}")
			params[name], _ = url.PathUnescape(parts[i])
		}
	}
	return params
}

// Every route answers what the document says, for its successes and its main errors.
func TestRealResponsesMatchTheDocument(t *testing.T) {
	doc := loadDocument(t)
	st := newStack(t)
	x := &exchange{t: t, doc: doc, base: st.URL, answered: map[string]bool{}}
	post := func(tpl, token, body string, want int) []byte {
		return x.do(jsonCall(http.MethodPost, tpl, tpl, token, body, want))
	}
	get := func(tpl, path, token string, want int) []byte {
		return x.do(call{method: http.MethodGet, tpl: tpl, path: path, token: token, want: want, validRequest: want < 300})
	}
	tooLarge := `{"email":"` + strings.Repeat("a", api.MaxJSONBody) + `"}`
	const signUp, signIn, signOut, refresh = "/api/users/signup", "/api/users/signin", "/api/users/signout", "/api/users/token/refresh"
	const enter, end, status, ranking, search = "/api/raids/enter", "/api/raids/{id}/end", "/api/raids/status", "/api/raids/ranking", "/api/users/search/{nickname}"

	// Sign-up: JSON with and without a phone, multipart with an image, and each refusal.
	post(signUp, "", `{"email":"alice@example.com","nickname":"alice","password":"Passw0rd!","phone":"010-1234-5678"}`, 201)
	post(signUp, "", `{"email":"bob@example.com","nickname":"bob","password":"Passw0rd!"}`, 201)
	created := x.do(multipartSignUp(t, "carol@example.com", "carol"))
	var carol struct {
		ProfileImageURL *string `json:"profile_image_url"`
	}
	if err := json.Unmarshal(created, &carol); err != nil || carol.ProfileImageURL == nil {
		t.Errorf("multipart sign-up with an image: profile_image_url = %v (%v)", carol.ProfileImageURL, err)
	}
	x.do(call{method: http.MethodPost, tpl: signUp, path: signUp, contentType: "application/json",
		body: []byte(`{"email":"ALICE@example.com","nickname":"alice2","password":"Passw0rd!"}`), want: 409, validRequest: true})
	x.do(call{method: http.MethodPost, tpl: signUp, path: signUp, contentType: "application/json",
		body: []byte(`{"email":"alice2@example.com","nickname":"ALICE","password":"Passw0rd!"}`), want: 409, validRequest: true})
	post(signUp, "", `{"email":"nope","nickname":"x","password":"short","phone":"12"}`, 400)
	post(signUp, "", `{"email":`, 400)
	post(signUp, "", tooLarge, 413)
	x.do(call{method: http.MethodPost, tpl: signUp, path: signUp, contentType: "text/plain", body: []byte("hi"), want: 415})
	post(signUp, "", `{"email":"dave@example.com","nickname":"dave","password":"Passw0rd!"}`, 429) // the sixth valid one

	// Sign-in, including the throttle after signInLimit failures.
	alice := tokens(t, post(signIn, "", `{"email":"Alice@Example.com","password":"Passw0rd!"}`, 200))
	bob := tokens(t, post(signIn, "", `{"email":"bob@example.com","password":"Passw0rd!"}`, 200))
	for range signInLimit {
		post(signIn, "", `{"email":"carol@example.com","password":"Wrong-passw0rd"}`, 401)
	}
	post(signIn, "", `{"email":"carol@example.com","password":"Passw0rd!"}`, 429)
	post(signIn, "", `{"email":"","password":""}`, 400)
	post(signIn, "", tooLarge, 413)
	x.do(call{method: http.MethodPost, tpl: signIn, path: signIn, contentType: "text/plain", body: []byte("hi"), want: 415})

	// A new access token.
	post(refresh, "", fmt.Sprintf(`{"refresh":%q}`, alice.Refresh), 200)
	post(refresh, "", `{"refresh":"forged.token.here"}`, 401)
	post(refresh, "", fmt.Sprintf(`{"refresh":%q}`, alice.Access), 401)
	post(refresh, "", `{}`, 400)
	post(refresh, "", tooLarge, 413)
	x.do(call{method: http.MethodPost, tpl: refresh, path: refresh, contentType: "text/plain", body: []byte("hi"), want: 415})

	// The raid: free, entered, busy, cleared, cleared again, expired.
	get(status, status, alice.Access, 200)
	get(status, status, "", 401)
	entered := post(enter, alice.Access, `{"level":1}`, 201)
	var e struct{ Result struct{ ID int64 } }
	if err := json.Unmarshal(entered, &e); err != nil {
		t.Fatal(err)
	}
	x.do(call{method: http.MethodPost, tpl: enter, path: enter, token: bob.Access, contentType: "application/json",
		body: []byte(`{"level":0}`), want: 409, validRequest: true})
	post(enter, alice.Access, `{"level":99}`, 400)
	post(enter, "", `{"level":0}`, 401)
	post(enter, bob.Access, tooLarge, 413)
	x.do(call{method: http.MethodPost, tpl: enter, path: enter, token: bob.Access, contentType: "text/plain", body: []byte("hi"), want: 415})
	get(status, status, bob.Access, 200)
	get(search, "/api/users/search/alice", bob.Access, 200) // a raid in progress: end_time null

	endPath := fmt.Sprintf("/api/raids/%d/end", e.Result.ID)
	patch := func(path, token, body string, want int) []byte {
		return x.do(jsonCall(http.MethodPatch, end, path, token, body, want))
	}
	patch(endPath, bob.Access, `{}`, 404)
	patch("/api/raids/999999/end", alice.Access, `{}`, 404)
	patch(endPath, alice.Access, `{"level":0}`, 400)
	patch(endPath, alice.Access, `{"level":`, 400)
	patch(endPath, "", `{}`, 401)
	patch(endPath, alice.Access, tooLarge, 413)
	x.do(call{method: http.MethodPatch, tpl: end, path: endPath, token: alice.Access, contentType: "text/plain", body: []byte("hi"), want: 415})
	patch(endPath, alice.Access, `{"level":1}`, 200)
	x.do(call{method: http.MethodPatch, tpl: end, path: endPath, token: alice.Access, want: 409}) // no body at all
	entered = post(enter, bob.Access, `{"level":0}`, 201)
	if err := json.Unmarshal(entered, &e); err != nil {
		t.Fatal(err)
	}
	// Move bob's raid an hour into the past: its deadline has passed.
	if _, err := st.DB.Exec(`UPDATE raids SET enter_time = enter_time - interval '1 hour',
		deadline = deadline - interval '1 hour' WHERE id = $1`, e.Result.ID); err != nil {
		t.Fatal(err)
	}
	x.do(jsonCall(http.MethodPatch, end, fmt.Sprintf("/api/raids/%d/end", e.Result.ID), bob.Access, `{}`, 409))
	get(status, status, bob.Access, 200)

	// The queue: refused on a free raid, joined while bob is inside, the turn held against
	// bob once his raid is over, then left.
	const queue = "/api/raids/queue"
	queueCall := func(method, token string, want int) []byte {
		return x.do(call{method: method, tpl: queue, path: queue, token: token, want: want, validRequest: want < 300})
	}
	queueCall(http.MethodPost, alice.Access, 409) // raid_free
	queueCall(http.MethodPost, "", 401)
	queueCall(http.MethodDelete, alice.Access, 404)
	queueCall(http.MethodDelete, "", 401)
	// The queue takes no body; one sent is read as any other.
	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		x.do(jsonCall(method, queue, queue, alice.Access, `{"level":0}`, 400))
		x.do(jsonCall(method, queue, queue, alice.Access, tooLarge, 413))
		x.do(call{method: method, tpl: queue, path: queue, token: alice.Access, contentType: "text/plain", body: []byte("hi"), want: 415})
	}
	entered = post(enter, bob.Access, `{"level":0}`, 201)
	if err := json.Unmarshal(entered, &e); err != nil {
		t.Fatal(err)
	}
	queueCall(http.MethodPost, alice.Access, 201)
	queueCall(http.MethodPost, alice.Access, 409) // already_queued
	get(status, status, alice.Access, 200)
	if _, err := st.DB.Exec(`UPDATE raids SET enter_time = enter_time - interval '1 hour',
		deadline = deadline - interval '1 hour' WHERE id = $1`, e.Result.ID); err != nil {
		t.Fatal(err)
	}
	get(status, status, bob.Access, 200) // reserved for alice
	x.do(call{method: http.MethodPost, tpl: enter, path: enter, token: bob.Access, contentType: "application/json",
		body: []byte(`{"level":0}`), want: 409, validRequest: true}) // raid_reserved
	queueCall(http.MethodDelete, alice.Access, 204)

	// Ranking: in it, and outside it.
	var r struct {
		MyRanking *json.RawMessage `json:"my_ranking"`
	}
	if err := json.Unmarshal(get(ranking, ranking, alice.Access, 200), &r); err != nil || r.MyRanking == nil {
		t.Errorf("alice is ranked, yet my_ranking is %v (%v)", r.MyRanking, err)
	}
	r.MyRanking = nil
	if err := json.Unmarshal(get(ranking, ranking, bob.Access, 200), &r); err != nil || r.MyRanking != nil {
		t.Errorf("bob scored nothing, yet my_ranking is %s (%v)", *r.MyRanking, err)
	}
	get(ranking, ranking, "", 401)

	// Histories: a success, a failure, paging and refusals.
	get(search, "/api/users/search/alice", bob.Access, 200)
	get(search, "/api/users/search/BOB?offset=0&limit=5", alice.Access, 200)
	get(search, "/api/users/search/bob?limit=0", alice.Access, 400)
	get(search, "/api/users/search/nobody", alice.Access, 404)
	get(search, "/api/users/search/alice", "", 401)

	// Sign-out: another player's token, too large, wrong type, then for real.
	post(signOut, alice.Access, fmt.Sprintf(`{"refresh":%q}`, bob.Refresh), 400)
	post(signOut, alice.Access, tooLarge, 413)
	x.do(call{method: http.MethodPost, tpl: signOut, path: signOut, token: alice.Access, contentType: "text/plain", body: []byte("hi"), want: 415})
	post(signOut, alice.Access, fmt.Sprintf(`{"refesh_token":%q}`, alice.Refresh), 200)
	post(signOut, alice.Access, fmt.Sprintf(`{"refresh":%q}`, alice.Refresh), 401)
	post(signOut, "", `{}`, 401)

	// Documentation and operator routes.
	get("/api/openapi.json", "/api/openapi.json", "", 200)
	page := string(get("/api/docs", "/api/docs", "", 200))
	for _, asset := range []string{"docs.js", "swagger-ui-bundle.js", "swagger-ui.css"} {
		get("/api/docs/{file}", "/api/docs/"+asset, "", 200)
		if !strings.Contains(page, "/api/docs/"+asset+"?v=") {
			t.Errorf("the documentation page does not load %s", asset)
		}
	}
	get("/api/docs/{file}", "/api/docs/secrets.txt", "", 404)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		get(path, path, "", 200)
		x.do(call{method: http.MethodHead, tpl: path, path: path, want: 200})
	}
	st.HTTP.ShutDown()
	get("/readyz", "/readyz", "", 503)
	x.do(call{method: http.MethodHead, tpl: "/readyz", path: "/readyz", want: 503})

	// 500 and 503 cannot be provoked through a healthy stack; validate what the error table
	// writes for them against every API operation.
	for path, item := range doc.Paths.Map() {
		if !isAPI(path) {
			continue
		}
		for method, op := range item.Operations() {
			for status, err := range map[int]error{
				500: fmt.Errorf("disk on fire"),
				503: fmt.Errorf("postgres: %w", ports.ErrUnavailable),
			} {
				if op.Responses.Status(status) == nil {
					continue
				}
				validateWritten(t, doc, method, path, status, err)
				x.answered[fmt.Sprintf("%s %s %d", method, path, status)] = true
			}
		}
	}

	// Every documented answer was seen at least once.
	var missing []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if !x.answered[method+" "+path+" "+status] {
					missing = append(missing, method+" "+path+" "+status)
				}
			}
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("documented but never answered in this test: %s", m)
	}
}

// validateWritten checks what problem.WriteJSON answers for err against the document.
func validateWritten(t *testing.T, doc *openapi3.T, method, tpl string, status int, err error) {
	t.Helper()
	req := httptest.NewRequest(method, tpl, nil)
	rec := httptest.NewRecorder()
	problem.WriteJSON(rec, req, discard(), err, nil)
	if rec.Code != status {
		t.Fatalf("%v was answered %d, want %d", err, rec.Code, status)
	}
	item := doc.Paths.Value(tpl)
	route := &routers.Route{Spec: doc, Path: tpl, PathItem: item, Method: method, Operation: item.GetOperation(method)}
	verr := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if verr != nil {
		t.Errorf("%s %s %d: the error table's answer does not match the document: %v", method, tpl, status, verr)
	}
}

type tokenPair struct {
	Access, Refresh string
}

func tokens(t *testing.T, body []byte) tokenPair {
	t.Helper()
	var p tokenPair
	if err := json.Unmarshal(body, &p); err != nil || p.Access == "" || p.Refresh == "" {
		t.Fatalf("no tokens in %s (%v)", body, err)
	}
	return p
}

// multipartSignUp signs up with a small PNG as the profile image.
func multipartSignUp(t *testing.T, email, nickname string) call {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range map[string]string{"email": email, "nickname": nickname, "password": "Passw0rd!", "phone": "+82-10-1234-5678"} {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	part, err := w.CreateFormFile("profile_image", "me.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(part, img); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return call{method: http.MethodPost, tpl: "/api/users/signup", path: "/api/users/signup",
		contentType: w.FormDataContentType(), body: body.Bytes(), want: 201, validRequest: true}
}

func TestDocumentationPageIsServedUnderAStrictPolicy(t *testing.T) {
	if missing := apidocs.VendorMissing(); len(missing) > 0 {
		t.Fatalf("Swagger UI files %v were not copied into static/vendor: run `make assets`", missing)
	}
	srv := httptest.NewServer(router(apidocs.New(nil)))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/api/docs")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "default-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy %q allows unsafe sources", csp)
	}
	// No inline script or style: every <script> has a src, and there is no <style> or style="".
	html := string(page)
	if strings.Count(html, "<script") != strings.Count(html, "<script src=") || strings.Contains(html, "<style") || strings.Contains(html, "style=") {
		t.Errorf("the page has inline script or style:\n%s", html)
	}

	// Versioned files are cached for ever; a stale version is revalidated.
	resp, err = http.Get(srv.URL + "/api/docs/docs.js")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("unversioned docs.js: Cache-Control %q, want no-cache", cc)
	}
	start := strings.Index(html, "/api/docs/swagger-ui-bundle.js?v=")
	bundleURL := html[start : start+strings.IndexByte(html[start:], '"')]
	resp, err = http.Get(srv.URL + bundleURL)
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("versioned bundle: Cache-Control %q, want immutable", cc)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") || !bytes.Contains(bundle, []byte("SwaggerUIBundle")) {
		t.Errorf("bundle: Content-Type %q, %d bytes", ct, len(bundle))
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+bundleURL, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating the bundle: %d, want 304", resp.StatusCode)
	}

	// The document itself is JSON anyone may fetch.
	resp, err = http.Get(srv.URL + apidocs.SpecPath)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !bytes.Equal(spec, apidocs.Document()) || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET %s: %d bytes, CORS %q", apidocs.SpecPath, len(spec), resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// Without a JSON API subrouter the routes go straight on the root router.
func TestRegisterWithoutTheAPI(t *testing.T) {
	r := mux.NewRouter()
	apidocs.New(nil).Register(r)
	for _, path := range []string{apidocs.SpecPath, apidocs.DocsPath} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
	}
}

// router is the JSON API's router with the documentation added as the server adds it.
func router(d *apidocs.Docs) *mux.Router {
	r := mux.NewRouter()
	api.New(nil, nil, discard()).Register(r)
	d.Register(r)
	return r
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
