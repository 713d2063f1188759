package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// fakeRegistry serves the country package as the npm registry does: the
// latest version's metadata and its tarball, with the integrity given.
func fakeRegistry(t *testing.T, mmdb []byte, integrity func(sum string) string) *httptest.Server {
	t.Helper()
	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	for name, data := range map[string][]byte{"package/README.md": []byte("readme"), geoFile: mmdb} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	sum := sha512.Sum512(tgz.Bytes())
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/"+geoPackage+"/latest", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"version":"2.3.1","dist":{"tarball":"%s/x.tgz","integrity":"%s"}}`, srv.URL,
			integrity(base64.StdEncoding.EncodeToString(sum[:])))
	})
	mux.HandleFunc("/x.tgz", func(w http.ResponseWriter, r *http.Request) { w.Write(tgz.Bytes()) })
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func countryCodeMMDB(t *testing.T) []byte {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "geo-whois-asn-country", RecordSize: 24, IPVersion: 6})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("81.2.69.0/24")
	tree.Insert(n, mmdbtype.Map{"country_code": mmdbtype.String("GB")})
	var b bytes.Buffer
	if _, err := tree.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFetchGeoIP(t *testing.T) {
	out := filepath.Join(t.TempDir(), "country.mmdb")
	ok := fakeRegistry(t, countryCodeMMDB(t), func(sum string) string { return "sha512-" + sum })
	var stdout, stderr bytes.Buffer
	if code := cmdFetchGeoIP([]string{"--registry", ok.URL, "--out", out}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "--geoip "+out) || !strings.Contains(stdout.String(), "CC BY 4.0") {
		t.Errorf("stdout: %s", stdout.String())
	}
	if fi, err := os.Stat(out); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o644 {
		t.Errorf("%s: mode %v; want 0644 (a service user reads it)", out, fi.Mode().Perm())
	}
	// The file works as --geoip.
	var events, errb bytes.Buffer
	code := cmdAnonymize([]string{"--geoip", out, "--quiet", "--events-k", "1"}, strings.NewReader(`81.2.69.5 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "-"`+"\n"), &events, &errb)
	if code != exitOK || !strings.Contains(events.String(), `"country":"GB"`) {
		t.Fatalf("anonymize with the fetched file: exit %d %s %s", code, events.String(), errb.String())
	}

	// A tarball that does not match the registry's integrity is refused and
	// nothing is written.
	out2 := filepath.Join(t.TempDir(), "country.mmdb")
	bad := fakeRegistry(t, countryCodeMMDB(t), func(string) string { return "sha512-" + strings.Repeat("A", 86) + "==" })
	stderr.Reset()
	if code := cmdFetchGeoIP([]string{"--registry", bad.URL, "--out", out2}, &stdout, &stderr); code != exitIO ||
		!strings.Contains(stderr.String(), "does not match the registry's integrity") {
		t.Fatalf("tampered tarball: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("a file was written from a tarball that failed its check")
	}
	// A file that is not a country database is removed.
	junk := fakeRegistry(t, []byte("not a database"), func(sum string) string { return "sha512-" + sum })
	stderr.Reset()
	if code := cmdFetchGeoIP([]string{"--registry", junk.URL, "--out", out2}, &stdout, &stderr); code != exitIO {
		t.Fatalf("junk database: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("a junk database was left behind")
	}
}

// TestDamagedDatabaseExit2: anonymize, aggregate and run refuse a damaged
// country database (junk before it) with exit 2, naming the file, before
// reading a line or connecting to a broker.
func TestDamagedDatabaseExit2(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "country.mmdb")
	os.WriteFile(bad, append([]byte("junk in front of the file\n"), countryCodeMMDB(t)...), 0o644)
	for _, c := range []struct {
		cmd  string
		args []string
	}{
		{"anonymize", []string{"--geoip", bad}},
		{"aggregate", []string{"--geoip", bad}},
		{"run", []string{"--geoip", bad, "--brokers", "127.0.0.1:1"}},
	} {
		code, _, stderr := runCmd(c.cmd, c.args...)
		if code != exitConfig || !strings.Contains(stderr, "damaged") || !strings.Contains(stderr, bad) {
			t.Errorf("%s: exit %d, %q", c.cmd, code, stderr)
		}
	}
}
