// Package apidocs serves the JSON API's OpenAPI document at /api/openapi.json and renders it
// with Swagger UI at /api/docs. The document is written by hand and tested against the routes
// and the real responses; Swagger UI comes from npm through static/vendor (`make assets`).
package apidocs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/static"
)

//go:embed openapi.json docs.html docs.js
var files embed.FS

// Where things are served.
const (
	SpecPath = "/api/openapi.json"
	DocsPath = "/api/docs"
)

// contentSecurityPolicy keeps the page to our own files: Swagger UI's script, its stylesheet
// (whose icons are data: URIs), our init script and fetches of the document and the API.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'"

// asset is one file the documentation page loads.
type asset struct {
	data        []byte
	contentType string
	version     string // short content hash; "" when the file was not built in
}

// Docs serves the document and the documentation page.
type Docs struct {
	spec     []byte
	specETag string
	page     []byte
	assets   map[string]asset // by the name under DocsPath
	log      *slog.Logger
}

// Document is the OpenAPI document as served.
func Document() []byte {
	b, err := files.ReadFile("openapi.json")
	if err != nil {
		panic("apidocs: openapi.json is not embedded: " + err.Error())
	}
	return b
}

// vendored maps the page's file names to the npm files `make assets` copies into static/vendor.
var vendored = map[string]string{
	"swagger-ui-bundle.js": "vendor/swagger-ui-bundle.js",
	"swagger-ui.css":       "vendor/swagger-ui.css",
}

// VendorMissing lists the Swagger UI files that were not copied in (run `make assets`).
func VendorMissing() []string {
	var missing []string
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css"} {
		if static.Version(vendored[name]) == "" {
			missing = append(missing, vendored[name])
		}
	}
	return missing
}

// New builds the handlers; log receives failures to serve (nil discards them).
func New(log *slog.Logger) *Docs {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	spec := Document()
	d := &Docs{spec: spec, specETag: `"` + shortHash(spec) + `"`, assets: map[string]asset{}, log: log}

	initJS, err := files.ReadFile("docs.js")
	if err != nil {
		panic("apidocs: docs.js is not embedded: " + err.Error())
	}
	d.assets["docs.js"] = asset{initJS, "text/javascript; charset=utf-8", shortHash(initJS)}
	for name, path := range vendored {
		data, err := fs.ReadFile(static.FS(), path)
		if err != nil {
			continue // not built in; the page says so
		}
		contentType := "text/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".css") {
			contentType = "text/css; charset=utf-8"
		}
		d.assets[name] = asset{data, contentType, static.Version(path)}
	}
	d.page = d.renderPage()
	return d
}

func (d *Docs) renderPage() []byte {
	tpl := template.Must(template.ParseFS(files, "docs.html"))
	url := func(name string) string { return DocsPath + "/" + name + "?v=" + d.assets[name].version }
	var buf bytes.Buffer
	err := tpl.Execute(&buf, map[string]any{
		"Ready":  len(VendorMissing()) == 0,
		"Spec":   SpecPath,
		"CSS":    url("swagger-ui.css"),
		"Bundle": url("swagger-ui-bundle.js"),
		"Init":   url("docs.js"),
	})
	if err != nil {
		panic("apidocs: render docs.html: " + err.Error())
	}
	return buf.Bytes()
}

// Register adds the routes to r, the server's root router. The JSON API owns /api through a
// subrouter that answers 404 to every path it does not know and is matched first, so the
// routes go on that subrouter when there is one.
func (d *Docs) Register(r *mux.Router) {
	sub, prefix := apiRouter(r)
	sub.HandleFunc(prefix+"/openapi.json", d.serveSpec).Methods(http.MethodGet)
	sub.HandleFunc(prefix+"/docs", d.servePage).Methods(http.MethodGet)
	sub.HandleFunc(prefix+"/docs/{file}", d.serveAsset).Methods(http.MethodGet)
}

var errFound = errors.New("found")

// apiRouter returns the router holding the /api routes and the path prefix still to add.
func apiRouter(root *mux.Router) (*mux.Router, string) {
	var api *mux.Router
	_ = root.Walk(func(route *mux.Route, router *mux.Router, _ []*mux.Route) error {
		if router == root {
			return nil
		}
		if tpl, err := route.GetPathTemplate(); err == nil && strings.HasPrefix(tpl, "/api/") {
			api = router
			return errFound
		}
		return nil
	})
	if api == nil {
		return root, "/api"
	}
	return api, ""
}

func (d *Docs) serveSpec(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", d.specETag)
	h.Set("X-Content-Type-Options", "nosniff")
	// The document is public; tools on other origins (editors, client generators) may read it.
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(w, r, "openapi.json", time.Time{}, bytes.NewReader(d.spec))
}

func (d *Docs) servePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(d.page)
}

func (d *Docs) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["file"]
	a, ok := d.assets[name]
	if !ok {
		problem.WriteJSON(w, r, d.log, fmt.Errorf("%w: %s is not a file of the documentation page", problem.ErrRouteNotFound, name), nil)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+a.version+`"`)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}

func shortHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}
