package transforms

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/logveil/logveil/internal/schematest"
	"github.com/logveil/logveil/schema"
)

// errorLines are error-log lines of both servers with identifiers planted
// in every part a client controls: the address (with its port), the
// request path and query, the referrer, the Host, user names and emails in
// the message.
var errorLines = []struct {
	server, line string
	want         []string // in the rewritten line
	json         map[string]any
}{
	{"apache", `[Sat Nov 28 10:12:31.123456 2026] [core:error] [pid 1234:tid 140234] [client 81.2.69.200:51234] AH00126: Invalid URI in request GET /users/jdoe?token=abc123secret HTTP/1.1, referer: https://shop.example.com/cart?mail=john.doe@example.com`,
		[]string{"[core:error]", "[pid 1234:tid 140234]", "[client 81.2.69.0]", "AH00126: Invalid URI in request GET /users/{name}", ", referer: https://example.com"},
		map[string]any{"server": "apache", "level": "error", "module": "core", "code": "AH00126", "client_network": "81.2.69.0/24", "country": "FR", "referrer_site": "https://example.com"}},
	{"apache", `[Sat Nov 28 10:12:32.000001 2026] [auth_basic:error] [pid 1235:tid 140235] [client 2a02:cf40::1234:51234] AH01618: user jdoe not found: /admin/secret`,
		[]string{"[client 2a02:cf40::]", "AH01618: user {w} not found: /admin/secret"},
		map[string]any{"client_network": "2a02:cf40::/32", "country": "NO", "message": "user {w} not found: /admin/secret"}},
	{"apache", `[Sat Nov 28 10:12:33.000001 2026] [php7:error] [pid 1236] [client 81.2.69.5:40000] PHP Fatal error:  Uncaught Exception: mail to john.doe@example.com failed for card 4111 1111 1111 1111, call 0151 2300 0245 in /home/jdoe/public_html/index.php:12`,
		[]string{"[client 81.2.69.0]", "PHP Fatal error:", "{email}", "{card}", "{phone}", "/home/{name}/public_html/index.php:12"},
		map[string]any{"module": "php7", "country": "GB"}},
	{"apache", `[Sat Nov 28 10:12:34.000001 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache configured -- resuming normal operations`,
		[]string{"[mpm_event:notice] [pid 1:tid 1] AH00489: Apache configured -- {w} {w} {w}"},
		map[string]any{"level": "notice", "code": "AH00489"}},
	{"nginx", `2026/11/28 10:12:31 [error] 1234#1234: *5678 open() "/usr/share/nginx/html/u/maximilian.kaczmarczyk.png" failed (2: No such file or directory), client: 81.2.69.200, server: example.com, request: "GET /u/maximilian.kaczmarczyk.png?sid=99 HTTP/1.1", host: "example.com", referrer: "https://www.google.com/search?q=jdoe"`,
		[]string{`2026/11/28 10:12:31 [error] 1234#1234: *5678 open() "/usr/share/nginx/html/u/{name}" failed (2: No such file or directory)`,
			", client: 81.2.69.0, server: example.com", `request: "GET /u/{name} HTTP/1.1"`, `host: "example.com"`, `referrer: "https://google.com"`},
		map[string]any{"server": "nginx", "level": "error", "client_network": "81.2.69.0/24", "country": "FR", "method": "GET", "path": "/u/{name}", "host": "example.com"}},
	{"nginx", `2026/11/28 10:12:35 [error] 1234#1234: *5679 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 2a02:cf40::99, server: api.example.com, request: "POST /api/otp/send/+1-415-550-2016 HTTP/2.0", upstream: "http://10.0.0.5:8080/api/otp/send/+1-415-550-2016", host: "api.example.com"`,
		[]string{"upstream timed out (110: Connection timed out) while reading response header from upstream", "client: 2a02:cf40::,", "/api/otp/send/{phone}", `upstream: "http://{ip}/api/otp/send/{phone}"`},
		map[string]any{"path": "/api/otp/send/{phone}", "country": "NO"}},
	{"nginx", `2026/11/28 10:12:36 [warn] 99#99: conflicting server name "jdoe-laptop.lan" on 192.168.7.23:80, ignored`,
		[]string{"[warn] 99#99: {w} server name", "{ip}"},
		map[string]any{"level": "warn"}},
}

