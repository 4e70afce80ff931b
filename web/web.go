package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy lets the page load only its own files and talk only to its own origin
// (fetch for WHIP and the API, WebSocket for SIP); media from getUserMedia and remote tracks
// needs no source list. It is a header rather than a meta tag so that every asset carries it.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self' ws: wss:; media-src 'self' blob: mediastream:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// asset is one embedded file, read once at start-up with its validator.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// site holds every asset by URL path.
type site struct {
	assets  map[string]asset
	modTime time.Time
}

// Handler returns the http.Handler of the web client. It answers GET and HEAD for "/" (the
// page) and "/static/NAME" (its scripts and style sheet), 404 for other paths and 405 for other
// methods. Responses carry a strong ETag (a hash of the content) and "Cache-Control: no-cache",
// so a browser revalidates and gets 304 until confd is rebuilt with a changed page.
func Handler() http.Handler {
	s, err := load(static)
	if err != nil {
		// The embedded tree is part of the binary: a failure here is a build defect.
		panic(fmt.Sprintf("web: embedded assets: %v", err))
	}
	return s
}

func load(fsys fs.FS) (*site, error) {
	s := &site{assets: make(map[string]asset)}
	err := fs.WalkDir(fsys, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = http.DetectContentType(body)
		}
		sum := sha256.Sum256(body)
		s.assets["/"+name] = asset{body: body, contentType: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, ok := s.assets["/static/index.html"]
	if !ok {
		return nil, fmt.Errorf("static/index.html is missing")
	}
	s.assets["/"] = page
	delete(s.assets, "/static/index.html") // one URL for the page
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[r.URL.Path]
	if !ok && r.URL.Path == "/index.html" {
		a, ok = s.assets["/"]
	}
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	// Microphone only, and only for this origin.
	h.Set("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
	http.ServeContent(w, r, "", s.modTime, bytes.NewReader(a.body))
}
