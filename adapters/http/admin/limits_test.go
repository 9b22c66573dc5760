package admin_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bossraid/bossraid/core/users"
)

// unsafeRoutes lists every route of the site taking a body (POST, PUT, PATCH, DELETE) with
// its path variables filled in, straight from the router so a new route cannot be missed.
func unsafeRoutes(t *testing.T, s *site, raidID string) [][2]string {
	t.Helper()
	vars := regexp.MustCompile(`\{([a-z]+)(:[^}]*)?\}`)
	var routes [][2]string
	for _, route := range s.HTTP.Routes() {
		if m := route.Method; m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions {
			continue
		}
		path := vars.ReplaceAllStringFunc(route.Template, func(v string) string {
			if strings.HasPrefix(v, "{id") {
				return raidID
			}
			return "someone"
		})
		routes = append(routes, [2]string{route.Method, path})
	}
	return routes
}

func multipartBody(t *testing.T, size int) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField(users.FieldEmail, "big@example.com")
	fw, err := mw.CreateFormFile(users.FieldProfileImage, "big.png")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(bytes.Repeat([]byte{'x'}, size))
	_ = mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// Every route with a body refuses one past its limit with 413: the error page on the site, the
// SPEC's error shape on the API. Forms are limited to 64 KiB, multipart to 2 MiB.
func TestEveryRouteRefusesOversizedBodiesWith413(t *testing.T) {
	s := newSite(t)
	boss := s.signUp("bigboss")
	s.setRole(boss, users.RoleAdmin)
	admin := s.signedIn(boss)
	token := apiToken(t, s, boss)

	form := "email=a%40b.example&password=x&level=1&next=%2F&pad=" + strings.Repeat("a", 6<<20)
	smallForm := "pad=" + strings.Repeat("a", 70<<10) // just past 64 KiB
	mpType, mp := multipartBody(t, 3<<20)
	jsonBody := `{"level":1,"pad":"` + strings.Repeat("a", 70<<10) + `"}`

	// A raid of the admin's own, so that ending it gets as far as its body (SPEC: 401, 404, then 400).
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/raids/enter", strings.NewReader(`{"level":0}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var entered struct{ Result struct{ ID int64 } }
	if err := json.NewDecoder(resp.Body).Decode(&entered); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("enter: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	routes := unsafeRoutes(t, s, strconv.FormatInt(entered.Result.ID, 10))
	if len(routes) < 10 {
		t.Fatalf("only %d routes with a body: %v", len(routes), routes)
	}
	for _, rt := range routes {
		api := strings.HasPrefix(rt[1], "/api/")
		bodies := []struct {
			name, contentType string
			body              []byte
		}{
			{"6 MiB form", "application/x-www-form-urlencoded", []byte(form)},
			{"70 KiB form", "application/x-www-form-urlencoded", []byte(smallForm)},
			{"3 MiB multipart", mpType, mp},
		}
		if api {
			bodies = []struct {
				name, contentType string
				body              []byte
			}{{"70 KiB JSON", "application/json", []byte(jsonBody)}}
			if rt[1] == "/api/users/signup" {
				bodies = append(bodies, struct {
					name, contentType string
					body              []byte
				}{"3 MiB multipart", mpType, mp})
			}
		}
		for _, b := range bodies {
			who := []string{"visitor", "admin"}
			if api {
				who = who[1:] // the API answers 401 to a visitor before it reads a body
			}
			for _, who := range who {
				req, err := http.NewRequest(rt[0], s.URL+rt[1], bytes.NewReader(b.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", b.contentType)
				req.Header.Set("Origin", s.URL)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				c := s.client()
				if who == "admin" {
					c = admin
					req.Header.Set("Authorization", "Bearer "+token)
				}
				res := c.do(req)
				if res.status() != http.StatusRequestEntityTooLarge {
					t.Errorf("%s %s, %s as %s: %d, want 413: %s", rt[0], rt[1], b.name, who, res.status(), short(res.body))
					continue
				}
				if api {
					var body struct{ Code string }
					if err := json.Unmarshal([]byte(res.body), &body); err != nil || body.Code != "payload_too_large" {
						t.Errorf("%s %s: body %q, want code payload_too_large", rt[0], rt[1], res.body)
					}
					continue
				}
				if !strings.HasPrefix(res.resp.Header.Get("Content-Type"), "text/html") || res.doc.Find(testid("error-page")).Length() != 1 {
					t.Errorf("%s %s, %s as %s: 413 is not the error page: %s", rt[0], rt[1], b.name, who, short(res.body))
				}
			}
		}
	}
}

// apiToken signs a in through the JSON API.
func apiToken(t *testing.T, s *site, a account) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": a.Email, "password": password})
	resp, err := http.Post(s.URL+"/api/users/signin", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Access string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Access == "" {
		t.Fatalf("sign in %s: %d %v", a.Nickname, resp.StatusCode, err)
	}
	return out.Access
}
