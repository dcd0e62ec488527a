package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"zabsim/scenarios"
)

func cmdList(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args, stdout, "list [-json]")
	if err != nil {
		return 0, err
	}
	if len(pos) > 0 {
		return 0, badInput("list: takes no arguments, got %q", pos[0])
	}
	type entry struct {
		Name        string   `json:"name"`
		Family      string   `json:"family"`
		Knobs       []string `json:"knobs"`
		Description string   `json:"description"`
		Reference   string   `json:"reference"`
	}
	var list []entry
	for _, s := range scenarios.All() {
		k := s.Knobs
		if k == nil {
			k = []string{}
		}
		list = append(list, entry{s.Name, s.Family, k, s.Description, s.Reference})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return exitOK, enc.Encode(list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tFAMILY\tKNOBS\tDESCRIPTION")
	for _, e := range list {
		desc := e.Description
		if len(desc) > 90 {
			desc = desc[:87] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, e.Family, strings.Join(e.Knobs, ","), desc)
	}
	return exitOK, tw.Flush()
}
