package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/logveil/logveil/transforms"
)

// anonipVersion is the anonip release whose flags and output `logveil
// anonip` reproduces.
const anonipVersion = "1.1.0"

const anonipUsage = `usage: logveil anonip [-h] [-4 INTEGER] [-6 INTEGER] [-i INTEGER] [-o FILE] [--input FILE]
                      [-c INTEGER [INTEGER ...]] [-l STRING] [--regex STRING [STRING ...]] [-r STRING] [-p] [-d] [-v]

A drop-in for anonip ` + anonipVersion + ` (also when this binary is run as "anonip"): the same flags and
the same output. It truncates the address in the chosen columns and leaves the rest of each line as
it is, exactly as anonip does; it does not scrub paths, queries or user agents, and writes no
events. For default-deny anonymization of the whole line use: logveil anonymize --output combined.

options:
  -h, --help            show this help message and exit
  -4, --ipv4mask INTEGER
                        truncate the last n bits (default: 12)
  -6, --ipv6mask INTEGER
                        truncate the last n bits (default: 84)
  -i, --increment INTEGER
                        increment the IP address by n (default: 0)
  -o, --output FILE     file to write to (appended to)
  --input FILE          File or FIFO to read from (default: stdin)
  -c, --column INTEGER [INTEGER ...]
                        assume IP address is in column n (1-based indexed; default: 1)
  -l, --delimiter STRING
                        log delimiter (default: " ")
  --regex STRING [STRING ...]
                        regex for detecting IP addresses (use optionally instead of -c);
                        RE2 syntax (Go's regexp): no lookaround or backreferences
  -r, --replace STRING  replacement string in case address parsing fails (Example: 0.0.0.0)
  -p, --skip-private    do not mask addresses in private ranges. See IANA Special-Purpose
                        Address Registry.
  -d, --debug           print debug messages (counts only: no line is ever printed)
  -v, --version         show program's version number and exit

Example-usage in apache-config:
CustomLog "| /path/to/logveil anonip [OPTIONS] --output /path/to/log" combined
`

// anonipArgs are anonip's parsed flags.
type anonipArgs struct {
	a             transforms.Anonip
	output, input string
	debug         bool
}

type anonipOption struct {
	long, short string
	nargs       int
}

// anonipOptions: anonip's options, long name -> short, and how many values
// each takes (-1: one or more).
var anonipOptions = []anonipOption{
	{"--ipv4mask", "-4", 1}, {"--ipv6mask", "-6", 1}, {"--increment", "-i", 1}, {"--output", "-o", 1},
	{"--input", "", 1}, {"--column", "-c", -1}, {"--delimiter", "-l", 1}, {"--regex", "", -1},
	{"--replace", "-r", 1}, {"--skip-private", "-p", 0}, {"--debug", "-d", 0}, {"--version", "-v", 0},
	{"--help", "-h", 0},
}

var errAnonipHelp, errAnonipVersion = errors.New("help"), errors.New("version")

