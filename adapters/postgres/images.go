package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Images is the ports.ImageStore on profile_images.
type Images struct {
	db *sql.DB
}

// NewImages returns the profile image store on db.
func NewImages(db *sql.DB) *Images { return &Images{db: db} }

var _ ports.ImageStore = (*Images)(nil)

// ProfileImage returns the image under key, or ports.ErrImageNotFound.
func (s *Images) ProfileImage(ctx context.Context, key string) (users.ProfileImage, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var img users.ProfileImage
	err := s.db.QueryRowContext(ctx,
		`SELECT content_type, data FROM profile_images WHERE key = $1`, key,
	).Scan(&img.ContentType, &img.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return users.ProfileImage{}, ports.ErrImageNotFound
	}
	if err != nil {
		return users.ProfileImage{}, dbError("profile image", err)
	}
	return img, nil
}
