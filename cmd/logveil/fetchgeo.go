package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/logveil/logveil/transforms"
)

// The freely licensed country database logveil fetches: ip-location-db's
// geo-whois-asn-country (CC BY 4.0, from the RIRs' delegation files and
// ASN data), published as an npm package.
const (
	geoPackage = "@ip-location-db/geo-whois-asn-country-mmdb"
	geoFile    = "package/geo-whois-asn-country.mmdb"
	maxTarball = 256 << 20
)

// cmdFetchGeoIP downloads the country database from the npm registry,
// checks the tarball against the registry's SHA-512 integrity and the file
// by opening it as logveil would, and writes it to --out.
func cmdFetchGeoIP(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fetch-geoip", stderr, "logveil fetch-geoip [flags]",
		`Downloads a freely licensed country database (ip-location-db geo-whois-asn-country, CC BY 4.0:
attribute "ip-location-db" when you publish statistics from it) from the npm registry, checks it and
writes it to --out, for --geoip or anonymize.country_db. GeoLite2 users bring their own file.`,
		"logveil fetch-geoip --out geo-whois-asn-country.mmdb")
	out := fs.String("out", "geo-whois-asn-country.mmdb", "where to write the database")
	registry := fs.String("registry", "https://registry.npmjs.org", "npm registry")
	if code, ok := parseArgs(fs, args, 0); !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	version, err := fetchGeoIP(ctx, strings.TrimSuffix(*registry, "/"), *out)
	if err != nil {
		fmt.Fprintf(stderr, "logveil fetch-geoip: %v\n", err)
		return exitIO
	}
	db, err := transforms.OpenCountryDB(*out)
	if err != nil {
		os.Remove(*out)
		fmt.Fprintf(stderr, "logveil fetch-geoip: the downloaded file is not a country database: %v\n", err)
		return exitIO
	}
	kind := db.Type
	db.Close()
	fi, _ := os.Stat(*out)
	fmt.Fprintf(stdout, "wrote %s: %s %s (%s, %d MB); licence CC BY 4.0, attribute ip-location-db\nuse it with: --geoip %s\n",
		*out, geoPackage, version, kind, fi.Size()>>20, *out)
	return exitOK
}

func fetchGeoIP(ctx context.Context, registry, out string) (string, error) {
	get := func(url string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return resp, nil
	}
	resp, err := get(registry + "/" + geoPackage + "/latest")
	if err != nil {
		return "", err
	}
	var meta struct {
		Version string `json:"version"`
		Dist    struct {
			Tarball   string `json:"tarball"`
			Integrity string `json:"integrity"`
		} `json:"dist"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&meta)
	resp.Body.Close()
	if err != nil {
		return "", fmt.Errorf("registry answer for %s: %w", geoPackage, err)
	}
	want, ok := strings.CutPrefix(meta.Dist.Integrity, "sha512-")
	if !ok || meta.Dist.Tarball == "" {
		return "", fmt.Errorf("registry answer for %s has no tarball with a sha512 integrity", geoPackage)
	}
	if resp, err = get(meta.Dist.Tarball); err != nil {
		return "", err
	}
	defer resp.Body.Close()
	tgz, err := io.ReadAll(io.LimitReader(resp.Body, maxTarball+1))
	if err != nil {
		return "", fmt.Errorf("download %s: %w", meta.Dist.Tarball, err)
	}
	if len(tgz) > maxTarball {
		return "", fmt.Errorf("%s is larger than %d MiB", meta.Dist.Tarball, maxTarball>>20)
	}
	sum := sha512.Sum512(tgz)
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != want {
		return "", fmt.Errorf("%s: SHA-512 %s does not match the registry's integrity %s", meta.Dist.Tarball, got, want)
	}
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return "", fmt.Errorf("%s: %w", meta.Dist.Tarball, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s holds no %s", meta.Dist.Tarball, geoFile)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", meta.Dist.Tarball, err)
		}
		if h.Name != geoFile {
			continue
		}
		tmp, err := os.CreateTemp(filepath.Dir(out), ".geoip-*")
		if err != nil {
			return "", err
		}
		_, err = io.Copy(tmp, io.LimitReader(tr, maxTarball))
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			// Public data, read by whichever user the service runs as
			// (CreateTemp's 0600 would leave it to the downloader).
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), out)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return "", err
		}
		return meta.Version, nil
	}
}
