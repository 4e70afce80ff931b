package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"confd/bridge"
)

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPageAndAssets(t *testing.T) {
	h := Handler()
	page := get(t, h, "GET", "/", nil)
	if page.Code != 200 || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", page.Code, page.Header().Get("Content-Type"))
	}
	body := page.Body.String()
	for _, want := range []string{`id="room"`, `id="join"`, `id="mute"`, `id="leave"`, `id="mic"`, `id="people"`, `role="alert"`, `role="status"`,
		// The moderator view (#moderate): a room and token, room-wide controls, the list.
		`id="moderate-section"`, `href="#moderate"`, `id="mod-room"`, `id="mod-token"`, `id="mod-watch"`, `id="mod-mute-all"`,
		`id="mod-record" type="button" aria-pressed="false"`, `id="mod-people"`, `id="mod-alert" class="alert" role="alert"`, `id="mod-status" role="status"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if got := get(t, h, "GET", "/index.html", nil); got.Code != 200 || got.Body.String() != body {
		t.Errorf("/index.html = %d, want the page", got.Code)
	}

	// Every asset the page names, and every module the scripts import, is served with its type.
	refs := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) < 2 {
		t.Fatalf("page names %d assets, want its script and style sheet", len(refs))
	}
	seen := map[string]bool{}
	var queue []string
	for _, m := range refs {
		queue = append(queue, m[1])
	}
	imports := regexp.MustCompile(`(?:from|import\()\s*"\./([^"]+)"`)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		rec := get(t, h, "GET", p, nil)
		if rec.Code != 200 {
			t.Errorf("GET %s = %d", p, rec.Code)
			continue
		}
		ct := rec.Header().Get("Content-Type")
		switch {
		case strings.HasSuffix(p, ".js") && !strings.HasPrefix(ct, "text/javascript"):
			t.Errorf("%s served as %q, want text/javascript (browsers refuse modules otherwise)", p, ct)
		case strings.HasSuffix(p, ".css") && !strings.HasPrefix(ct, "text/css"):
			t.Errorf("%s served as %q", p, ct)
		}
		if strings.HasSuffix(p, ".js") && p != "/static/sipjs.js" {
			for _, m := range imports.FindAllStringSubmatch(rec.Body.String(), -1) {
				queue = append(queue, "/static/"+m[1])
			}
		}
	}
	for _, p := range []string{"/static/app.js", "/static/whip.js", "/static/sipws.js", "/static/sipjs.js", "/static/events.js", "/static/roster.js", "/static/api.js", "/static/moderate.js"} {
		if !seen[p] {
			t.Errorf("%s is not reached from the page", p)
		}
	}
}

func TestConditionalAndRefusals(t *testing.T) {
	h := Handler()
	first := get(t, h, "GET", "/static/app.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, first.Header().Get("Cache-Control"))
	}
	if again := get(t, h, "GET", "/static/app.js", http.Header{"If-None-Match": {etag}}); again.Code != http.StatusNotModified {
		t.Errorf("revalidation = %d, want 304", again.Code)
	}
	if head := get(t, h, "HEAD", "/", nil); head.Code != 200 || head.Body.Len() != 0 {
		t.Errorf("HEAD / = %d with %d bytes", head.Code, head.Body.Len())
	}
	if post := get(t, h, "POST", "/", nil); post.Code != http.StatusMethodNotAllowed || post.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST / = %d Allow %q", post.Code, post.Header().Get("Allow"))
	}
	for _, p := range []string{"/nope", "/static/", "/static/index.html", "/static/../web.go", "/static/nope.js"} {
		if rec := get(t, h, "GET", p, nil); rec.Code != 404 {
			t.Errorf("GET %s = %d, want 404", p, rec.Code)
		}
	}
}

// TestFormControlsAreLabelled holds the page to WCAG 1.3.1/4.1.2: every input, select and
// button has a name a screen reader can read.
func TestFormControlsAreLabelled(t *testing.T) {
	body := get(t, Handler(), "GET", "/", nil).Body.String()
	labelled := map[string]bool{}
	for _, m := range regexp.MustCompile(`<label[^>]*\bfor="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
	}
	// A control inside its <label> is labelled by it.
	for _, m := range regexp.MustCompile(`(?s)<label[^>]*>[^<]*<input[^>]*\bid="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`<(input|select|meter)\b[^>]*>`).FindAllStringSubmatch(body, -1) {
		tag := m[0]
		if strings.Contains(tag, `type="radio"`) && strings.Contains(body, "<legend>") {
			continue // radios sit in their own <label> inside a fieldset with a legend
		}
		id := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(tag)
		if strings.Contains(tag, "aria-label=") || (id != nil && labelled[id[1]]) {
			continue
		}
		t.Errorf("control without a label: %s", tag)
	}
	if !strings.Contains(body, `<html lang="en">`) {
		t.Error("page has no language")
	}
}

// TestJavaScriptUnits runs the page modules' own tests (jstest/, node's test runner). Without
// node the test is skipped, unless CI is set, where it must run.
func TestJavaScriptUnits(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed but CI is set (run scripts/setup.sh test)")
		}
		t.Skip("node is not installed; run scripts/setup.sh test")
	}
	// Go's test cache knows only the files this process opens (static/ is embedded): reading the
	// node tests here makes a changed test run again rather than answer "(cached)".
	tests, err := os.ReadDir("jstest")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tests {
		if _, err := os.ReadFile(filepath.Join("jstest", e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(node, "--test", "--test-reporter=dot", "jstest/").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test jstest/: %v\n%s", err, out)
	}
}

// TestRosterNamesTheListedKinds: the page's list names exactly the participant kinds a room
// lists and announces (bridge.ListedKinds), none that never arrive.
func TestRosterNamesTheListedKinds(t *testing.T) {
	src, err := os.ReadFile("static/roster.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const kinds = \{([^}]*)\}`).FindSubmatch(src)
	if m == nil {
		t.Fatal("roster.js has no kinds")
	}
	var named []string
	for _, k := range regexp.MustCompile(`(\w+):`).FindAllSubmatch(m[1], -1) {
		named = append(named, string(k[1]))
	}
	slices.Sort(named)
	if want := slices.Sorted(slices.Values(bridge.ListedKinds)); !slices.Equal(named, want) {
		t.Errorf("roster.js names kinds %v, the bridge lists %v", named, want)
	}
}