// parseAnonipArgs reads anonip's command line as Python's argparse does:
// "-4 12", "-412", "--ipv4mask=12", "--ipv4mask 12", unique prefixes of
// long options ("--ipv4"), and lists for -c and --regex.
func parseAnonipArgs(args []string) (*anonipArgs, error) {
	var (
		v4, v6      = 12, 84
		columns     []int
		delim       *string
		regexes     []string
		replace     *string
		inc         = new(big.Int)
		out         = &anonipArgs{}
		skipPrivate bool
	)
	for i := 0; i < len(args); i++ {
		arg := args[i]
		// anonip has options that look like negative numbers (-4, -6), so
		// argparse reads every "-…" as an option.
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			return nil, fmt.Errorf("unrecognized arguments: %s", strings.Join(args[i:], " "))
		}
		name, value, hasValue := arg, "", false
		opt := -1
		if strings.HasPrefix(arg, "--") {
			if j := strings.IndexByte(arg, '='); j >= 0 {
				name, value, hasValue = arg[:j], arg[j+1:], true
			}
			var matches []string
			for k, o := range anonipOptions {
				if o.long == name {
					opt, matches = k, nil
					break
				}
				if strings.HasPrefix(o.long, name) {
					opt = k
					matches = append(matches, o.long)
				}
			}
			if len(matches) > 1 {
				return nil, fmt.Errorf("ambiguous option: %s could match %s", name, strings.Join(matches, ", "))
			}
		} else {
			name = arg[:2]
			if len(arg) > 2 {
				value, hasValue = arg[2:], true
			}
			for k, o := range anonipOptions {
				if o.short == name {
					opt = k
				}
			}
		}
		if opt < 0 {
			return nil, fmt.Errorf("unrecognized arguments: %s", arg)
		}
		o := anonipOptions[opt]
		var values []string
		switch {
		case o.nargs == 0 && hasValue && strings.HasPrefix(arg, "--"):
			return nil, fmt.Errorf("argument %s: ignored explicit argument '%s'", o.display(), value)
		case o.nargs == 0 && hasValue:
			// "-pd": flags together; the rest is read as more options.
			args = append(args[:i+1], append([]string{"-" + value}, args[i+1:]...)...)
		case o.nargs != 0 && hasValue:
			values = []string{value}
		}
		if o.nargs != 0 {
			for o.nargs == -1 || len(values) < o.nargs {
				if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") && args[i+1] != "-" {
					break
				}
				i++
				values = append(values, args[i])
			}
			if len(values) == 0 {
				if o.nargs == -1 {
					return nil, fmt.Errorf("argument %s: expected at least one argument", o.display())
				}
				return nil, fmt.Errorf("argument %s: expected one argument", o.display())
			}
		}
		var err error
		switch o.long {
		case "--help":
			return nil, errAnonipHelp
		case "--version":
			return nil, errAnonipVersion
		case "--ipv4mask":
			v4, err = anonipMask(values[0], 32)
		case "--ipv6mask":
			v6, err = anonipMask(values[0], 128)
		case "--increment":
			var ok bool
			if inc, ok = new(big.Int).SetString(values[0], 10); !ok || inc.Sign() < 1 {
				err = errors.New("must be a positive integer")
			}
		case "--output":
			out.output = values[0]
		case "--input":
			out.input = values[0]
		case "--column":
			columns = columns[:0]
			for _, v := range values {
				n, e := strconv.Atoi(v)
				if e != nil || n < 1 {
					err = errors.New("must be a positive integer")
					break
				}
				columns = append(columns, n-1)
			}
		case "--delimiter":
			delim = &values[0]
		case "--regex":
			regexes = values
			for _, r := range values {
				if _, e := regexp.Compile(r); e != nil {
					err = fmt.Errorf("must be a valid regex. Error: %v", e)
				}
			}
		case "--replace":
			replace = &values[0]
		case "--skip-private":
			skipPrivate = true
		case "--debug":
			out.debug = true
		}
		if err != nil {
			return nil, fmt.Errorf("argument %s: %v", o.display(), err)
		}
	}
	if regexes != nil && (columns != nil || delim != nil) {
		return nil, errors.New(`Ambiguous arguments: When using "--regex", "-c" and "-l" can't be used.`)
	}
	a := &out.a
	a.V4Mask, a.V6Mask, a.Columns, a.SkipPrivate = v4, v6, columns, skipPrivate
	a.SetIncrement(inc)
	if delim != nil {
		a.Delimiter = []byte(*delim)
	}
	if replace != nil && *replace != "" {
		a.Replace = []byte(*replace)
	}
	if regexes != nil {
		a.Regex = regexp.MustCompile("^(?:" + strings.Join(regexes, "|") + ")")
	}
	return out, nil
}

func (o anonipOption) display() string {
	if o.short != "" {
		return o.short + "/" + o.long
	}
	return o.long
}

// anonipMask is anonip's _validate_ipmask: 1..bits.
func anonipMask(s string, bits int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > bits {
		return 0, fmt.Errorf("must be an integer between 1 and %d", bits)
	}
	return n, nil
}

// cmdAnonip is `logveil anonip`: anonip's filter with anonip's flags.
// Lines are written as they come (flushed whenever no more input is
// waiting), so a piped logger's lines reach the file at once; SIGINT and
// SIGTERM end it after the lines read are written.
func cmdAnonip(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	p, err := parseAnonipArgs(args)
	switch {
	case errors.Is(err, errAnonipHelp):
		fmt.Fprint(stdout, anonipUsage)
		return exitOK
	case errors.Is(err, errAnonipVersion):
		fmt.Fprintln(stdout, anonipVersion)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "%slogveil anonip: error: %v\n", anonipUsage[:strings.Index(anonipUsage, "\n\n")+1], err)
		return exitConfig
	}
	in := stdin
	if p.input != "" {
		f, err := os.Open(p.input)
		if err != nil {
			fmt.Fprintf(stderr, "logveil anonip: --input: %v\n", err)
			return exitIO
		}
		defer f.Close()
		in = f
	}
	out := stdout
	if p.output != "" {
		f, err := os.OpenFile(p.output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "logveil anonip: --output: %v\n", err)
			return exitIO
		}
		defer f.Close()
		out = f
	}
	var mu sync.Mutex // the writer: the loop, and a signal's final flush
	w := bufio.NewWriterSize(out, 64<<10)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			mu.Lock()
			w.Flush()
			os.Exit(exitOK)
		}
	}()
	r := bufio.NewReaderSize(in, 64<<10)
	var dst, long []byte
	var lines int64
	const maxLine = 64 << 20
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) <= maxLine {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			if len(long) > maxLine {
				mu.Lock()
				w.Flush()
				mu.Unlock()
				fmt.Fprintf(stderr, "logveil anonip: line %d is longer than %d MiB\n", lines+1, maxLine>>20)
				return exitIO
			}
			line = long
		}
		if len(line) > 0 {
			lines++
			mu.Lock()
			dst = p.a.AppendLine(dst[:0], line)
			dst = append(dst, '\n')
			_, werr := w.Write(dst)
			if werr == nil && r.Buffered() == 0 {
				werr = w.Flush()
			}
			mu.Unlock()
			if werr != nil {
				fmt.Fprintf(stderr, "logveil anonip: writing: %v\n", werr)
				return exitIO
			}
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(stderr, "logveil anonip: reading: %v\n", err)
				return exitIO
			}
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "logveil anonip: writing: %v\n", err)
		return exitIO
	}
	if p.debug {
		fmt.Fprintf(stderr, "DEBUG:anonip:%d lines\n", lines)
	}
	return exitOK
}
