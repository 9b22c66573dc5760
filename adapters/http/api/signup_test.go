package api_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/http/api"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/internal/testenv"
)

func signUpJSON(e *env, body any) response {
	e.t.Helper()
	return e.postJSON("/api/users/signup", "", body)
}

// upload is one file part of a multipart form.
type upload struct {
	Filename    string
	ContentType string
	Data        []byte
}

// multipartBody builds a multipart/form-data body from fields and an optional profile_image.
func multipartBody(t testing.TB, fields map[string]string, file *upload) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="profile_image"; filename=%q`, file.Filename))
		if file.ContentType != "" {
			h.Set("Content-Type", file.ContentType)
		}
		part, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := part.Write(file.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func signUpMultipart(e *env, fields map[string]string, file *upload) response {
	e.t.Helper()
	ct, body := multipartBody(e.t, fields, file)
	return e.must(request{Method: http.MethodPost, Path: "/api/users/signup", ContentType: ct, Body: body})
}

// pngImage draws a w×h PNG; noisy pixels make it as large as its pixels (no compression gain).
func pngImage(t testing.TB, w, h int, noisy bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 7), uint8(y * 13), 200, 255}
			if noisy {
				c = color.NRGBA{uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32()), 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegImage(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 3), 100, uint8(y * 5), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func countRows(t testing.TB, e *env, table string) int {
	t.Helper()
	var n int
	if err := e.st.DB.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkUser verifies a signup answer and returns its id.
func checkUser(t testing.TB, m map[string]any, email, nickname string, phone any) int64 {
	t.Helper()
	requireKeys(t, m, "id", "email", "nickname", "phone", "profile_image_url", "created_at")
	uid := id(t, m["id"])
	if m["email"] != email || m["nickname"] != nickname {
		t.Fatalf("email/nickname: got %v %v, want %v %v", m["email"], m["nickname"], email, nickname)
	}
	if m["phone"] != phone {
		t.Fatalf("phone: got %#v, want %#v", m["phone"], phone)
	}
	created := timestamp(t, m["created_at"])
	if d := time.Since(created); d < -time.Minute || d > time.Minute {
		t.Fatalf("created_at %v is not now", created)
	}
	return uid
}

func TestSignUpJSON(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})

	t.Run("without phone: phone and image null, email lower-cased", func(t *testing.T) {
		e := e.sub(t)
		r := signUpJSON(e, map[string]string{"email": "  Knight@Example.COM ", "nickname": "Knight", "password": "Knight_pass1!"})
		m := e.expect(r, http.StatusCreated)
		uid := checkUser(t, m, "knight@example.com", "Knight", nil)
		if m["profile_image_url"] != nil {
			t.Fatalf("profile_image_url %v, want null", m["profile_image_url"])
		}
		// The new player can sign in with any case of the email.
		e.expect(e.postJSON("/api/users/signin", "", map[string]string{"email": "KNIGHT@example.com", "password": "Knight_pass1!"}), http.StatusOK)
		var hash string
		if err := e.st.DB.QueryRow(`SELECT password_hash FROM users WHERE id = $1`, uid).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, "Knight_pass1!") {
			t.Fatalf("password stored as %q, want an Argon2id hash", hash)
		}
	})

	t.Run("null phone", func(t *testing.T) {
		e := e.sub(t)
		m := e.expect(signUpJSON(e, map[string]any{"email": "nullphone@example.com", "nickname": "NullPhone", "password": "Knight_pass1!", "phone": nil}), http.StatusCreated)
		checkUser(t, m, "nullphone@example.com", "NullPhone", nil)
	})

	t.Run("with phone", func(t *testing.T) {
		e := e.sub(t)
		for i, phone := range []string{"+82-10-1234-5678", "01012345678", "123456789", "123456789012345"} {
			m := e.expect(signUpJSON(e, map[string]string{
				"email": fmt.Sprintf("phone%d@example.com", i), "nickname": fmt.Sprintf("phone%d", i),
				"password": "Knight_pass1!", "phone": phone,
			}), http.StatusCreated)
			checkUser(t, m, fmt.Sprintf("phone%d@example.com", i), fmt.Sprintf("phone%d", i), phone)
		}
	})

	t.Run("nicknames in any script", func(t *testing.T) {
		e := e.sub(t)
		for i, nick := range []string{"용사", "김철수_01", "勇者ヒーロー", "Герой-7", "Ἀχιλλεύς", "योद्धा", "نجم", "ab", "Abcdefghij_klmnopq-9", "영웅영웅영웅영웅영웅영웅영웅영웅영웅영웅"} {
			email := fmt.Sprintf("script%d@example.com", i)
			m := e.expect(signUpJSON(e, map[string]string{"email": email, "nickname": nick, "password": "Knight_pass1!"}), http.StatusCreated)
			checkUser(t, m, email, nick, nil)
		}
	})

	t.Run("email taken in another case", func(t *testing.T) {
		e := e.sub(t)
		e.expect(signUpJSON(e, map[string]string{"email": "Twin@Example.com", "nickname": "TwinOne", "password": "Knight_pass1!"}), http.StatusCreated)
		m := e.problem(signUpJSON(e, map[string]string{"email": "tWIN@example.COM", "nickname": "TwinTwo", "password": "Knight_pass1!"}), http.StatusConflict, "email_taken")
		if fe := fieldErrors(t, m); fe != nil {
			requireFields(t, m, "email")
		}
	})

	t.Run("nickname taken in another case", func(t *testing.T) {
		e := e.sub(t)
		for i, pair := range [][2]string{{"DragonSlayer", "dRAGONsLAYER"}, {"Герой", "гЕРОЙ"}, {"ΣΟΦΙΑ", "σοφια"}} {
			e.expect(signUpJSON(e, map[string]string{"email": fmt.Sprintf("first%d@example.com", i), "nickname": pair[0], "password": "Knight_pass1!"}), http.StatusCreated)
			m := e.problem(signUpJSON(e, map[string]string{"email": fmt.Sprintf("second%d@example.com", i), "nickname": pair[1], "password": "Knight_pass1!"}), http.StatusConflict, "nickname_taken")
			if fe := fieldErrors(t, m); fe != nil {
				requireFields(t, m, "nickname")
			}
		}
	})
}

// longEmail is a well-formed address of n characters (n ≥ 200): a 64-character local part and
// a domain of labels no longer than 63.
func longEmail(n int) string {
	domainLen := n - 65
	labels := []string{strings.Repeat("b", 63), strings.Repeat("c", 63), strings.Repeat("d", domainLen-63-63-2-4)}
	return strings.Repeat("a", 64) + "@" + strings.Join(labels, ".") + ".com"
}

func TestSignUpFieldErrors(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	valid := map[string]string{"email": "valid@example.com", "nickname": "Valid", "password": "Valid_pass1!", "phone": "010-1234-5678"}
	with := func(field, value string) map[string]string {
		m := map[string]string{}
		for k, v := range valid {
			m[k] = v
		}
		m[field] = value
		return m
	}
	cases := []struct {
		field, value string
	}{
		{"email", ""},
		{"email", "not-an-email"},
		{"email", "player@localhost"},
		{"email", "Player <player@example.com>"},
		{"email", "two@@example.com"},
		{"email", longEmail(255)},
		{"nickname", ""},
		{"nickname", "a"},
		{"nickname", strings.Repeat("n", 21)},
		{"nickname", "space name"},
		{"nickname", "bang!"},
		{"nickname", "dot.name"},
		{"nickname", "１２３"}, // full-width digits are not ASCII digits
		{"nickname", "emoji😀"},
		{"password", ""},
		{"password", "Sh0rt!"},
		{"password", "Toolongpassword1!xxxx"}, // 21 characters
		{"password", "nouppercase1!"},
		{"password", "NOLOWERCASE1!"},
		{"password", "NoDigitsHere!"},
		{"password", "NoSpecial123"},
		{"password", "Has space1!"},
		{"password", "Pässword1!"},
		{"password", "Semicolon1;"},
		{"phone", "12345678"},         // 8 digits
		{"phone", "1234567890123456"}, // 16 digits
		{"phone", "phone-number"},
		{"phone", "010--1234-5678"},
		{"phone", "-0101234567"},
		{"phone", "0101234567-"},
		{"phone", "010 1234 5678"},
		{"phone", "++821012345678"},
	}
	for _, tc := range cases {
		t.Run(tc.field+"="+tc.value, func(t *testing.T) {
			e := e.sub(t)
			m := e.problem(signUpJSON(e, with(tc.field, tc.value)), http.StatusBadRequest, "validation_failed")
			requireFields(t, m, tc.field)
			ct, body := multipartBody(t, with(tc.field, tc.value), nil)
			m = e.problem(e.must(request{Method: http.MethodPost, Path: "/api/users/signup", ContentType: ct, Body: body}), http.StatusBadRequest, "validation_failed")
			requireFields(t, m, tc.field)
		})
	}

	t.Run("all at once", func(t *testing.T) {
		e := e.sub(t)
		bad := map[string]string{"email": "nope", "nickname": "x", "password": "short", "phone": "12"}
		m := e.problem(signUpJSON(e, bad), http.StatusBadRequest, "validation_failed")
		requireFields(t, m, "email", "nickname", "password", "phone")
		m = e.problem(signUpMultipart(e, bad, &upload{Filename: "a.png", ContentType: "image/png", Data: []byte("not an image")}), http.StatusBadRequest, "validation_failed")
		requireFields(t, m, "email", "nickname", "password", "phone", "profile_image")
		m = e.problem(signUpJSON(e, map[string]any{}), http.StatusBadRequest, "validation_failed")
		requireFields(t, m, "email", "nickname", "password")
	})

	if n := countRows(t, e, "users"); n != 0 {
		t.Fatalf("%d users written by refused sign-ups", n)
	}
	// Every boundary that is allowed really is.
	e.expect(signUpJSON(e, valid), http.StatusCreated)
	e.expect(signUpJSON(e, map[string]string{"email": longEmail(254), "nickname": "Longest", "password": "Aa1!aaaa"}), http.StatusCreated)
	e.expect(signUpJSON(e, map[string]string{"email": "max@example.com", "nickname": "Max", "password": "Aa1!_()*&^%$#@bbbbbb"}), http.StatusCreated)
}

func TestSignUpMultipart(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	webp, err := os.ReadFile("testdata/avatar.webp")
	if err != nil {
		t.Fatal(err)
	}
	images := []struct {
		name        string
		file        upload
		contentType string // what it must be served as
	}{
		{"png", upload{"avatar.png", "image/png", pngImage(t, 32, 24, false)}, "image/png"},
		{"jpeg", upload{"avatar.jpg", "image/jpeg", jpegImage(t, 40, 30)}, "image/jpeg"},
		{"webp", upload{"avatar.webp", "image/webp", webp}, "image/webp"},
		// The type comes from decoding, not from the name or the claimed type.
		{"png named jpg", upload{"photo.jpg", "image/jpeg", pngImage(t, 8, 8, false)}, "image/png"},
		{"jpeg without a claimed type", upload{"blob", "", jpegImage(t, 8, 8)}, "image/jpeg"},
	}
	for i, tc := range images {
		t.Run(tc.name, func(t *testing.T) {
			e := e.sub(t)
			email, nick := fmt.Sprintf("avatar%d@example.com", i), fmt.Sprintf("아바타%d", i)
			m := e.expect(signUpMultipart(e, map[string]string{"email": email, "nickname": nick, "password": "Avatar_pass1!"}, &tc.file), http.StatusCreated)
			checkUser(t, m, email, nick, nil)
			imageURL := str(t, m["profile_image_url"])
			r := e.get(imageURL, "")
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s: %s", imageURL, r)
			}
			if ct := r.Header.Get("Content-Type"); ct != tc.contentType {
				t.Fatalf("served as %q, want %q", ct, tc.contentType)
			}
			if !bytes.Equal(r.Body, tc.file.Data) {
				t.Fatalf("served %d bytes, not the %d uploaded", len(r.Body), len(tc.file.Data))
			}
		})
	}

	t.Run("no file, with phone", func(t *testing.T) {
		e := e.sub(t)
		m := e.expect(signUpMultipart(e, map[string]string{"email": "plain@example.com", "nickname": "Plain", "password": "Avatar_pass1!", "phone": "+1-202-555-0143"}, nil), http.StatusCreated)
		checkUser(t, m, "plain@example.com", "Plain", "+1-202-555-0143")
		if m["profile_image_url"] != nil {
			t.Fatalf("profile_image_url %v without an upload", m["profile_image_url"])
		}
	})

	t.Run("empty file input is no image", func(t *testing.T) {
		e := e.sub(t)
		m := e.expect(signUpMultipart(e, map[string]string{"email": "empty@example.com", "nickname": "EmptyFile", "password": "Avatar_pass1!"}, &upload{"", "application/octet-stream", nil}), http.StatusCreated)
		if m["profile_image_url"] != nil {
			t.Fatalf("profile_image_url %v for an empty file", m["profile_image_url"])
		}
	})

	users, images0 := countRows(t, e, "users"), countRows(t, e, "profile_images")
	big := pngImage(t, 640, 640, true)
	if len(big) <= 1<<20 || len(big) >= api.MaxMultipartBody-4096 {
		t.Fatalf("test image is %d bytes; want between 1 MiB and 2 MiB", len(big))
	}
	refused := []struct {
		name string
		file upload
	}{
		{"text named png", upload{"avatar.png", "image/png", []byte("this is not an image at all")}},
		{"gif", upload{"avatar.gif", "image/gif", []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")}},
		{"truncated png", upload{"avatar.png", "image/png", pngImage(t, 64, 64, true)[:500]}},
		{"png header only", upload{"avatar.png", "image/png", []byte("\x89PNG\r\n\x1a\n")}},
		{"over 1 MiB", upload{"big.png", "image/png", big}},
		{"wider than an avatar may be", upload{"wide.png", "image/png", pngImage(t, 2049, 1, false)}},
	}
	for i, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			e := e.sub(t)
			email := fmt.Sprintf("refused%d@example.com", i)
			m := e.problem(signUpMultipart(e, map[string]string{"email": email, "nickname": fmt.Sprintf("Refused%d", i), "password": "Avatar_pass1!"}, &tc.file), http.StatusBadRequest, "validation_failed")
			requireFields(t, m, "profile_image")
			// Nothing was written: the same sign-up without the image succeeds.
			e.problem(e.postJSON("/api/users/signin", "", map[string]string{"email": email, "password": "Avatar_pass1!"}), http.StatusUnauthorized, "invalid_credentials")
		})
	}

	if u, im := countRows(t, e, "users"), countRows(t, e, "profile_images"); u != users || im != images0 {
		t.Fatalf("refused sign-ups wrote rows: users %d→%d, images %d→%d", users, u, images0, im)
	}
	e.expect(signUpJSON(e, map[string]string{"email": "refused0@example.com", "nickname": "Refused0", "password": "Avatar_pass1!"}), http.StatusCreated)

	t.Run("multipart over 2 MiB", func(t *testing.T) {
		e := e.sub(t)
		file := upload{"huge.png", "image/png", append(pngImage(t, 8, 8, false), bytes.Repeat([]byte{0}, api.MaxMultipartBody)...)}
		e.problem(signUpMultipart(e, map[string]string{"email": "huge@example.com", "nickname": "Huge", "password": "Avatar_pass1!"}, &file), http.StatusRequestEntityTooLarge, "payload_too_large")
		if n := countRows(t, e, "users WHERE email = 'huge@example.com'"); n != 0 {
			t.Fatal("a refused sign-up was written")
		}
	})
}

func TestSignUpRequestErrors(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	good := `{"email":"json@example.com","nickname":"Json","password":"Json_pass1!"}`
	cases := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
		field       string // the field errors.* must name, if any
	}{
		{"no content type", "", good, 415, "unsupported_media_type", ""},
		{"text/plain", "text/plain", good, 415, "unsupported_media_type", ""},
		{"form-urlencoded", "application/x-www-form-urlencoded", "email=a%40b.com&nickname=ab&password=Json_pass1!", 415, "unsupported_media_type", ""},
		{"empty body", "application/json", "", 400, "invalid_json", ""},
		{"malformed", "application/json", `{"email": "json@example.com",`, 400, "invalid_json", ""},
		{"not an object", "application/json", `["json@example.com"]`, 400, "invalid_json", ""},
		{"a string", "application/json", `"hello"`, 400, "invalid_json", ""},
		{"trailing garbage", "application/json", good + `garbage`, 400, "invalid_json", ""},
		{"two objects", "application/json", good + good, 400, "invalid_json", ""},
		{"duplicate keys", "application/json", `{"email":"json@example.com","email":"other@example.com","nickname":"Json","password":"Json_pass1!"}`, 400, "invalid_json", ""},
		{"invalid UTF-8", "application/json", "{\"email\":\"json@example.com\",\"nickname\":\"J\xffson\",\"password\":\"Json_pass1!\"}", 400, "invalid_json", ""},
		{"number email", "application/json", `{"email":5,"nickname":"Json","password":"Json_pass1!"}`, 400, "validation_failed", "email"},
		{"object nickname", "application/json", `{"email":"json@example.com","nickname":{},"password":"Json_pass1!"}`, 400, "validation_failed", "nickname"},
		{"array password", "application/json", `{"email":"json@example.com","nickname":"Json","password":["x"]}`, 400, "validation_failed", "password"},
		{"bool phone", "application/json", `{"email":"json@example.com","nickname":"Json","password":"Json_pass1!","phone":true}`, 400, "validation_failed", "phone"},
		{"unknown field", "application/json", `{"email":"json@example.com","nickname":"Json","password":"Json_pass1!","admin":true}`, 400, "validation_failed", "admin"},
		{"field in another case", "application/json", `{"Email":"json@example.com","nickname":"Json","password":"Json_pass1!"}`, 400, "validation_failed", "Email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := e.sub(t)
			r := e.must(request{Method: http.MethodPost, Path: "/api/users/signup", ContentType: tc.contentType, Body: []byte(tc.body)})
			m := e.problem(r, tc.status, tc.code)
			if tc.field != "" {
				requireFields(t, m, tc.field)
			}
		})
	}

	t.Run("JSON over 64 KiB", func(t *testing.T) {
		e := e.sub(t)
		body := fmt.Sprintf(`{"email":"json@example.com","nickname":"Json","password":"Json_pass1!","phone":"%s"}`, strings.Repeat("1", api.MaxJSONBody))
		e.problem(e.postJSON("/api/users/signup", "", body), http.StatusRequestEntityTooLarge, "payload_too_large")
		// Whitespace counts too: the limit is on bytes, not on meaning.
		padded := good[:len(good)-1] + strings.Repeat(" ", api.MaxJSONBody) + "}"
		e.problem(e.postJSON("/api/users/signup", "", padded), http.StatusRequestEntityTooLarge, "payload_too_large")
	})

	t.Run("JSON just under 64 KiB is read", func(t *testing.T) {
		e := e.sub(t)
		padded := good[:len(good)-1] + strings.Repeat(" ", api.MaxJSONBody-len(good)) + "}"
		if len(padded) != api.MaxJSONBody {
			t.Fatalf("body is %d bytes", len(padded))
		}
		e.expect(e.postJSON("/api/users/signup", "", padded), http.StatusCreated)
	})

	t.Run("charset parameter is fine", func(t *testing.T) {
		e := e.sub(t)
		r := e.must(request{Method: http.MethodPost, Path: "/api/users/signup", ContentType: "application/json; charset=utf-8",
			Body: []byte(`{"email":"charset@example.com","nickname":"Charset","password":"Json_pass1!"}`)})
		e.expect(r, http.StatusCreated)
	})
}

// Simultaneous sign-ups for one email (or one nickname) in different cases: exactly one wins,
// the others get the 409 a client can act on, never a 500 from the unique index.
func TestSignUpRace(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	const n = 20
	for _, clash := range []string{"email", "nickname"} {
		t.Run(clash, func(t *testing.T) {
			e := e.sub(t)
			results := make([]response, n)
			var start, wg sync.WaitGroup
			start.Add(1)
			for i := range n {
				wg.Go(func() {
					email, nick := fmt.Sprintf("racer%d-%s@example.com", i, clash), fmt.Sprintf("Racer%d%s", i, clash)
					if clash == "email" {
						email = "same@example.com"
						if i%2 == 1 {
							email = strings.ToUpper(email)
						}
					} else {
						nick = "Clash"
						if i%2 == 1 {
							nick = "cLASH"
						}
					}
					start.Wait()
					r, err := e.do(request{Method: http.MethodPost, Path: "/api/users/signup", ContentType: "application/json",
						Body: jsonBytes(t, map[string]string{"email": email, "nickname": nick, "password": "Racer_pass1!"})})
					if err == nil {
						results[i] = r
					}
				})
			}
			start.Done()
			wg.Wait()
			if t.Failed() {
				t.FailNow()
			}
			created := 0
			for _, r := range results {
				if r.Status == http.StatusCreated {
					created++
					continue
				}
				e.problem(r, http.StatusConflict, clash+"_taken")
			}
			if created != 1 {
				t.Fatalf("%d of %d simultaneous sign-ups with one %s succeeded", created, n, clash)
			}
		})
	}
}

// Sign-ups are limited per client address whatever their outcome; beyond, 429 and nothing is stored.
func TestSignUpThrottleAddress(t *testing.T) {
	s := app.DefaultSettings()
	s.SignUpAddressLimit = 3
	e := newEnv(t, testenv.StackOptions{Settings: &s})
	form := func(n int) map[string]string {
		return map[string]string{"email": fmt.Sprintf("new%d@example.com", n), "nickname": fmt.Sprintf("New%d", n), "password": "Signup_pass1!"}
	}
	e.expect(signUpJSON(e, form(1)), http.StatusCreated)
	e.problem(signUpJSON(e, form(1)), http.StatusConflict, "email_taken") // counts too
	e.expect(signUpJSON(e, form(2)), http.StatusCreated)
	users := countRows(t, e, "users")
	if wait := retryAfter(e, signUpJSON(e, form(3))); wait > s.SignUpWindow || wait < s.SignUpWindow-time.Minute {
		t.Fatalf("Retry-After %v, want about the %v window", wait, s.SignUpWindow)
	}
	retryAfter(e, signUpMultipart(e, form(4), &upload{"a.png", "image/png", pngImage(t, 8, 8, false)}))
	if got := countRows(t, e, "users"); got != users {
		t.Fatalf("refused sign-ups stored players: %d → %d", users, got)
	}
}
