// Package media serves the players' uploaded profile images.
package media

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/ports"
)

const profileImagePrefix = "/media/profile-images/"

// ProfileImagePath is where the image stored under key is served; "" has no image.
func ProfileImagePath(key string) string {
	if key == "" {
		return ""
	}
	return profileImagePrefix + key
}

// Register serves profile images from store on r.
func Register(r *mux.Router, store ports.ImageStore, log *slog.Logger) {
	r.HandleFunc(profileImagePrefix+"{key:[0-9a-f]{1,64}}", func(w http.ResponseWriter, r *http.Request) {
		img, err := store.ProfileImage(r.Context(), mux.Vars(r)["key"])
		if errors.Is(err, ports.ErrImageNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			p := problem.From(err)
			problem.Log(r, log, p, err)
			p.SetRetryAfter(w.Header())
			http.Error(w, p.Detail, p.Status)
			return
		}
		h := w.Header()
		h.Set("Content-Type", img.ContentType)
		h.Set("Content-Length", strconv.Itoa(len(img.Data)))
		// Keys are random and images never change under a key.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		_, _ = w.Write(img.Data)
	}).Methods(http.MethodGet, http.MethodHead)
}
