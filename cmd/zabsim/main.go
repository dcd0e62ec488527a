// Command zabsim runs ZooKeeper start-up scenarios in a deterministic simulator and checks them.
//
//	zabsim list                         the scenario catalogue
//	zabsim run -scenario NAME -seed N   one run, its report and (with -timeline) its timeline
//	zabsim sweep                        every scenario x many seeds on all cores, with a summary
//	zabsim replay FILE                  a saved run file, compared with what it recorded
//	zabsim explore -scenario NAME       every run within a cost bound; the cheapest violation
//
// Exit status: 0 nothing broke, 1 an invariant broke or a scenario missed its expected outcome,
// 2 bad input, 3 internal error of the simulator, 4 a replay differs from its file, 130 interrupted.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"zabsim/checker"
)

// Exit codes: one table for every command.
const (
	exitOK        = 0
	exitViolation = 1
	exitBadInput  = 2
	exitInternal  = 3
	exitDiffers   = 4
	// exitInterrupted is the shell's 128+SIGINT, so scripts see a Ctrl-C as one.
	exitInterrupted = 130
)

// usageError is bad input: exit 2 with the message.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func badInput(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

const usage = `usage: zabsim <command> [flags]

commands:
  list                               list the scenarios (-json for machine-readable)
  run -scenario NAME [-seed N]       run one scenario; -json, -timeline, -knob NAME, -save FILE,
                                     -html FILE (a page drawing the run)
  sweep [-seeds N] [-scenario NAME]  run every scenario with N seeds on all cores; -json, -knob NAME,
                                     -out DIR, -workers N, -master-seed N, -stop-at-first
  replay FILE                        replay a run file; -json, -timeline, -update (re-record it),
                                     -by-seed (ignore recorded decisions),
                                     -html FILE

  merge FILE...                      combine the -result files of a sharded sweep
  explore -scenario NAME | -file RUN every run within a bound: -cost C, -crashes K, -write-faults W,
                                     -search bfs|cost, -knob NAME, -workers N, -json; the cheapest
                                     violation is saved as a run file
  conform -scenario NAME | -file RUN run it on a real ZooKeeper ensemble on 127.0.0.1 and in the
                                     simulator, and show both outcomes side by side; -json,
                                     -seeds N, -runs N, -keep, -check (only say if it can run)

"zabsim <command> -h" lists every flag of a command. Flags may come before or after file names.

exit status: 0 clean, 1 invariant violated or expectation missed, 2 bad input,
             3 internal error of the simulator, 4 replay differs, 130 interrupted
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command line, testable: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadInput
	}
	var code int
	var err error
	switch args[0] {
	case "list":
		code, err = cmdList(args[1:], stdout)
	case "run":
		code, err = cmdRun(args[1:], stdout, stderr)
	case "sweep":
		code, err = cmdSweep(args[1:], stdout, stderr)
	case "replay":
		code, err = cmdReplay(args[1:], stdout)
	case "merge":
		code, err = cmdMerge(args[1:], stdout)
	case "explore":
		code, err = cmdExplore(args[1:], stdout, stderr)
	case "conform":
		code, err = cmdConform(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = badInput("unknown command %q", args[0])
	}
	if err != nil {
		return exitFor(err, stderr)
	}
	return code
}

// knobList is a repeatable -knob flag.
type knobList []string

func (k *knobList) String() string { return strings.Join(*k, ",") }

func (k *knobList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*k = append(*k, part)
		}
	}
	return nil
}

// errHelpShown ends a command after -h printed its usage: exit 0, nothing else to say.
var errHelpShown = errors.New("help shown")

// parseFlags parses args with fs, letting flags come after positional arguments too
// ("replay FILE -json"), which the flag package alone stops at. "--" ends the flags. -h prints
// the command's usage with every flag to stdout and returns errHelpShown.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer, synopsis string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "usage: zabsim %s\n\nflags:\n", synopsis)
				fs.SetOutput(stdout)
				fs.PrintDefaults()
				return nil, errHelpShown
			}
			return nil, badInput("%s: %v (see zabsim %s -h)", fs.Name(), err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first non-flag, or just after "--", which ends the flags.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// capLines keeps a message to n lines: a run file with 1000 servers has 1000 problems, and the
// first few say what is wrong.
func capLines(msg string, n int) string {
	lines := strings.Split(msg, "\n")
	if len(lines) <= n {
		return msg
	}
	return strings.Join(lines[:n-1], "\n") + fmt.Sprintf("\n... and %d more problems", len(lines)-n+1)
}

// exitFor prints err and returns its exit status: 0 after -h, 3 for a broken assumption inside
// the simulator (not the user's fault, so not 2), 2 for everything the input caused.
func exitFor(err error, stderr io.Writer) int {
	if errors.Is(err, errHelpShown) {
		return exitOK
	}
	var pe *checker.PanicError
	if errors.As(err, &pe) {
		// Not the user's fault: a broken assumption inside zabsim. Say so, distinctly.
		fmt.Fprintf(stderr, "zabsim: internal error: %v\n"+
			"hint: this is a bug in zabsim, not in the input; please report it with the command line above"+
			" (the run replays from its seed)\n", err)
		return exitInternal
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "zabsim: %s\n", capLines(strings.TrimSpace(err.Error()), 12))
		return exitBadInput
	}
	fmt.Fprintf(stderr, "zabsim: %v\n", err)
	return exitBadInput
}
