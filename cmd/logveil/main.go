// Command logveil anonymizes web-server access logs: as a pipe (anonymize)
// or as a Kafka stream processor.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	_ "time/tzdata" // stats.time_zone in a distroless image, which has no zoneinfo
)

const usage = `logveil anonymizes web-server access logs.

Usage:
  logveil demo [--lines N] [--duration D] [--port 9092]  # everything in-process, no broker to install
  logveil anonymize [flags] < access.log > events.jsonl
  logveil anonip [anonip's flags] < access.log > masked.log  # a drop-in for anonip: addresses only
  logveil run [--config logveil.yaml] [--brokers ...]   # the Kafka stream processor
  logveil check-config [FILE]                           # validate, print the effective config
  logveil aggregate [--window 1h,24h] [--output jsonl|html] < access.log   # page and time statistics of a file, k-anonymous
  logveil stats [--brokers B] [--window 1h] [--dimension page] [--since 24h] [--json]  # read <prefix>.stats
  logveil stats [--brokers B] --serve 127.0.0.1:8080    # the statistics page, live, and /api/stats
  logveil create-topic [--brokers B] [--partitions N] TOPIC...  # create a raw input topic
  logveil fetch-geoip [--out FILE]                      # download a free country database (CC BY 4.0)
  logveil audit [FILE...] | --brokers B --topic T        # scan any output for identifiers; exit 1 if found
  logveil loggen [--lines N] [--format combined|json] > access.log
  logveil version

Run 'logveil <command> -h' for a command's flags.
`

// version is stamped at build time: -ldflags "-X main.version=..."
var version = "dev"

func main() {
	// Installed as "anonip" (a link to this binary), it is anonip.
	if name := filepath.Base(os.Args[0]); name == "anonip" || name == "anonip.py" {
		os.Exit(cmdAnonip(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var code int
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "anonymize":
		code = cmdAnonymize(args, os.Stdin, os.Stdout, os.Stderr)
	case "anonip":
		code = cmdAnonip(args, os.Stdin, os.Stdout, os.Stderr)
	case "demo":
		code = cmdDemo(args, os.Stdout, os.Stderr)
	case "run":
		code = cmdRun(args, os.Stderr)
	case "check-config":
		code = cmdCheckConfig(args, os.Stdout, os.Stderr)
	case "create-topic":
		code = cmdCreateTopic(args, os.Stdout, os.Stderr)
	case "aggregate":
		code = cmdAggregate(args, os.Stdin, os.Stdout, os.Stderr)
	case "stats":
		code = cmdStats(args, os.Stdout, os.Stderr)
	case "audit":
		code = cmdAudit(args, os.Stdin, os.Stdout, os.Stderr)
	case "fetch-geoip":
		code = cmdFetchGeoIP(args, os.Stdout, os.Stderr)
	case "loggen":
		code = cmdLoggen(args, os.Stdout, os.Stderr)
	case "version", "--version", "-version":
		fmt.Println("logveil", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "logveil: unknown command %q\n\n%s", cmd, usage)
		code = 2
	}
	os.Exit(code)
}
