package request

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/bossraid/bossraid/adapters/http/clientip"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
)

// ClientAddr is what per-address throttles count the client by: its IPv4 address, or its
// IPv6 /64 (the server's middleware has already put the forwarded address in RemoteAddr when
// it trusts a proxy).
func ClientAddr(r *http.Request) string { return clientip.Key(r) }

// Spaces says what SignUpForm does with the spaces around the email, nickname and phone.
type Spaces bool

const (
	// AsSent keeps every field as sent: the API's contract (SPEC.md §2).
	AsSent Spaces = false
	// Trimmed drops the spaces a browser's autofill or a paste leaves around them (the web's
	// form). The password is always taken as typed.
	Trimmed Spaces = true
)

// SignUpForm reads the sign-up fields of a form that ReadForm has read, and the profile image
// of a multipart one. On an unreadable image it returns the fields read so far with the error.
func SignUpForm(r *http.Request, spaces Spaces) (app.SignUpInput, error) {
	field := func(name string) string {
		v := r.PostForm.Get(name)
		if spaces == Trimmed {
			v = strings.TrimSpace(v)
		}
		return v
	}
	in := app.SignUpInput{SignUpForm: users.SignUpForm{
		Email:    field(users.FieldEmail),
		Nickname: field(users.FieldNickname),
		Password: r.PostForm.Get(users.FieldPassword),
		Phone:    field(users.FieldPhone),
	}}
	if r.MultipartForm == nil {
		return in, nil
	}
	image, err := ProfileImage(r)
	in.ProfileImage = image
	return in, err
}

// ProfileImage returns the uploaded profile_image file of a parsed multipart form, nil when
// none was sent. A file over the limit is returned whole up to one byte past it, so the use case
// reports it as too large.
func ProfileImage(r *http.Request) ([]byte, error) {
	f, _, err := r.FormFile(users.FieldProfileImage)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, app.Invalid(users.FieldProfileImage, "profile image could not be read")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, users.MaxProfileImageBytes+1))
	if err != nil {
		return nil, app.Invalid(users.FieldProfileImage, "profile image could not be read")
	}
	if len(data) == 0 {
		return nil, nil // an empty file input is "no image"
	}
	return data, nil
}
