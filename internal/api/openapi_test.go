package api

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"confd/bridge"
)

// openAPIDoc is the part of an OpenAPI 3.1 document the test reads.
type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

// sourceFuncs are the functions and methods of the Go files of some packages, by name ("room",
// "Handler.room", "api.WriteError"), for following calls.
type sourceFuncs map[string]*ast.FuncDecl

// parseSources parses the non-test Go files of dir and records their functions under prefix.
func (s sourceFuncs) parseSources(t *testing.T, fset *token.FileSet, dir, prefix string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				s[prefix+fd.Name.Name] = fd
			}
		}
	}
	return files
}

// httpStatus are the net/http status constants the handlers use. A constant missing here fails
// the test, so that a new one is added rather than missed.
var httpStatus = map[string]int{
	"StatusOK": 200, "StatusCreated": 201, "StatusAccepted": 202, "StatusNoContent": 204,
	"StatusBadRequest": 400, "StatusUnauthorized": 401, "StatusForbidden": 403, "StatusNotFound": 404,
	"StatusMethodNotAllowed": 405, "StatusConflict": 409, "StatusRequestEntityTooLarge": 413,
	"StatusUnsupportedMediaType": 415, "StatusTooManyRequests": 429, "StatusInternalServerError": 500,
	"StatusServiceUnavailable": 503,
}

// statusOf returns the status an expression stands for, or 0 when it is not a constant.
func statusOf(t *testing.T, e ast.Expr) int {
	switch e := e.(type) {
	case *ast.BasicLit:
		n, _ := strconv.Atoi(e.Value)
		return n
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && x.Name == "http" && strings.HasPrefix(e.Sel.Name, "Status") {
			n, ok := httpStatus[e.Sel.Name]
			if !ok {
				t.Errorf("add http.%s to httpStatus", e.Sel.Name)
			}
			return n
		}
	}
	return 0
}

// statuses collects every status that fn's body can answer: the constant status argument of
// writeError, writeJSON, their exported forms and WriteHeader, constants assigned to a variable
// called status (writeBridgeError), and, transitively, those of every function of funcs it
// calls. pkg is the package fn is in ("" for api, "main." for cmd/confd).
func (s sourceFuncs) statuses(t *testing.T, body ast.Node, pkg string, seen map[string]bool, out map[int]bool) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if id, ok := n.Lhs[0].(*ast.Ident); ok && id.Name == "status" && len(n.Rhs) == 1 {
				if c := statusOf(t, n.Rhs[0]); c != 0 {
					out[c] = true
				}
			}
		case *ast.CallExpr:
			var name string
			switch f := n.Fun.(type) {
			case *ast.Ident:
				name = pkg + f.Name
			case *ast.SelectorExpr:
				if x, ok := f.X.(*ast.Ident); ok && x.Name == "api" {
					name = f.Sel.Name // api.WriteError from cmd/confd
				} else {
					name = pkg + f.Sel.Name // a method: h.room, d.recorder.Start (not found: skipped)
				}
			}
			base := name[strings.LastIndex(name, ".")+1:]
			switch base {
			case "writeError", "writeJSON", "WriteError", "WriteJSON":
				if len(n.Args) >= 2 {
					if c := statusOf(t, n.Args[1]); c != 0 {
						out[c] = true
					}
				}
			case "WriteHeader":
				if len(n.Args) == 1 {
					if c := statusOf(t, n.Args[0]); c != 0 {
						out[c] = true
					}
				}
			}
			if fd, ok := s[name]; ok && !seen[name] {
				seen[name] = true
				callee := ""
				if strings.HasPrefix(name, "main.") {
					callee = "main."
				}
				s.statuses(t, fd.Body, callee, seen, out)
			}
		}
		return true
	})
}

// registrations finds the route registrations in files: calls of route, handle, open or Handle
// with a string pattern and a handler, and returns pattern → handler expression.
func registrations(files []*ast.File) map[string]ast.Expr {
	out := map[string]ast.Expr{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			// h.route(...) in the API, a.Handle(...) in the daemon (not the daemon's own mux).
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !slices.Contains([]string{"route", "handle", "open", "Handle", "HandlePublic"}, sel.Sel.Name) {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || (x.Name != "h" && x.Name != "a") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			pattern, _ := strconv.Unquote(lit.Value)
			if method, path, ok := strings.Cut(pattern, " "); ok && strings.HasPrefix(path, "/") && method == strings.ToUpper(method) {
				out[pattern] = call.Args[1]
			}
			return true
		})
	}
	return out
}

