package request_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bossraid/bossraid/adapters/http/request"
)

// The web's form drops the spaces around email, nickname and phone; the API takes every field
// as sent (its validation then names them); neither touches the password.
func TestSignUpFormTrimsOnlyWhenAsked(t *testing.T) {
	form := url.Values{"email": {" a@example.com "}, "nickname": {" Hero\t"}, "password": {" Pass_w0rd! "}, "phone": {" 010-1234-5678 "}}
	for _, tc := range []struct {
		spaces                           request.Spaces
		email, nickname, password, phone string
	}{
		{request.Trimmed, "a@example.com", "Hero", " Pass_w0rd! ", "010-1234-5678"},
		{request.AsSent, " a@example.com ", " Hero\t", " Pass_w0rd! ", " 010-1234-5678 "},
	} {
		r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := request.ReadForm(r); err != nil {
			t.Fatal(err)
		}
		in, err := request.SignUpForm(r, tc.spaces)
		if err != nil {
			t.Fatal(err)
		}
		if in.Email != tc.email || in.Nickname != tc.nickname || in.Password != tc.password || in.Phone != tc.phone {
			t.Errorf("spaces %v: got %q %q %q %q", tc.spaces, in.Email, in.Nickname, in.Password, in.Phone)
		}
	}
}

// A multipart form brings the avatar; an empty file input is no avatar.
func TestSignUpFormReadsTheProfileImage(t *testing.T) {
	for _, data := range [][]byte{[]byte("not checked here"), nil} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("email", "a@example.com")
		fw, _ := mw.CreateFormFile("profile_image", "a.png")
		_, _ = fw.Write(data)
		_ = mw.Close()
		r := httptest.NewRequest(http.MethodPost, "/signup", &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		if err := request.ReadForm(r); err != nil {
			t.Fatal(err)
		}
		in, err := request.SignUpForm(r, request.AsSent)
		if err != nil || !bytes.Equal(in.ProfileImage, data) || in.Email != "a@example.com" {
			t.Errorf("image %q: got %q, %q, %v", data, in.ProfileImage, in.Email, err)
		}
		_ = r.MultipartForm.RemoveAll()
	}
}
