// Package static holds our stylesheet, script and pictures, embedded in the binary. Third-party
// scripts (htmx and its SSE extension) are copied into vendor/ from npm by `make assets` and are
// never committed; vendor/.gitkeep keeps the embed pattern valid on a fresh clone.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
)

//go:embed all:css all:img all:js all:vendor
var files embed.FS

// Vendored are the npm files the pages load; VendorMissing reports which are absent.
var Vendored = []string{"vendor/htmx.min.js", "vendor/sse.min.js", "vendor/noto-sans-kr/noto-sans-kr.css"}

// FS is every static file, named relative to this folder ("css/app.css").
func FS() fs.FS { return files }

// versions maps a file name to a short hash of its content, for cache-busting URLs.
var versions = func() map[string]string {
	v := map[string]string{}
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		v[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	return v
}()

// Prefix is where the files are served.
const Prefix = "/static/"

// Path is the URL of a static file, with its content hash so it can be cached for ever.
func Path(name string) string {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if v, ok := versions[name]; ok {
		return Prefix + name + "?v=" + v
	}
	return Prefix + name
}

// Version is the content hash Path puts in the URL of name, "" for an unknown file.
func Version(name string) string { return versions[name] }

// VendorMissing lists the vendored files that were not copied in (run `make assets`).
func VendorMissing() []string {
	var missing []string
	for _, name := range Vendored {
		if _, ok := versions[name]; !ok {
			missing = append(missing, name)
		}
	}
	return missing
}
