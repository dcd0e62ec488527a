// Command zabsim runs ZooKeeper start-up scenarios in a deterministic simulator and checks them.
//
//	zabsim list                         the scenario catalogue
//	zabsim run -scenario NAME -seed N   one run, its report and (with -timeline) its timeline
//	zabsim sweep                        every scenario x many seeds on all cores, with a summary
//	zabsim replay FILE                  a saved run file, compared with what it recorded
//
// Exit status: 0 nothing broke, 1 an invariant broke or a scenario missed its expected outcome,
// 2 bad input.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes: one table for every command.
const (
	exitOK        = 0
	exitViolation = 1
	exitBadInput  = 2
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

exit status: 0 clean, 1 invariant violated or expectation missed, 2 bad input
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
		code, err = cmdRun(args[1:], stdout)
	case "sweep":
		code, err = cmdSweep(args[1:], stdout, stderr)
	case "replay":
		code, err = cmdReplay(args[1:], stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = badInput("unknown command %q", args[0])
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "zabsim: %s\n", strings.TrimSpace(err.Error()))
			return exitBadInput
		}
		fmt.Fprintf(stderr, "zabsim: %v\n", err)
		return exitBadInput
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