// errorSecrets must appear in no output of errorLines.
var errorSecrets = []string{"81.2.69.200", "81.2.69.5", "2a02:cf40::1234", "2a02:cf40::99", "51234", "40000", "jdoe",
	"john.doe", "example.com/cart", "abc123secret", "4111", "0151", "2300", "415-550", "maximilian", "kaczmarczyk",
	"sid=99", "q=jdoe", "10.0.0.5", "192.168.7.23", "laptop", "Uncaught"}

func TestErrorLogs(t *testing.T) {
	for _, format := range []string{"auto", FormatApacheError, FormatNginxError} {
		a := newTestAnonymizer(t, Config{CountryDB: countryCodeDB(t), InputFormat: format})
		w := a.NewWorker()
		for _, c := range errorLines {
			err := w.Process([]byte(c.line))
			if format != "auto" && !strings.HasPrefix(format, c.server) {
				if err == ErrErrorLog {
					t.Errorf("%s: a %s line read as %s", format, c.server, w.Err.Server)
				}
				continue
			}
			if err != ErrErrorLog || w.Err.Server != c.server {
				t.Errorf("%s: %.60s: %v (%s)", format, c.line, err, w.Err.Server)
				continue
			}
			line := string(w.AppendErrorLine(nil))
			js := w.AppendErrorJSON(nil, nil)
			for _, want := range c.want {
				if !strings.Contains(line, want) {
					t.Errorf("%s: rewritten line lacks %q:\n%s", format, want, line)
				}
			}
			var m map[string]any
			if err := json.Unmarshal(js, &m); err != nil {
				t.Fatalf("invalid JSON %s: %v", js, err)
			}
			if m["type"] != "error" || m["schema_version"] != 1.0 {
				t.Errorf("JSON %s: not an error record of schema 1", js)
			}
			for k, v := range c.json {
				if m[k] != v {
					t.Errorf("%s: JSON %s = %v, want %v\n%s", format, k, m[k], v, js)
				}
			}
			for _, s := range errorSecrets {
				if strings.Contains(strings.ToLower(line), strings.ToLower(s)) || strings.Contains(strings.ToLower(string(js)), strings.ToLower(s)) {
					t.Errorf("%s: %q survives:\n%s\n%s", format, s, line, js)
				}
			}
		}
	}
}

// TestErrorLogNotAnAccess: an access line is no error line to a worker
// told to read error logs, and an error line is no access to one told to
// read Combined: each is rejected with a reason that says so.
func TestErrorLogNotAnAccess(t *testing.T) {
	w := newTestAnonymizer(t, Config{InputFormat: FormatNginxError}).NewWorker()
	if err := w.Process([]byte(combined("81.2.69.5", "/", "-", "-"))); err == nil || err == ErrErrorLog {
		t.Errorf("an access line read as an nginx error line: %v", err)
	}
	w = newTestAnonymizer(t, Config{InputFormat: "combined"}).NewWorker()
	if err := w.Process([]byte(errorLines[0].line)); err == nil || err == ErrErrorLog {
		t.Errorf("an error line read as Combined: %v", err)
	}
	if _, err := withDefaults(Config{InputFormat: "apache_error"}).Resolve(); err == nil {
		t.Error("input_format apache_error (a typo) accepted")
	}
}

// TestErrorRecordsMatchSchema: every error record validates against
// schema/error.v1.json, and every field there is produced by some line.
func TestErrorRecordsMatchSchema(t *testing.T) {
	sch := schematest.Compile(t, "error.v1.json", schema.ErrorV1)
	w := newTestAnonymizer(t, Config{CountryDB: geoip2CountryDB(t), ASNDB: asnDB(t)}).NewWorker()
	seen := map[string]bool{}
	lines := []string{`2026/11/28 10:12:31 [error] 7#7: *1 open() "/srv/x" failed, client: 81.2.69.5, server: shop.example, request: "GET /a?utm_source=news HTTP/1.1", upstream: "http://127.0.0.1:81/a", host: "shop.example", referrer: "https://google.com/"`}
	for _, c := range errorLines {
		lines = append(lines, c.line)
	}
	for i, l := range lines {
		if err := w.Process([]byte(l)); err != ErrErrorLog {
			t.Fatalf("Process(%.50q): %v", l, err)
		}
		var id []byte
		if i == 0 {
			id = []byte("raw-0-7") // as logveil run writes it
		}
		for k := range schematest.Validate(t, sch, w.AppendErrorJSON(nil, id)) {
			seen[k] = true
		}
	}
	for _, k := range schematest.Properties(schema.ErrorV1) {
		if !seen[k] {
			t.Errorf("schema field %q never produced", k)
		}
	}
}
