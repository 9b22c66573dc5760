package portstest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// ImageHarness is an empty player store and the image store that serves its avatars.
type ImageHarness struct {
	Users  ports.UserStore
	Images ports.ImageStore
}

// RunImageStore checks a ports.ImageStore fed by ports.UserStore.CreateUser.
func RunImageStore(t *testing.T, newHarness func(t *testing.T) ImageHarness) {
	ctx := context.Background()

	t.Run("an avatar saved at sign-up is served under the player's key", func(t *testing.T) {
		h := newHarness(t)
		png := []byte("\x89PNG\r\n\x1a\n fake but opaque bytes \x00\xff")
		a, err := h.Users.CreateUser(ctx, users.NewUser{
			Email: "a@example.com", Nickname: "Alpha", PasswordHash: "h",
			ProfileImage: &users.ProfileImage{ContentType: "image/png", Data: png},
		})
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		b, err := h.Users.CreateUser(ctx, users.NewUser{
			Email: "b@example.com", Nickname: "Beta", PasswordHash: "h",
			ProfileImage: &users.ProfileImage{ContentType: "image/webp", Data: []byte("RIFF....WEBP")},
		})
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if a.ProfileImage == "" || b.ProfileImage == "" || a.ProfileImage == b.ProfileImage {
			t.Fatalf("image keys %q and %q: want two different keys", a.ProfileImage, b.ProfileImage)
		}
		if got, _ := h.Users.UserByID(ctx, a.ID); got.ProfileImage != a.ProfileImage {
			t.Fatalf("UserByID key %q, CreateUser key %q", got.ProfileImage, a.ProfileImage)
		}
		img, err := h.Images.ProfileImage(ctx, a.ProfileImage)
		if err != nil {
			t.Fatalf("ProfileImage: %v", err)
		}
		if img.ContentType != "image/png" || !bytes.Equal(img.Data, png) {
			t.Fatalf("ProfileImage = %q, %q", img.ContentType, img.Data)
		}
		img.Data[0] = 0 // the caller's copy is its own
		if again, _ := h.Images.ProfileImage(ctx, a.ProfileImage); !bytes.Equal(again.Data, png) {
			t.Fatal("changing a served image changed the stored one")
		}
		if img, _ := h.Images.ProfileImage(ctx, b.ProfileImage); img.ContentType != "image/webp" {
			t.Fatalf("second image content type %q", img.ContentType)
		}
	})

	t.Run("an unknown key is no image", func(t *testing.T) {
		h := newHarness(t)
		NewPlayer(t, h.Users, "Plain")
		for _, key := range []string{"", "0123456789abcdef0123456789abcdef", "../etc/passwd"} {
			if _, err := h.Images.ProfileImage(ctx, key); !errors.Is(err, ports.ErrImageNotFound) {
				t.Fatalf("ProfileImage(%q): got %v, want ErrImageNotFound", key, err)
			}
		}
	})
}
