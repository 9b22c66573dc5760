// Package request holds what the handlers of every front door read a request with: the body limits.
//
// The limits bound what a request may make the server read: every body is capped by the
// server's middleware before any handler runs (multipart 2 MiB, everything else 64 KiB), and
// ReadForm is the one way the web and admin pages parse a form within those caps.
package request

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/core/app"
)

// Request body limits of SPEC.md §5, on every route.
const (
	MaxJSON      = 64 << 10 // JSON bodies
	MaxForm      = 64 << 10 // url-encoded forms, and any body that is not multipart
	MaxMultipart = 2 << 20  // multipart forms (the sign-up avatar)
)

// FieldForm names an error about the whole form rather than one of its fields.
const FieldForm = "form"

func isMultipart(r *http.Request) bool {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mediaType == "multipart/form-data"
}

// Limit returns the most a body of r may hold.
func Limit(r *http.Request) int64 {
	if isMultipart(r) {
		return MaxMultipart
	}
	return MaxForm
}

// Bodies caps every request body at Limit: reading past it fails with *http.MaxBytesError
// (and the connection is closed after the answer), so no handler can be made to read more.
func Bodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, Limit(r))
		}
		next.ServeHTTP(w, r)
	})
}

// TooLarge is the error for a body past its limit.
func TooLarge(r *http.Request) error {
	if isMultipart(r) {
		return fmt.Errorf("%w: multipart forms may be at most 2 MiB", problem.ErrPayloadTooLarge)
	}
	return fmt.Errorf("%w: forms may be at most 64 KiB", problem.ErrPayloadTooLarge)
}

// ReadForm parses the body of a form (url-encoded or multipart) into r.PostForm, and
// r.MultipartForm for multipart, entirely in memory: the body cap keeps it small. A body past
// its limit is problem.ErrPayloadTooLarge; an unreadable one a validation error on FieldForm.
// Safe methods have no form to read. The caller removes a multipart form's files (RemoveAll).
func ReadForm(r *http.Request) error {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	if r.ContentLength > Limit(r) {
		return TooLarge(r)
	}
	var err error
	if isMultipart(r) {
		// More memory than the capped body can fill, so no part ever goes to a temporary file.
		err = r.ParseMultipartForm(2 * MaxMultipart)
	} else {
		err = r.ParseForm()
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return TooLarge(r)
	}
	if err != nil {
		return app.Invalid(FieldForm, "The form could not be read. Please try again.")
	}
	return nil
}