// TestOpenAPICoversEveryRoute keeps /api/openapi.json true: every route the API serves (its own
// and those the daemon adds with Handle) must be in the document with every status its handler
// can answer, found by reading the handlers' source (the statuses they write, through every
// function they call), plus those of the authorisation in front of them; and the document may
// describe no route that is not served. Adding a route or a status without describing it fails.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	fset := token.NewFileSet()
	funcs := sourceFuncs{}
	apiFiles := funcs.parseSources(t, fset, ".", "")
	daemonFiles := funcs.parseSources(t, fset, "../../cmd/confd", "main.")
	routes := registrations(apiFiles)
	daemonRoutes := registrations(daemonFiles)
	for p, e := range daemonRoutes {
		routes[p] = e
	}

	// The registrations found in the source are the routes the handler serves.
	_, h, _, _ := setup(t, testToken)
	var served []string
	for _, p := range h.Routes() {
		served = append(served, p)
		if _, ok := routes[p]; !ok {
			t.Errorf("route %s is served but its registration was not found in the source", p)
		}
	}
	if len(served) < 15 || len(daemonRoutes) < 4 {
		t.Fatalf("found %d routes served, %d added by the daemon: the walk is broken", len(served), len(daemonRoutes))
	}

	described := map[string]bool{}
	for pattern, handler := range routes {
		method, path, _ := strings.Cut(pattern, " ")
		described[strings.ToLower(method)+" "+path] = true
		raw, ok := doc.Paths[path][strings.ToLower(method)]
		var op struct {
			Responses map[string]any
			Security  *[]any // [] on a route that needs no token
		}
		if !ok || json.Unmarshal(raw, &op) != nil {
			t.Errorf("%s is served but not in openapi.json", pattern)
			continue
		}
		pkg := ""
		if _, ok := daemonRoutes[pattern]; ok {
			pkg = "main."
		}
		can := map[int]bool{}
		funcs.statuses(t, handler, pkg, map[string]bool{}, can)
		var name string
		switch e := handler.(type) {
		case *ast.SelectorExpr:
			name = e.Sel.Name
		case *ast.Ident:
			name = e.Name
		}
		if name != "" {
			if fd, ok := funcs[pkg+name]; ok {
				funcs.statuses(t, fd.Body, pkg, map[string]bool{}, can)
			} else {
				t.Errorf("%s: handler %s not found", pattern, name)
			}
		}
		public := op.Security != nil && len(*op.Security) == 0
		if !strings.HasPrefix(path, "/healthz") && !strings.HasPrefix(path, "/readyz") && !public {
			can[http.StatusUnauthorized] = true // authorize
			if changesState(method) {
				can[http.StatusForbidden], can[http.StatusUnsupportedMediaType] = true, true
			}
		}
		if strings.Contains(path, "{room}") {
			can[http.StatusBadRequest] = true // roomNamed
		}
		if len(can) == 0 {
			t.Errorf("%s: no status found in its handler", pattern)
		}
		for c := range can {
			if _, ok := op.Responses[strconv.Itoa(c)]; !ok {
				t.Errorf("%s can answer %d, which openapi.json does not describe", pattern, c)
			}
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !described[method+" "+path] && method != "parameters" {
				t.Errorf("openapi.json describes %s %s, which is not served", strings.ToUpper(method), path)
			}
		}
	}
}

// TestOpenAPIServedWithoutToken: the description is public (it holds no secret) and is the
// embedded document.
func TestOpenAPIServedWithoutToken(t *testing.T) {
	_, h, _, _ := setup(t, testToken)
	code, m, _ := call(t, h, "GET", "/api/openapi.json", "", "", "Authorization", "")
	if code != 200 || m["openapi"] == nil {
		t.Fatalf("GET /api/openapi.json without a token: %d %v", code, m["openapi"])
	}
}

// TestOpenAPIKindsAreTheListedKinds: ParticipantState's kind enum is bridge.ListedKinds, the
// kinds GET and the events really show (confd's own recorders, players and forwarders never
// appear), and the play reply documents duration_seconds.
func TestOpenAPIKindsAreTheListedKinds(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas struct {
				ParticipantState struct {
					Properties struct {
						Kind struct {
							Enum []string `json:"enum"`
						} `json:"kind"`
					} `json:"properties"`
				} `json:"ParticipantState"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Components.Schemas.ParticipantState.Properties.Kind.Enum; !slices.Equal(got, bridge.ListedKinds) {
		t.Errorf("openapi.json's ParticipantState kinds %v, the bridge lists %v", got, bridge.ListedKinds)
	}
	var play struct {
		Responses map[string]struct {
			Content map[string]struct {
				Schema struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(doc.Paths["/api/rooms/{room}/play"]["post"], &play); err != nil {
		t.Fatal(err)
	}
	if _, ok := play.Responses["202"].Content["application/json"].Schema.Properties["duration_seconds"]; !ok {
		t.Error("openapi.json's play reply lacks duration_seconds")
	}
}

// TestOpenAPIListsEveryEventType: the Event schema's type enum is bridge.EventTypes, so a new
// event (forwarder_started, transfer…) is documented where clients look for it.
func TestOpenAPIListsEveryEventType(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Event struct {
					Properties struct {
						Type struct {
							Enum []string `json:"enum"`
						} `json:"type"`
					} `json:"properties"`
				} `json:"Event"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		t.Fatal(err)
	}
	got := doc.Components.Schemas.Event.Properties.Type.Enum
	for _, e := range bridge.EventTypes {
		if !slices.Contains(got, string(e)) {
			t.Errorf("openapi.json's Event type enum lacks %q", e)
		}
	}
	if len(got) != len(bridge.EventTypes) {
		t.Errorf("openapi.json lists %d event types, the bridge %d", len(got), len(bridge.EventTypes))
	}
}
